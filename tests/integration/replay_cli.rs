//! `logrelay replay` end to end: the binary on the sample events in `events/`, checked against the decoded
//! payloads in `events/decoded/` (what the base64 + gzip holds).

use crate::common;

use base64::Engine;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Output;

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

fn replay(args: &[&str], files: &[PathBuf]) -> Output {
    common::bin::logrelay()
        .arg("replay")
        .args(args)
        .args(files)
        .env_remove("LOGRELAY_CONFIG_FILE")
        .env_remove("LOGRELAY_FILTER_PATTERN")
        .env_remove("LOGRELAY_KINESIS_STREAM_ARN")
        .env_remove("LOGRELAY_FORWARD_PATTERN")
        .output()
        .unwrap()
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    assert_eq!(s.as_object().unwrap().len(), 7, "summary keys: {s}");

    // cwl pass-through: every record is the payload's gzip, byte for byte, in input order.
    let records = sorted_files(&records_dir);
    assert_eq!(records.len(), DATA_EVENTS.len());
    for (path, name) in records.iter().zip(DATA_EVENTS) {
        assert_eq!(std::fs::read(path).unwrap(), gzip_bytes(name), "{name}");
    }

    // EMF lines: ErrorCount values add up to the error count, one dimension LogGroup.
    let emf = std::fs::read_to_string(&metrics_file).unwrap();
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
