//! `logrelay replay` end to end: the binary on the sample events in `events/`, checked against the decoded
//! payloads in `events/decoded/` (what the base64 + gzip holds).

use crate::common;

use base64::Engine;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DATA_EVENTS: &[&str] = &[
    "ecs-orders.json",
    "lambda-json.json",
    "beanstalk-access-log.json",
    "django.json",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn event(name: &str) -> PathBuf {
    root().join("events").join(name)
}

fn decoded(name: &str) -> Value {
    let text = std::fs::read_to_string(root().join("events/decoded").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn gzip_bytes(name: &str) -> Vec<u8> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(event(name)).unwrap()).unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(v["awslogs"]["data"].as_str().unwrap())
        .unwrap()
}

fn messages(name: &str) -> Vec<String> {
    decoded(name)["logEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect()
}

/// `logrelay replay ARGS FILES` with none of the `LOGRELAY_*` settings the flags stand for taken
/// from the environment.
fn replay_command(args: &[&str], files: &[PathBuf]) -> Command {
    let mut c = common::bin::logrelay();
    c.arg("replay")
        .args(args)
        .args(files)
        .env_remove("LOGRELAY_CONFIG_FILE")
        .env_remove("LOGRELAY_FILTER_PATTERN")
        .env_remove("LOGRELAY_KINESIS_STREAM_ARN")
        .env_remove("LOGRELAY_FORWARD_PATTERN");
    c
}

fn replay(args: &[&str], files: &[PathBuf]) -> Output {
    replay_command(args, files).output().unwrap()
}

fn summary(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one summary line expected, got {stdout:?}");
    serde_json::from_str(lines[0]).unwrap()
}

fn all_event_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = DATA_EVENTS.iter().map(|n| event(n)).collect();
    files.push(event("control-message.json"));
    files
}

fn sorted_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn replay_of_the_sample_events_counts_forwards_and_measures_everything() {
    let dir = tempfile::tempdir().unwrap();
    let records_dir = dir.path().join("records");
    let metrics_file = dir.path().join("metrics.emf");
    let out = replay(
        &[
            "--records-out",
            records_dir.to_str().unwrap(),
            "--metrics-out",
            metrics_file.to_str().unwrap(),
        ],
        &all_event_files(),
    );
    common::bin::assert_success(&out);
    let s = summary(&out);

    let events: usize = DATA_EVENTS.iter().map(|n| messages(n).len()).sum();
    let errors = DATA_EVENTS
        .iter()
        .flat_map(|n| messages(n))
        .filter(|m| m.contains("ERROR"))
        .count();
    let gzip_total: usize = DATA_EVENTS.iter().map(|n| gzip_bytes(n).len()).sum();
    assert_eq!(s["payloads"], 5);
    assert_eq!(s["control_messages"], 1);
    assert_eq!(s["events"], events);
    assert_eq!(s["forwarded_events"], events);
    assert_eq!(s["records"], DATA_EVENTS.len());
    assert_eq!(s["record_bytes"], gzip_total);
    assert_eq!(s["metrics"]["LogRelay"]["ErrorCount"], errors as f64);
    // One PutRecords call per payload (one record each); EMF instead of PutMetricData.
    assert_eq!(
        s["api_calls"],
        serde_json::json!({"PutRecords": DATA_EVENTS.len(), "PutMetricData": 0})
    );
    assert_eq!(s.as_object().unwrap().len(), 9, "summary keys: {s}");

    // cwl pass-through: every record is the payload's gzip, byte for byte, in input order.
    let records = sorted_files(&records_dir);
    assert_eq!(records.len(), DATA_EVENTS.len());
    for (path, name) in records.iter().zip(DATA_EVENTS) {
        assert_eq!(std::fs::read(path).unwrap(), gzip_bytes(name), "{name}");
    }

    // EMF lines: ErrorCount values add up to the error count, one dimension LogGroup.
    let emf = std::fs::read_to_string(&metrics_file).unwrap();
    assert_eq!(
        s["emf_bytes"],
        emf.len(),
        "emf_bytes counts the lines written"
    );
    let mut total = 0.0;
    for line in emf.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            serde_json::json!([["LogGroup"]])
        );
        total += match &v["ErrorCount"] {
            Value::Array(a) => a.iter().map(|x| x.as_f64().unwrap()).sum(),
            x => x.as_f64().unwrap(),
        };
    }
    assert_eq!(total, errors as f64);
}

#[test]
fn ndjson_records_hold_every_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = replay(
        &[
            "--forward-format",
            "ndjson",
            "--records-out",
            dir.path().to_str().unwrap(),
        ],
        &all_event_files(),
    );
    common::bin::assert_success(&out);
    let s = summary(&out);
    let mut lines = Vec::new();
    for path in sorted_files(dir.path()) {
        let mut text = String::new();
        std::fs::File::open(&path)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        for line in text.lines() {
            lines.push(serde_json::from_str::<Value>(line).unwrap());
        }
    }
    assert_eq!(s["records"], sorted_files(dir.path()).len());
    let want: Vec<(String, String)> = DATA_EVENTS
        .iter()
        .flat_map(|n| {
            let d = decoded(n);
            d["logEvents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        d["logGroup"].as_str().unwrap().to_string(),
                        e["message"].as_str().unwrap().to_string(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let got: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            (
                l["logGroup"].as_str().unwrap().to_string(),
                l["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert_eq!(lines[0]["owner"], "111122223333");
}

#[test]
fn a_json_filter_pattern_and_a_forward_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let out = replay(
        &[
            "--filter-pattern",
            "{ $.level = \"ERROR\" }",
            "--metric-name",
            "JsonErrors",
            "--forward-pattern",
            "?ERROR ?CRITICAL",
            "--records-out",
            dir.path().to_str().unwrap(),
        ],
        &all_event_files(),
    );
    common::bin::assert_success(&out);
    let s = summary(&out);
    let json_errors = messages("lambda-json.json")
        .iter()
        .filter(|m| {
            serde_json::from_str::<Value>(m)
                .map(|v| v["level"] == "ERROR")
                .unwrap_or(false)
        })
        .count();
    assert!(json_errors > 0);
    assert_eq!(s["metrics"]["LogRelay"]["JsonErrors"], json_errors as f64);
    let selected = DATA_EVENTS
        .iter()
        .flat_map(|n| messages(n))
        .filter(|m| m.contains("ERROR") || m.contains("CRITICAL"))
        .count();
    assert_eq!(s["forwarded_events"], selected);
    // Filtered payloads are re-encoded: the records decode to exactly the selected events.
    let mut forwarded = 0;
    for path in sorted_files(dir.path()) {
        let gz = std::fs::read(path).unwrap();
        let mut decoder = logrelay::payload::Decoder::default();
        let decoded = decoder.decode_gzip(&gz).unwrap();
        assert_eq!(decoded.data.message_type.as_str(), "DATA_MESSAGE");
        for e in &decoded.data.log_events {
            let m = e.message.text();
            assert!(m.contains("ERROR") || m.contains("CRITICAL"), "{m}");
            forwarded += 1;
        }
    }
    assert_eq!(forwarded, selected);
}

#[test]
fn a_metric_filter_file_with_dimensions_and_default_values() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("filters.json");
    std::fs::write(
        &config,
        r#"{"metricFilters":[
            {"filterName":"latency","filterPattern":"{ $.latency = * }","logGroupName":"/aws/lambda/checkout",
             "metricTransformations":[{"metricName":"Latency","metricNamespace":"Shop","metricValue":"$.latency",
               "unit":"Milliseconds","dimensions":{"Route":"$.route"}}]},
            {"filterName":"5xx","filterPattern":"[ip, ident, user, timestamp, request, status=5*, bytes, referrer, agent]",
             "logGroupNamePrefix":"/aws/elasticbeanstalk/",
             "metricTransformations":[{"metricName":"ServerErrors","metricNamespace":"Shop","metricValue":"1","defaultValue":0}]}
        ]}"#,
    )
    .unwrap();
    let out = replay(&["--config", config.to_str().unwrap()], &all_event_files());
    common::bin::assert_success(&out);
    let s = summary(&out);
    let latency: f64 = messages("lambda-json.json")
        .iter()
        .filter_map(|m| serde_json::from_str::<Value>(m).ok())
        .filter_map(|v| v["latency"].as_f64())
        .sum();
    assert_eq!(s["metrics"]["Shop"]["Latency"], latency);
    let five_xx = messages("beanstalk-access-log.json")
        .iter()
        .filter(|m| m.contains("\" 5"))
        .count();
    assert_eq!(s["metrics"]["Shop"]["ServerErrors"], five_xx as f64);
    // The file replaces the simple ERROR filter.
    assert!(s["metrics"].get("LogRelay").is_none(), "{s}");
}

#[test]
fn a_metric_filter_file_replaces_the_simple_filter_as_in_lambda() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("filters.json");
    std::fs::write(
        &config,
        r#"[{"filterName":"orders","filterPattern":"ERROR","logGroupName":"/ecs/orders",
             "metricTransformations":[{"metricName":"OrderErrors","metricNamespace":"Shop","metricValue":"1"}]}]"#,
    )
    .unwrap();
    let out = replay(
        &[
            "--config",
            config.to_str().unwrap(),
            "--filter-pattern",
            "WARN",
        ],
        &all_event_files(),
    );
    common::bin::assert_success(&out);
    // As LOGRELAY_CONFIG_FILE with LOGRELAY_FILTER_PATTERN in Lambda: only the file's filters run,
    // and the flag that does nothing is named.
    let s = summary(&out);
    assert!(s["metrics"].get("LogRelay").is_none(), "{s}");
    assert!(
        s["metrics"]["Shop"]["OrderErrors"].as_f64().unwrap() > 0.0,
        "{s}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--filter-pattern is ignored"), "{stderr}");
}

#[test]
fn an_undecodable_file_is_named_and_fails_the_run_after_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"awslogs":{"data":"not base64 at all!"}}"#).unwrap();
    let files = vec![event("ecs-orders.json"), bad.clone(), event("django.json")];
    let out = replay(&[], &files);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.json"), "{stderr}");
    let s = summary(&out);
    assert_eq!(s["payloads"], 2);
    assert_eq!(
        s["events"],
        messages("ecs-orders.json").len() + messages("django.json").len()
    );
}

#[test]
fn an_invalid_pattern_is_a_usage_error_with_the_column() {
    let out = replay(&["--filter-pattern", "[a, b"], &[event("ecs-orders.json")]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("column"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_bad_flag_value_is_reported_under_the_flag_and_a_bad_variable_under_the_variable() {
    // The flags stand in for LOGRELAY_* variables; the error names what the user gave.
    for (args, flag, var) in [
        (
            ["--filter-pattern", "{ $.a = "],
            "(--filter-pattern)",
            "LOGRELAY_FILTER_PATTERN",
        ),
        (
            ["--forward-pattern", "[a"],
            "(--forward-pattern)",
            "LOGRELAY_FORWARD_PATTERN",
        ),
        (
            ["--kinesis-stream-arn", "arn:aws:kinesis:us-east-1:1:bad"],
            "--kinesis-stream-arn=\"arn:aws:kinesis:us-east-1:1:bad\"",
            "LOGRELAY_KINESIS_STREAM_ARN",
        ),
        (
            ["--max-decompressed-bytes", "0"],
            "--max-decompressed-bytes=\"0\": must be greater than 0",
            "LOGRELAY_MAX_DECOMPRESSED_BYTES",
        ),
    ] {
        let out = replay(&args, &[event("ecs-orders.json")]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
        assert!(!stderr.contains(var), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty());
    }
    // The same value from the environment is reported under the variable.
    let out = replay_command(&[], &[event("ecs-orders.json")])
        .env("LOGRELAY_FILTER_PATTERN", "{ $.a = ")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("(LOGRELAY_FILTER_PATTERN)"), "{stderr}");
}

/// Every EMF datapoint of `metric` in `file`: (timestamp of the minute, value, dimension values
/// by name), in file order.
fn emf_points(file: &Path, metric: &str) -> Vec<(i64, f64, serde_json::Map<String, Value>)> {
    let mut out = Vec::new();
    for line in std::fs::read_to_string(file).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let Some(values) = v.get(metric) else {
            continue;
        };
        let ts = v["_aws"]["Timestamp"].as_i64().unwrap();
        let mut dims = serde_json::Map::new();
        for name in v["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]
            .as_array()
            .unwrap()
        {
            let name = name.as_str().unwrap();
            dims.insert(name.to_owned(), v[name].clone());
        }
        let values = match values {
            Value::Array(a) => a.iter().map(|x| x.as_f64().unwrap()).collect(),
            x => vec![x.as_f64().unwrap()],
        };
        for value in values {
            out.push((ts, value, dims.clone()));
        }
    }
    out
}

fn timestamps(name: &str) -> Vec<i64> {
    decoded(name)["logEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["timestamp"].as_i64().unwrap())
        .collect()
}

#[test]
fn combined_access_logs_with_a_seven_field_pattern() {
    // Combined-format lines carry two fields more than the common log format; a seven-field
    // pattern still matches them (its last field, `bytes`, takes the rest of the line), as in
    // CloudWatch. A line with fewer fields does not match.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("filters.json");
    let metrics_file = dir.path().join("metrics.emf");
    std::fs::write(
        &config,
        r#"{"metricFilters":[
            {"filterName":"5xx","filterPattern":"[ip, identity, user, timestamp, request, status_code = 5*, bytes]",
             "logGroupName":"/aws/elasticbeanstalk/shop-web/var/log/nginx/access.log",
             "metricTransformations":[{"metricName":"ServerErrors","metricNamespace":"Shop","metricValue":"1","defaultValue":0}]},
            {"filterName":"bytes","filterPattern":"[ip, identity, user, timestamp, request, status_code, bytes, referrer, agent]",
             "logGroupName":"/aws/elasticbeanstalk/shop-web/var/log/nginx/access.log",
             "metricTransformations":[{"metricName":"BytesSent","metricNamespace":"Shop","metricValue":"$bytes"}]}
        ]}"#,
    )
    .unwrap();
    let out = replay(
        &[
            "--config",
            config.to_str().unwrap(),
            "--metrics-out",
            metrics_file.to_str().unwrap(),
        ],
        &[event("combined-access-log.json")],
    );
    common::bin::assert_success(&out);
    let s = summary(&out);
    let msgs = messages("combined-access-log.json");
    // Access-log lines have seven fields (common format) or nine (combined: they end with the
    // quoted user agent); the last line of the fixture is free text of three words.
    let fields = |m: &str| match (m.starts_with("10."), m.ends_with('"')) {
        (true, true) => 9,
        (true, false) => 7,
        _ => 3,
    };
    let status = |m: &str| m.split(' ').nth(8).map(str::to_owned);
    let five_xx: Vec<bool> = msgs
        .iter()
        .map(|m| fields(m) >= 7 && status(m).is_some_and(|s| s.starts_with('5')))
        .collect();
    assert_eq!(five_xx.iter().filter(|x| **x).count(), 3);
    assert_eq!(s["metrics"]["Shop"]["ServerErrors"], 3.0);
    // BytesSent: the lines with all nine fields.
    let bytes: f64 = msgs
        .iter()
        .filter(|m| fields(m) == 9)
        .map(|m| m.split(' ').nth(9).unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(s["metrics"]["Shop"]["BytesSent"], bytes);
    assert_eq!(bytes, 2326.0 + 173.0 + 88.0);

    // The default value is published once for each event that does not match, also in a minute
    // with matches; every datapoint falls in the minute of its event's timestamp.
    let minute = |ts: i64| ts - ts.rem_euclid(60_000);
    let mut want: Vec<(i64, f64)> = timestamps("combined-access-log.json")
        .into_iter()
        .zip(&five_xx)
        .map(|(ts, hit)| (minute(ts), if *hit { 1.0 } else { 0.0 }))
        .collect();
    let mut got: Vec<(i64, f64)> = emf_points(&metrics_file, "ServerErrors")
        .into_iter()
        .map(|(ts, v, _)| (ts, v))
        .collect();
    want.sort_by(|a, b| a.partial_cmp(b).unwrap());
    got.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(got, want);
    assert_eq!(
        got.iter()
            .map(|(ts, _)| *ts)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        2,
        "two minutes: {got:?}"
    );
}

#[test]
fn json_wildcards_over_arrays_and_metric_values() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("filters.json");
    let metrics_file = dir.path().join("metrics.emf");
    std::fs::write(
        &config,
        r#"{"metricFilters":[
            {"filterName":"big-line","filterPattern":"{ $.items[*].qty > 3 }","logGroupName":"/aws/lambda/orders",
             "metricTransformations":[{"metricName":"BigLines","metricNamespace":"Orders","metricValue":"1",
               "dimensions":{"Team":"$.labels.team"}}]},
            {"filterName":"a1-and-5","filterPattern":"{ $.items[*].sku = \"A-1\" && $.items[*].qty = 5 }","logGroupName":"/aws/lambda/orders",
             "metricTransformations":[{"metricName":"A1AndFive","metricNamespace":"Orders","metricValue":"1"}]},
            {"filterName":"gold","filterPattern":"{ $.labels.* = \"gold\" }","logGroupName":"/aws/lambda/orders",
             "metricTransformations":[{"metricName":"Gold","metricNamespace":"Orders","metricValue":"1"}]},
            {"filterName":"latency","filterPattern":"{ $.latency = * }","logGroupName":"/aws/lambda/orders",
             "metricTransformations":[{"metricName":"Latency","metricNamespace":"Orders","metricValue":"$.latency"}]}
        ]}"#,
    )
    .unwrap();
    let out = replay(
        &[
            "--config",
            config.to_str().unwrap(),
            "--metrics-out",
            metrics_file.to_str().unwrap(),
        ],
        &[event("json-arrays.json")],
    );
    common::bin::assert_success(&out);
    let s = summary(&out);
    let docs: Vec<Value> = messages("json-arrays.json")
        .iter()
        .map(|m| serde_json::from_str(m).unwrap())
        .collect();
    let items = |d: &Value| d["items"].as_array().cloned().unwrap_or_default();
    // Each wildcard condition is satisfied on its own, possibly by different elements.
    let a1_and_5 = docs
        .iter()
        .filter(|d| {
            items(d).iter().any(|i| i["sku"] == "A-1") && items(d).iter().any(|i| i["qty"] == 5)
        })
        .count();
    assert_eq!(a1_and_5, 1);
    assert_eq!(s["metrics"]["Orders"]["A1AndFive"], a1_and_5 as f64);
    let gold = docs
        .iter()
        .filter(|d| {
            d["labels"]
                .as_object()
                .is_some_and(|l| l.values().any(|v| v == "gold"))
        })
        .count();
    assert_eq!(gold, 2);
    assert_eq!(s["metrics"]["Orders"]["Gold"], gold as f64);
    // A match whose dimension field is missing publishes nothing: of the two orders with a line
    // of more than 3, only the one with a team is counted, under that team.
    let big: Vec<&Value> = docs
        .iter()
        .filter(|d| {
            items(d)
                .iter()
                .any(|i| i["qty"].as_f64().is_some_and(|q| q > 3.0))
        })
        .collect();
    assert_eq!(big.len(), 2);
    let with_team: Vec<&Value> = big
        .iter()
        .copied()
        .filter(|d| d["labels"]["team"].is_string())
        .collect();
    assert_eq!(with_team.len(), 1);
    assert_eq!(s["metrics"]["Orders"]["BigLines"], 1.0);
    let points = emf_points(&metrics_file, "BigLines");
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].2["Team"], with_team[0]["labels"]["team"]);
    // A latency given as a JSON string holding a number publishes that number; "fast" publishes
    // nothing.
    let mut latencies: Vec<f64> = emf_points(&metrics_file, "Latency")
        .into_iter()
        .map(|(_, v, _)| v)
        .collect();
    latencies.sort_by(f64::total_cmp);
    assert_eq!(latencies, vec![11.5, 20.0]);
}

#[test]
fn check_config_reports_the_partition_key_and_names_a_bad_one() {
    let run = |key: &str| {
        common::bin::logrelay()
            .args(["check-config", "--no-clients"])
            .env(
                "LOGRELAY_KINESIS_STREAM_ARN",
                "arn:aws:kinesis:us-east-1:123456789012:stream/central",
            )
            .env("LOGRELAY_PARTITION_KEY", key)
            .env_remove("LOGRELAY_CONFIG_FILE")
            .output()
            .unwrap()
    };
    let out = run("event-id");
    common::bin::assert_success(&out);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["forward"]["partitionKey"], "event-id");
    assert_eq!(report["metrics"], "emf", "EMF is the default");

    let out = run("shard");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("LOGRELAY_PARTITION_KEY=\"shard\"") && err.contains("stream or event-id"),
        "{err}"
    );
}
