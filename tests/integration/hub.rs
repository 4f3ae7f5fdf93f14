//! Hub mode: the function on the central Kinesis stream. `replay --mode hub` over the sample Kinesis
//! events in `events/kinesis/` (checked against `events/kinesis/decoded/`), and the retry semantics of a batch
//! through the library: a record that does not decode in the middle of a batch, a metrics failure,
//! and the event source mapping's retries, with the metric sums equal to the ground truth.

use crate::common;

use base64::Engine as _;
use logrelay::config::Config;
use logrelay::forward::AnyRecordSink;
use logrelay::metrics::{EmitReport, MetricBatch, MetricSink, MetricsError};
use logrelay::pipeline::{BatchReport, EventsRegion, Pipeline, Relay};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const KINESIS_EVENTS: &[&str] = &["kinesis/destination.json", "kinesis/logrelay.json"];

/// Per-account ErrorCount: the metric-filter file of the tests.
const FILTERS: &str = r#"[{"filterName":"errors","filterPattern":"ERROR","metricTransformations":[{"metricName":"ErrorCount","metricNamespace":"Hub","metricValue":"1","dimensions":{"Account":"@owner"}}]}]"#;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn event(name: &str) -> PathBuf {
    root().join("events").join(name)
}

/// (account, message) of every data event of a decoded Kinesis sample, in record order.
fn ground_truth(name: &str) -> Vec<(String, String)> {
    let (dir, file) = name.split_once('/').unwrap();
    let text = std::fs::read_to_string(root().join("events").join(dir).join("decoded").join(file))
        .unwrap();
    let records: Value = serde_json::from_str(&text).unwrap();
    let mut out = Vec::new();
    for r in records.as_array().unwrap() {
        match r["format"].as_str().unwrap() {
            "cwl" => {
                let d = &r["data"];
                if d["messageType"] == "DATA_MESSAGE" {
                    for e in d["logEvents"].as_array().unwrap() {
                        out.push((
                            d["owner"].as_str().unwrap().to_owned(),
                            e["message"].as_str().unwrap().to_owned(),
                        ));
                    }
                }
            }
            "ndjson" => {
                for l in r["lines"].as_array().unwrap() {
                    let line: Value = serde_json::from_str(l.as_str().unwrap()).unwrap();
                    out.push((
                        line["owner"].as_str().unwrap().to_owned(),
                        line["message"].as_str().unwrap().to_owned(),
                    ));
                }
            }
            other => panic!("unknown format {other}"),
        }
    }
    out
}

fn errors_per_account(events: &[(String, String)]) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    for (account, message) in events {
        if message.contains("ERROR") {
            *m.entry(account.clone()).or_insert(0.0) += 1.0;
        }
    }
    m
}

fn replay(args: &[&str], files: &[PathBuf]) -> Output {
    common::bin::logrelay()
        .arg("replay")
        .args(args)
        .args(files)
        .env_remove("LOGRELAY_MODE")
        .env_remove("LOGRELAY_CONFIG_FILE")
        .env_remove("LOGRELAY_FILTER_PATTERN")
        .env_remove("LOGRELAY_KINESIS_STREAM_ARN")
        .env_remove("LOGRELAY_FORWARD_PATTERN")
        .output()
        .unwrap()
}

/// Sums of the EMF lines of `ErrorCount` by their `Account` dimension.
fn emf_sums_per_account(emf: &str) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    for line in emf.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let value = match &v["ErrorCount"] {
            Value::Array(a) => a.iter().map(|x| x.as_f64().unwrap()).sum(),
            x => x.as_f64().unwrap(),
        };
        *m.entry(v["Account"].as_str().unwrap().to_owned())
            .or_insert(0.0) += value;
    }
    m
}

#[test]
fn replay_of_kinesis_events_counts_every_account_once() {
    let dir = tempfile::tempdir().unwrap();
    let filters = dir.path().join("filters.json");
    std::fs::write(&filters, FILTERS).unwrap();
    let emf = dir.path().join("metrics.emf");
    let files: Vec<PathBuf> = KINESIS_EVENTS.iter().map(|n| event(n)).collect();
    let out = replay(
        &[
            "--mode",
            "hub",
            "--config",
            filters.to_str().unwrap(),
            "--metrics-out",
            emf.to_str().unwrap(),
        ],
        &files,
    );
    common::bin::assert_success(&out);
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    let truth: Vec<(String, String)> = KINESIS_EVENTS
        .iter()
        .flat_map(|n| ground_truth(n))
        .collect();
    let want = errors_per_account(&truth);
    assert_eq!(want.len(), 3, "the samples hold three accounts");
    assert_eq!(s["kinesis_records"], 8);
    assert_eq!(s["payloads"], 8);
    assert_eq!(s["control_messages"], 1);
    assert_eq!(s["events"], truth.len());
    assert_eq!(s["records"], 0, "the hub forwards nothing");
    assert!(s.get("failed_records").is_none(), "{s}");
    assert_eq!(
        s["metrics"]["Hub"]["ErrorCount"],
        want.values().sum::<f64>()
    );
    let got = emf_sums_per_account(&std::fs::read_to_string(&emf).unwrap());
    assert_eq!(got, want);
}

#[test]
fn kinesis_events_need_hub_mode_and_the_hub_forwards_nothing() {
    let kinesis = event("kinesis/destination.json");
    let subscription = event("ecs-orders.json");
    let out = replay(&[], std::slice::from_ref(&kinesis));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("destination.json") && err.contains("awslogs"),
        "{err}"
    );

    let out = replay(&["--mode", "hub"], std::slice::from_ref(&subscription));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ecs-orders.json") && err.contains("Records"),
        "{err}"
    );

    let out = replay(
        &[
            "--mode",
            "hub",
            "--kinesis-stream-arn",
            "arn:aws:kinesis:eu-west-1:123456789012:stream/central-logs",
        ],
        std::slice::from_ref(&kinesis),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--kinesis-stream-arn") && err.contains("loop"),
        "{err}"
    );

    let out = replay(
        &["--mode", "hub", "--records-out", "x"],
        std::slice::from_ref(&kinesis),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("forwards nothing"));

    let out = replay(&["--mode", "central"], &[kinesis]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("source or hub"));
}

#[test]
fn replay_names_the_record_that_does_not_decode() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.json");
    let records: Vec<Vec<u8>> = vec![cwl("111122223333", 2, 1), b"not a payload".to_vec()];
    std::fs::write(&file, kinesis_event(&records, 0)).unwrap();
    let out = replay(&["--mode", "hub"], &[file]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.json: record 1 (sequence number 00000000000000000001)")
            && err.contains("neither gzip"),
        "{err}"
    );
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["failed_records"], 1);
    assert_eq!(s["events"], 3);
    assert_eq!(s["metrics"]["LogRelay"]["ErrorCount"], 2);
}

// The retry semantics, through the library.

/// A gzip subscription payload of `account` with `errors` ERROR events and `others` other events.
fn cwl(account: &str, errors: usize, others: usize) -> Vec<u8> {
    let events: Vec<common::FixtureEvent> = (0..errors + others)
        .map(|i| {
            let msg = if i < errors {
                format!("ERROR {account} {i}")
            } else {
                format!("INFO {account} {i}")
            };
            (format!("\"{i}\""), 1_700_000_000_000 + i as i64, msg)
        })
        .collect();
    let doc = common::payload_json(account, "/ecs/app", "s", &events);
    common::gzip(doc.as_bytes())
}

/// An ndjson record of `account` with `errors` ERROR lines.
fn ndjson(account: &str, errors: usize) -> Vec<u8> {
    (0..errors)
        .map(|i| {
            format!(
                "{{\"owner\":\"{account}\",\"logGroup\":\"/ecs/nd\",\"logStream\":\"s\",\"id\":{i},\"timestamp\":{},\"message\":\"ERROR nd {i}\",\"region\":\"eu-west-1\"}}\n",
                1_700_000_000_000u64 + i as u64
            )
        })
        .collect::<String>()
        .into_bytes()
}

/// A Kinesis Lambda event of `records`, sequence numbers from `first_seq`.
fn kinesis_event(records: &[Vec<u8>], first_seq: usize) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let recs: Vec<Value> = records
        .iter()
        .enumerate()
        .map(|(i, data)| {
            serde_json::json!({
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "k",
                    "sequenceNumber": format!("{:020}", first_seq + i),
                    "data": b64.encode(data),
                    "approximateArrivalTimestamp": 1700000000.0
                },
                "eventSource": "aws:kinesis",
                "eventID": format!("shardId-000000000000:{:020}", first_seq + i)
            })
        })
        .collect();
    serde_json::json!({ "Records": recs }).to_string()
}

/// A metric sink that keeps what it is given and fails the next `fail` emits, having published
/// `delivered` of the datums (none by default).
#[derive(Default)]
struct Recording {
    published: Mutex<MetricBatch>,
    fail: AtomicUsize,
    delivered: usize,
}

/// The relay's handle on a [`Recording`] the test keeps too.
struct Shared(Arc<Recording>);

impl MetricSink for Shared {
    async fn emit(
        &self,
        batch: &MetricBatch,
        _deadline: Option<std::time::Instant>,
    ) -> Result<EmitReport, MetricsError> {
        if self
            .0
            .fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(MetricsError::Put {
                namespace: "Hub".into(),
                delivered: self.0.delivered,
                total: batch.len(),
                message: "Throttling: Rate exceeded".into(),
            });
        }
        self.0.published.lock().unwrap().merge(batch.clone());
        Ok(EmitReport {
            datums: batch.len(),
            ..Default::default()
        })
    }
}

fn hub_relay(sink: Arc<Recording>, filters: &std::path::Path) -> Relay<AnyRecordSink, Shared> {
    let path = filters.to_str().unwrap().to_owned();
    let config = Config::from_lookup(|name| match name {
        "LOGRELAY_MODE" => Some("hub".into()),
        "LOGRELAY_CONFIG_FILE" => Some(path.clone()),
        _ => None,
    })
    .unwrap();
    let pipeline = Pipeline::new(Arc::new(config), None, EventsRegion::Unknown).unwrap();
    Relay::new(pipeline, None, Shared(sink))
}

/// The event source mapping as the Lambda developer guide describes it, for one shard: invoke with
/// the records from the checkpoint; on a partial batch response resume at the lowest sequence
/// number reported; after `max_retries` retries of the same record, send it to the on-failure
/// destination and go on after it. Returns the records sent to the on-failure destination.
async fn run_mapping(
    relay: &Relay<AnyRecordSink, Shared>,
    records: &[Vec<u8>],
    batch_size: usize,
    max_retries: usize,
) -> (Vec<usize>, Vec<BatchReport>) {
    let mut checkpoint = 0;
    let mut retries = 0;
    let mut on_failure = Vec::new();
    let mut reports = Vec::new();
    while checkpoint < records.len() {
        let end = (checkpoint + batch_size).min(records.len());
        let event = kinesis_event(&records[checkpoint..end], checkpoint);
        let report = relay
            .handle_kinesis_event(event.as_bytes(), None)
            .await
            .unwrap();
        let lowest = report
            .batch_item_failures
            .iter()
            .map(|s| s.parse::<usize>().unwrap())
            .min();
        match lowest {
            None => {
                checkpoint = end;
                retries = 0;
            }
            Some(seq) if seq == checkpoint && retries >= max_retries => {
                on_failure.push(seq);
                checkpoint = seq + 1;
                retries = 0;
            }
            Some(seq) => {
                retries = if seq == checkpoint { retries + 1 } else { 0 };
                checkpoint = seq;
            }
        }
        reports.push(report);
    }
    (on_failure, reports)
}

fn published_per_account(sink: &Recording) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    for (key, values) in sink.published.lock().unwrap().sorted() {
        *m.entry(key.dimensions[0].1.clone()).or_insert(0.0) += values.sum();
    }
    m
}

#[tokio::test]
async fn a_failure_in_the_middle_of_a_batch_counts_no_record_twice_and_skips_none_silently() {
    let dir = tempfile::tempdir().unwrap();
    let filters = dir.path().join("filters.json");
    std::fs::write(&filters, FILTERS).unwrap();
    let (a, b, c) = ("111122223333", "444455556666", "777788889999");
    let records = vec![
        cwl(a, 3, 2),
        ndjson(b, 4),
        cwl(c, 5, 0),
        b"\x1f\x8b not really gzip".to_vec(), // never decodes
        cwl(a, 7, 1),
        ndjson(c, 2),
        cwl(b, 1, 9),
    ];
    let sink = Arc::new(Recording::default());
    let relay = hub_relay(sink.clone(), &filters);

    // First invocation: the records before the bad one are counted, it and the rest reported.
    let event = kinesis_event(&records, 0);
    let first = relay
        .handle_kinesis_event(event.as_bytes(), None)
        .await
        .unwrap();
    assert_eq!(first.evaluated, 3);
    assert!(first.counted);
    assert_eq!(first.failure.as_ref().unwrap().index, 3);
    assert_eq!(
        first.batch_item_failures,
        [
            "00000000000000000003",
            "00000000000000000004",
            "00000000000000000005",
            "00000000000000000006"
        ]
    );
    let before: BTreeMap<String, f64> = [(a, 3.0), (b, 4.0), (c, 5.0)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(published_per_account(&sink), before);

    // The mapping's retries from the bad record on: it is retried, then sent to the on-failure
    // destination, and the shard goes on; every other record is counted exactly once.
    let sink = Arc::new(Recording::default());
    let relay = hub_relay(sink.clone(), &filters);
    let (on_failure, reports) = run_mapping(&relay, &records, 7, 2).await;
    assert_eq!(
        on_failure,
        [3],
        "the bad record's position reaches the on-failure destination"
    );
    // 1 partial batch, 2 retries of the bad record, the third failure sends it away, then the rest.
    assert_eq!(reports.len(), 5);
    let want: BTreeMap<String, f64> = [(a, 10.0), (b, 5.0), (c, 7.0)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(published_per_account(&sink), want);
}

#[tokio::test]
async fn a_metrics_failure_retries_the_whole_batch_having_counted_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let filters = dir.path().join("filters.json");
    std::fs::write(&filters, FILTERS).unwrap();
    let (a, b) = ("111122223333", "444455556666");
    let records = vec![cwl(a, 2, 1), ndjson(b, 3), cwl(b, 1, 0)];
    let sink = Arc::new(Recording {
        fail: AtomicUsize::new(1),
        ..Default::default()
    });
    let relay = hub_relay(sink.clone(), &filters);
    let event = kinesis_event(&records, 0);
    let failed = relay
        .handle_kinesis_event(event.as_bytes(), None)
        .await
        .unwrap();
    assert!(!failed.counted);
    assert!(failed
        .metrics_error
        .as_deref()
        .unwrap()
        .contains("Throttling"));
    assert_eq!(failed.batch_item_failures.len(), 3, "every record retried");
    assert_eq!(failed.batch_item_failures[0], "00000000000000000000");
    assert!(published_per_account(&sink).is_empty());

    let (on_failure, reports) = run_mapping(&relay, &records, 10, 2).await;
    assert!(on_failure.is_empty());
    assert_eq!(reports.len(), 1);
    let want: BTreeMap<String, f64> = [(a, 2.0), (b, 4.0)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    assert_eq!(published_per_account(&sink), want);
}

#[tokio::test]
async fn metrics_published_in_part_are_not_retried_which_would_count_them_twice() {
    let dir = tempfile::tempdir().unwrap();
    let filters = dir.path().join("filters.json");
    std::fs::write(&filters, FILTERS).unwrap();
    let records = vec![cwl("111122223333", 2, 0), cwl("444455556666", 1, 0)];
    let sink = Arc::new(Recording {
        fail: AtomicUsize::new(1),
        delivered: 1,
        ..Default::default()
    });
    let relay = hub_relay(sink.clone(), &filters);
    let event = kinesis_event(&records, 0);
    let report = relay
        .handle_kinesis_event(event.as_bytes(), None)
        .await
        .unwrap();
    assert!(
        report.counted,
        "part was published: the records count as done"
    );
    assert!(report.batch_item_failures.is_empty());
    assert!(report
        .metrics_error
        .as_deref()
        .unwrap()
        .contains("after 1 of"));
    assert_eq!(report.evaluated, 2);
}
