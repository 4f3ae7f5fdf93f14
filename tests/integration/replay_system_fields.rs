//! `logrelay replay` with CloudWatch's system fields: `emitSystemFieldDimensions` and
//! `fieldSelectionCriteria` over payloads of three accounts, some of whose events carry the
//! `extractedFields` of a subscription with `emitSystemFields`; the per-account sums must equal
//! what the generated events hold. And the events' `extractedFields` survive forwarding (`cwl`
//! and `ndjson`) unchanged.

use crate::common;

use base64::Engine;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ACCOUNTS: [&str; 3] = ["111111111111", "222222222222", "333333333333"];

/// One generated event: its account and Region as CloudWatch knows them, whether the
/// subscription emitted them (`extractedFields`), and its message.
struct Event {
    account: &'static str,
    region: &'static str,
    extracted: bool,
    message: String,
}

/// Events of the three accounts: account k logs `5 + k` lines, every third an ERROR. Account
/// 333… logs in eu-west-1 and its subscription emits the system fields; the others log in
/// us-east-1 (the replaying function's Region), the second with `extractedFields` on half its
/// events.
fn events() -> Vec<Vec<Event>> {
    ACCOUNTS
        .iter()
        .enumerate()
        .map(|(k, &account)| {
            (0..5 + k * 3)
                .map(|i| Event {
                    account,
                    region: if k == 2 { "eu-west-1" } else { "us-east-1" },
                    extracted: k == 2 || (k == 1 && i % 2 == 0),
                    message: if i % 3 == 0 {
                        format!("ERROR order {i} failed")
                    } else {
                        format!("INFO order {i} ok")
                    },
                })
                .collect()
        })
        .collect()
}

/// The payload document of one account's events (owner = the account, as CloudWatch Logs writes
/// it), with `extractedFields` written as a subscription with `emitSystemFields` writes them.
fn document(events: &[Event]) -> String {
    let log_events: Vec<String> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let extracted = if e.extracted {
                format!(
                    r#","extractedFields":{{"@aws.account":"{}","@aws.region":"{}"}}"#,
                    e.account, e.region
                )
            } else {
                String::new()
            };
            format!(
                r#"{{"id":"{i}","timestamp":{},"message":{}{extracted}}}"#,
                1_700_000_000_000i64 + i as i64,
                Value::from(e.message.as_str())
            )
        })
        .collect();
    format!(
        r#"{{"messageType":"DATA_MESSAGE","owner":"{}","logGroup":"/ecs/orders","logStream":"s","subscriptionFilters":["f"],"logEvents":[{}]}}"#,
        events[0].account,
        log_events.join(",")
    )
}

/// Writes one Lambda event file per account into `dir`.
fn event_files(dir: &Path) -> Vec<PathBuf> {
    events()
        .iter()
        .enumerate()
        .map(|(k, evs)| {
            let mut gz = Vec::new();
            logrelay::forward::cwl::gzip(document(evs).as_bytes(), 6, &mut gz);
            let body = serde_json::json!({"awslogs": {
                "data": base64::engine::general_purpose::STANDARD.encode(gz)}});
            let path = dir.join(format!("account-{k}.json"));
            std::fs::write(&path, body.to_string()).unwrap();
            path
        })
        .collect()
}

const FILTERS: &str = r#"{"metricFilters":[
    {"filterName":"errors-by-account","filterPattern":"ERROR",
     "emitSystemFieldDimensions":["@aws.account","@aws.region"],
     "metricTransformations":[{"metricName":"Errors","metricNamespace":"Org","metricValue":"1"}]},
    {"filterName":"errors-of-222","filterPattern":"ERROR",
     "fieldSelectionCriteria":"@aws.account = \"222222222222\"",
     "metricTransformations":[{"metricName":"Errors222","metricNamespace":"Org","metricValue":"1"}]},
    {"filterName":"errors-in","filterPattern":"ERROR",
     "fieldSelectionCriteria":"@aws.account IN [\"111111111111\", \"333333333333\"] AND @aws.region != \"ap-south-1\"",
     "metricTransformations":[{"metricName":"Errors111And333","metricNamespace":"Org","metricValue":"1"}]},
    {"filterName":"per-log-group","filterPattern":"INFO",
     "emitSystemFieldDimensions":["@source.log"],
     "metricTransformations":[{"metricName":"Infos","metricNamespace":"Org","metricValue":"1"}]},
    {"filterName":"absent-value","filterPattern":"[kind, order, n, outcome]",
     "metricTransformations":[{"metricName":"Absent","metricNamespace":"Org","metricValue":"$missing"}]}
]}"#;

fn replay_command(args: &[&str], files: &[PathBuf]) -> Command {
    let mut c = common::bin::logrelay();
    c.arg("replay")
        .args(args)
        .args(files)
        .env_remove("LOGRELAY_CONFIG_FILE")
        .env_remove("LOGRELAY_FILTER_PATTERN")
        .env_remove("LOGRELAY_KINESIS_STREAM_ARN")
        .env_remove("LOGRELAY_FORWARD_PATTERN")
        .env_remove("AWS_DEFAULT_REGION")
        .env_remove("AWS_PROFILE");
    c
}

fn summary(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout:?}"))
}

/// Sum of every EMF datapoint of `metric` in `file`, by its dimensions (name=value, sorted).
fn emf_sums(file: &Path, metric: &str) -> BTreeMap<Vec<String>, f64> {
    let mut out = BTreeMap::new();
    for line in std::fs::read_to_string(file).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let Some(values) = v.get(metric) else {
            continue;
        };
        let mut dims: Vec<String> = v["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                let n = n.as_str().unwrap();
                format!("{n}={}", v[n].as_str().unwrap())
            })
            .collect();
        dims.sort();
        let sum: f64 = match values {
            Value::Array(a) => a.iter().map(|x| x.as_f64().unwrap()).sum(),
            x => x.as_f64().unwrap(),
        };
        *out.entry(dims).or_default() += sum;
    }
    out
}

fn errors(evs: &[Event]) -> f64 {
    evs.iter()
        .filter(|e| e.message.starts_with("ERROR"))
        .count() as f64
}

/// Replays the generated event files through [`FILTERS`] with `AWS_REGION` set to `region` (or
/// unset); returns its output and the EMF file (kept with its directory).
fn replay_filters(region: Option<&str>) -> (tempfile::TempDir, Output, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let files = event_files(dir.path());
    let config = dir.path().join("filters.json");
    std::fs::write(&config, FILTERS).unwrap();
    let metrics = dir.path().join("metrics.emf");
    let mut command = replay_command(
        &[
            "--config",
            config.to_str().unwrap(),
            "--metrics-out",
            metrics.to_str().unwrap(),
        ],
        &files,
    );
    match region {
        Some(r) => command.env("AWS_REGION", r),
        None => command.env_remove("AWS_REGION"),
    };
    let out = command.output().unwrap();
    common::bin::assert_success(&out);
    (dir, out, metrics)
}

#[test]
fn per_account_sums_equal_the_generated_events() {
    // The source function's view: its own Region is that of the events without extractedFields.
    let (_dir, out, metrics) = replay_filters(Some("us-east-1"));
    let s = summary(&out);
    let evs = events();

    let mut want = BTreeMap::new();
    for account_events in &evs {
        let e = &account_events[0];
        want.insert(
            vec![
                format!("@aws.account={}", e.account),
                format!("@aws.region={}", e.region),
            ],
            errors(account_events),
        );
    }
    // Only the system-field series: no dimensionless one.
    assert_eq!(emf_sums(&metrics, "Errors"), want);
    assert_eq!(s["metrics"]["Org"]["Errors222"], errors(&evs[1]));
    assert_eq!(
        s["metrics"]["Org"]["Errors111And333"],
        errors(&evs[0]) + errors(&evs[2])
    );
    let infos: f64 = evs
        .iter()
        .flatten()
        .filter(|e| e.message.starts_with("INFO"))
        .count() as f64;
    assert_eq!(
        emf_sums(&metrics, "Infos"),
        BTreeMap::from([(vec!["@source.log=/ecs/orders".to_string()], infos)])
    );
    // Admitted at start-up, and publishes nothing.
    assert!(s["metrics"]["Org"].get("Absent").is_none(), "{s}");
}

#[test]
fn without_a_known_region_only_events_that_tell_it_are_counted() {
    let (_dir, out, metrics) = replay_filters(None);
    let s = summary(&out);
    let evs = events();
    let told = |evs: &[Event]| {
        evs.iter()
            .filter(|e| e.extracted && e.message.starts_with("ERROR"))
            .count() as f64
    };
    let mut want = BTreeMap::new();
    for account_events in &evs[1..] {
        let e = &account_events[0];
        want.insert(
            vec![
                format!("@aws.account={}", e.account),
                format!("@aws.region={}", e.region),
            ],
            told(account_events),
        );
    }
    assert_eq!(emf_sums(&metrics, "Errors"), want);
    // Needs only @aws.account, which the payload's owner gives.
    assert_eq!(s["metrics"]["Org"]["Errors222"], errors(&evs[1]));
    // Needs @aws.region too: only account 333's events tell it.
    assert_eq!(s["metrics"]["Org"]["Errors111And333"], told(&evs[2]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("need a system field") && stderr.contains("@aws.region"),
        "{stderr}"
    );
}

#[test]
fn extracted_fields_are_forwarded_unchanged_in_cwl_and_ndjson() {
    let dir = tempfile::tempdir().unwrap();
    let files = event_files(dir.path());
    let evs = events();
    for (format, forward_pattern) in [("cwl", None), ("cwl", Some("ERROR")), ("ndjson", None)] {
        let records = tempfile::tempdir().unwrap();
        let mut args = vec![
            "--forward-format",
            format,
            "--records-out",
            records.path().to_str().unwrap(),
        ];
        if let Some(p) = forward_pattern {
            args.extend(["--forward-pattern", p]);
        }
        let out = replay_command(&args, &files).output().unwrap();
        common::bin::assert_success(&out);
        let mut paths: Vec<PathBuf> = std::fs::read_dir(records.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        // (message, extractedFields JSON text) of every forwarded event.
        let mut got: Vec<(String, Option<String>)> = Vec::new();
        for path in paths {
            let data = std::fs::read(&path).unwrap();
            if format == "ndjson" {
                for line in std::str::from_utf8(&data).unwrap().lines() {
                    let v: Value = serde_json::from_str(line).unwrap();
                    got.push((
                        v["message"].as_str().unwrap().to_owned(),
                        v.get("extractedFields").map(Value::to_string),
                    ));
                }
            } else {
                let mut decoder = logrelay::payload::Decoder::default();
                let decoded = decoder.decode_gzip(&data).unwrap();
                for e in &decoded.data.log_events {
                    got.push((
                        e.message.text().into_owned(),
                        e.extracted_fields.as_ref().map(|x| x.raw_json().to_owned()),
                    ));
                }
            }
        }
        let want: Vec<(String, Option<String>)> = evs
            .iter()
            .flatten()
            .filter(|e| forward_pattern.is_none_or(|p| e.message.contains(p)))
            .map(|e| {
                (
                    e.message.clone(),
                    e.extracted.then(|| {
                        format!(
                            r#"{{"@aws.account":"{}","@aws.region":"{}"}}"#,
                            e.account, e.region
                        )
                    }),
                )
            })
            .collect();
        assert_eq!(got, want, "{format} {forward_pattern:?}");
    }
}

#[test]
fn check_config_shows_the_system_fields_and_names_a_bad_one_at_its_column() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("filters.json");
    std::fs::write(&config, FILTERS).unwrap();
    let out = common::bin::logrelay()
        .args(["check-config", "--config", config.to_str().unwrap()])
        .env_remove("LOGRELAY_CONFIG_FILE")
        .output()
        .unwrap();
    common::bin::assert_success(&out);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let filters = report["filters"].as_array().unwrap();
    assert_eq!(
        filters[0]["emitSystemFieldDimensions"],
        serde_json::json!(["@aws.account", "@aws.region"])
    );
    assert_eq!(
        filters[1]["fieldSelectionCriteria"],
        "@aws.account = \"222222222222\""
    );
    assert!(filters[1].get("emitSystemFieldDimensions").is_none());
    assert_eq!(filters[4]["metricValue"], "$missing");
    assert_eq!(filters[4]["metricValueAbsent"], true);

    std::fs::write(
        &config,
        FILTERS.replace("@aws.account IN", "@aws.acount IN"),
    )
    .unwrap();
    let out = common::bin::logrelay()
        .args(["check-config", "--config", config.to_str().unwrap()])
        .env_remove("LOGRELAY_CONFIG_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("\"errors-in\"")
            && stderr.contains("metricFilters[2]")
            && stderr.contains(
                "The supported system fields are - [@aws.region, @aws.account, @source.log]"
            )
            && stderr.contains("at column 1"),
        "{stderr}"
    );
    assert!(stderr.trim_end().ends_with("    ^^^^^^^^^^^"), "{stderr}");
}
