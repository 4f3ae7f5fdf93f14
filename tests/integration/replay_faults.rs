//! `logrelay replay` against endpoints that fail: the summary's `api_calls` counts every call made,
//! the failed ones and those of files that failed included.

use crate::common;

use common::fault_kinesis::{FaultConfig, FaultKinesis, RequestFault};
use std::path::PathBuf;

const ARN: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/faults";

/// Two event files of recent events (CloudWatch would take their datapoints).
fn event_files(dir: &std::path::Path) -> Vec<PathBuf> {
    common::recent_event_files(dir, &[20, 20])
}

fn failed_summary(out: &std::process::Output) -> serde_json::Value {
    assert!(
        !out.status.success(),
        "the files failed, so must the replay: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no summary ({e}): {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn failed_put_records_calls_are_counted() {
    // File 1: two retryable failures, then a non-retryable one (3 calls, given up); file 2: one
    // non-retryable failure. Nothing delivered, 4 calls made.
    let server = FaultKinesis::start(FaultConfig {
        request_faults: vec![
            RequestFault::ServerError(500),
            RequestFault::ServerError(503),
        ],
        default_fault: RequestFault::ClientError("ResourceNotFoundException"),
        ..FaultConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let out = common::bin::logrelay_against(&server.endpoint())
        .args(["replay", "--metrics", "off", "--kinesis-stream-arn", ARN])
        .args(event_files(dir.path()))
        .output()
        .unwrap();
    let summary = failed_summary(&out);
    assert_eq!(server.requests(), 4);
    assert_eq!(summary["api_calls"]["PutRecords"], 4, "{summary}");
    assert!(server.accepted().is_empty());
}

#[test]
fn failed_put_metric_data_calls_are_counted() {
    // Every request fails: each file's metrics stop at their first PutMetricData call.
    let server = FaultKinesis::start(FaultConfig {
        default_fault: RequestFault::ServerError(500),
        ..FaultConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let out = common::bin::logrelay_against(&server.endpoint())
        .args(["replay", "--metrics", "put"])
        .args(event_files(dir.path()))
        .output()
        .unwrap();
    let summary = failed_summary(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // One line per file: "<file>: metrics not emitted: <error>".
    assert_eq!(
        stderr.matches(".json: metrics not emitted: ").count(),
        2,
        "{stderr}"
    );
    assert_eq!(summary["api_calls"]["PutMetricData"], 2, "{summary}");
    // The SDK's own retries of a call are not counted as calls of logrelay's.
    assert!(server.requests() >= 2, "{}", server.requests());
}
