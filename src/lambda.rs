//! The Lambda function: start-up (configuration, clients — once, through [`crate::app`]) and the
//! per-invocation glue.
//!
//! The `logrelay` binary runs this when the Lambda runtime started it (`AWS_LAMBDA_RUNTIME_API` is set), and
//! the CLI otherwise: one artefact, one build, and `replay` exercises exactly the code that runs in Lambda.

use crate::app::{App, Handled, LocalSinks};
use crate::config::Config;
use crate::pipeline::{BatchReport, InvocationReport, RelayError};
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::value::RawValue;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Namespace of logrelay's own operational metrics (EMF lines on stdout, so they never depend on
/// PutMetricData working).
pub const SELF_METRICS_NAMESPACE: &str = "LogRelay/Function";

/// The relay as the Lambda runs it.
pub use crate::app::AppRelay as LambdaRelay;

impl From<RelayError> for lambda_runtime::Diagnostic {
    fn from(e: RelayError) -> Self {
        let error_type = match &e {
            RelayError::Payload(_) => "logrelay.PayloadRejected",
            RelayError::Forward(_) => "logrelay.ForwardIncomplete",
        };
        lambda_runtime::Diagnostic {
            error_type: error_type.into(),
            error_message: e.to_string(),
        }
    }
}

/// 2000-01-01T00:00:00Z in milliseconds: a "deadline" before it is not a point in time.
const EPOCH_2000_MS: u64 = 946_684_800_000;

/// Converts the invocation deadline into an `Instant`. Lambda sends milliseconds since the epoch
/// (`Lambda-Runtime-Deadline-Ms`); some local emulators (`cargo lambda watch`) send the time budget in
/// milliseconds instead, which is taken as relative to now.
pub fn deadline_instant(deadline_ms: u64) -> Instant {
    if deadline_ms < EPOCH_2000_MS {
        return Instant::now() + Duration::from_millis(deadline_ms);
    }
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    Instant::now() + Duration::from_millis(deadline_ms.saturating_sub(now_ms))
}

/// One invocation: the glue between the Lambda event and the relay, in the configured mode
/// ([`crate::app::handle_event`]). The self-metrics line goes to `self_metrics` (stdout in Lambda).
pub async fn handle(
    relay: &LambdaRelay,
    event: LambdaEvent<Box<RawValue>>,
    self_metrics: &mut (impl Write + Send),
) -> Result<serde_json::Value, RelayError> {
    let deadline = deadline_instant(event.context.deadline);
    tracing::debug!(
        request_id = %event.context.request_id,
        deadline_ms = event.context.deadline,
        remaining_ms = deadline.saturating_duration_since(Instant::now()).as_millis() as u64,
        "invocation"
    );
    let result =
        crate::app::handle_event(relay, event.payload.get().as_bytes(), Some(deadline)).await;
    let counts = match &result {
        Ok(Handled::Payload(report)) => SelfCounts::of_payload(&Ok(report)),
        Ok(Handled::Batch(report)) => SelfCounts::of_batch(report),
        Err(e) => SelfCounts::of_error(e),
    };
    emit_self_metrics(&counts, self_metrics);
    match result? {
        Handled::Payload(report) => Ok(payload_response(&report)),
        Handled::Batch(report) => Ok(batch_response(&report)),
    }
}

/// The response to a subscription payload: its counters.
fn payload_response(report: &InvocationReport) -> serde_json::Value {
    tracing::info!(
        events = report.stats.events,
        forwarded_events = report.stats.forwarded_events,
        records = report.stats.records,
        record_bytes = report.stats.record_bytes,
        datapoints = report.stats.datapoints,
        control_message = report.stats.control_message,
        "payload processed"
    );
    serde_json::json!({
        "events": report.stats.events,
        "forwarded_events": report.stats.forwarded_events,
        "records": report.stats.records,
        "control_message": report.stats.control_message,
        "metrics_error": report.metrics_error,
    })
}

/// The response to a Kinesis batch: the partial batch response of the event source mapping
/// (`FunctionResponseTypes: [ReportBatchItemFailures]`), `{"batchItemFailures":[{"itemIdentifier":
/// "<sequence number>"}]}`. Lambda resumes the shard at the lowest sequence number reported
/// (Lambda developer guide, "Configuring partial batch response with Kinesis Data Streams and
/// Lambda"); an empty list is a complete success.
pub fn batch_response(report: &BatchReport) -> serde_json::Value {
    if let Some(f) = &report.failure {
        tracing::error!(
            record = f.index,
            sequence_number = %f.sequence_number,
            error = %f.error,
            "record does not decode; it and the records after it are reported as failed"
        );
    }
    tracing::info!(
        records = report.records,
        evaluated = report.evaluated,
        counted = report.counted,
        payloads = report.payloads,
        control_messages = report.control_messages,
        events = report.stats.events,
        datapoints = report.stats.datapoints,
        failed = report.batch_item_failures.len(),
        "batch processed"
    );
    let failures: Vec<serde_json::Value> = report
        .batch_item_failures
        .iter()
        .map(|seq| serde_json::json!({ "itemIdentifier": seq }))
        .collect();
    serde_json::json!({ "batchItemFailures": failures })
}

/// logrelay's own counters for one invocation (see [`self_metrics_doc`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SelfCounts {
    /// Log events evaluated (and, in a batch, counted).
    pub events: usize,
    /// Records: forwarded (source), or read and counted (hub).
    pub records: usize,
    /// Invocations whose forwarding was incomplete.
    pub forward_failures: usize,
    /// Invocations whose metrics were not (all) published.
    pub metrics_failures: usize,
    /// Payloads (source) or Kinesis records (hub) that do not decode.
    pub payload_failures: usize,
    /// Kinesis records reported as failed, for Lambda to retry (hub).
    pub retried_records: usize,
    /// (Event, metric filter) pairs skipped because the filter needs a system field the event does
    /// not tell (counted, never guessed).
    pub system_fields_unknown: usize,
}

impl SelfCounts {
    /// The counters of a subscription payload's invocation.
    pub fn of_payload(result: &Result<&InvocationReport, &RelayError>) -> SelfCounts {
        match result {
            Ok(r) => SelfCounts {
                events: r.stats.events,
                records: r.stats.records,
                metrics_failures: usize::from(r.metrics_error.is_some()),
                system_fields_unknown: r.stats.system_fields_unknown,
                ..SelfCounts::default()
            },
            Err(e) => SelfCounts::of_error(e),
        }
    }

    /// The counters of a failed invocation.
    pub fn of_error(e: &RelayError) -> SelfCounts {
        match e {
            RelayError::Forward(_) => SelfCounts {
                forward_failures: 1,
                ..SelfCounts::default()
            },
            RelayError::Payload(_) => SelfCounts {
                payload_failures: 1,
                ..SelfCounts::default()
            },
        }
    }

    /// The counters of a Kinesis batch: the events and records counted, the record that does not
    /// decode, and every record reported for a retry.
    pub fn of_batch(r: &BatchReport) -> SelfCounts {
        let counted = r.counted;
        SelfCounts {
            events: if counted { r.stats.events } else { 0 },
            records: if counted { r.evaluated } else { 0 },
            forward_failures: 0,
            metrics_failures: usize::from(r.metrics_error.is_some()),
            payload_failures: usize::from(r.failure.is_some()),
            retried_records: r.batch_item_failures.len(),
            system_fields_unknown: if counted {
                r.stats.system_fields_unknown
            } else {
                0
            },
        }
    }
}

/// Writes logrelay's own counters as one EMF line to `out` (stdout in Lambda); a write error
/// (stdout closed or full) is logged, never a panic: the invocation's result does not depend on it.
fn emit_self_metrics(counts: &SelfCounts, out: &mut impl Write) {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    let line = self_metrics_doc(counts, &function);
    if let Err(e) = write_line(out, &line) {
        tracing::warn!(error = %e, "self-metrics line not written to stdout");
    }
}

/// Writes `line` and a newline to `out` and flushes it.
fn write_line(out: &mut impl std::io::Write, line: &serde_json::Value) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, line)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// logrelay's own counters for a subscription payload's invocation as an EMF document (see
/// [`self_metrics_doc`]).
pub fn self_metrics_line(
    result: &Result<InvocationReport, RelayError>,
    function: &str,
) -> serde_json::Value {
    self_metrics_doc(&SelfCounts::of_payload(&result.as_ref()), function)
}

/// logrelay's own counters for one invocation as an EMF document: events, records, and the failures
/// (forwarding, metrics publishing, payloads or records that do not decode, records reported for a
/// retry) — so a PutMetricData outage is visible without PutMetricData.
pub fn self_metrics_doc(counts: &SelfCounts, function: &str) -> serde_json::Value {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    serde_json::json!({
        "_aws": {
            "Timestamp": now_ms,
            "CloudWatchMetrics": [{
                "Namespace": SELF_METRICS_NAMESPACE,
                "Dimensions": [["FunctionName"]],
                "Metrics": [
                    {"Name": "Events", "Unit": "Count"},
                    {"Name": "Records", "Unit": "Count"},
                    {"Name": "ForwardFailures", "Unit": "Count"},
                    {"Name": "MetricsPublishFailures", "Unit": "Count"},
                    {"Name": "PayloadFailures", "Unit": "Count"},
                    {"Name": "RetriedRecords", "Unit": "Count"},
                    {"Name": "SystemFieldsUnknown", "Unit": "Count"}
                ]
            }]
        },
        "FunctionName": function,
        "Events": counts.events,
        "Records": counts.records,
        "ForwardFailures": counts.forward_failures,
        "MetricsPublishFailures": counts.metrics_failures,
        "PayloadFailures": counts.payload_failures,
        "RetriedRecords": counts.retried_records,
        "SystemFieldsUnknown": counts.system_fields_unknown,
    })
}

/// Sets up JSON logs for Lambda (level from `RUST_LOG` or `AWS_LAMBDA_LOG_LEVEL`, default info).
pub fn init_lambda_tracing() {
    let filter = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL").map(|l| l.to_lowercase()))
        .unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_current_span(false)
        .with_span_list(false)
        .without_time()
        .with_target(false)
        .try_init();
}

/// The Lambda function's `main`: [`run_lambda`] on the start-up runtime; a start-up error is
/// printed (the runtime has already reported it to Lambda when it came from the loop).
pub fn main() -> ExitCode {
    let runtime = match crate::app::runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run_lambda()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs as the Lambda function: configuration and clients once ([`crate::app`]), then the runtime
/// loop.
pub async fn run_lambda() -> Result<(), lambda_runtime::Error> {
    init_lambda_tracing();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "invalid configuration");
            return Err(e.into());
        }
    };
    // The SDK configuration is loaded whatever the configuration needs, so that a bad endpoint
    // override stops every deployment at its cold start.
    let app = match App::start(config, true).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = %e, "refusing to start");
            return Err(e.into());
        }
    };
    let config = &app.config;
    tracing::info!(
        mode = %config.mode,
        filters = config.filters.len(),
        metrics = ?config.metrics,
        forward_format = ?config.forward_format,
        partition_key = %config.partition_key,
        stream_arn = config.stream_arn.as_deref().unwrap_or(""),
        assume_role = config.assume_role.as_ref().map(|r| r.role_arn.as_str()).unwrap_or(""),
        "logrelay started"
    );
    let relay = app
        .relay(LocalSinks::lambda())
        .await
        .inspect_err(|e| tracing::error!(error = %e, "refusing to start"))?;
    let relay = &relay;
    lambda_runtime::run(service_fn(move |event| async move {
        handle(relay, event, &mut std::io::stdout()).await
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metrics_failure_shows_in_the_self_metrics() {
        let report = InvocationReport {
            metrics_error: Some("PutMetricData for namespace \"N\" failed".into()),
            ..Default::default()
        };
        let line = self_metrics_line(&Ok(report), "logrelay");
        assert_eq!(line["MetricsPublishFailures"], 1);
        assert_eq!(line["ForwardFailures"], 0);
        assert_eq!(line["FunctionName"], "logrelay");
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            SELF_METRICS_NAMESPACE
        );
        let names: Vec<&str> = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].as_str().unwrap())
            .collect();
        for n in &names {
            assert!(line.get(*n).is_some(), "EMF member {n} missing");
        }
        let failed: Result<InvocationReport, RelayError> = Err(RelayError::Forward(
            crate::forward::ForwardError::Incomplete {
                delivered: 1,
                undelivered: 2,
                last_error: "throttled".into(),
            },
        ));
        assert_eq!(self_metrics_line(&failed, "f")["ForwardFailures"], 1);
    }

    #[test]
    fn a_batch_reports_its_failed_records_and_counts_only_what_it_published() {
        let report = BatchReport {
            records: 4,
            evaluated: 2,
            counted: true,
            stats: crate::pipeline::PayloadStats {
                events: 7,
                system_fields_unknown: 3,
                ..Default::default()
            },
            failure: Some(crate::pipeline::RecordFailure {
                index: 2,
                sequence_number: "3".into(),
                error: crate::payload::PayloadError::EmptyGzip,
            }),
            batch_item_failures: vec!["3".into(), "4".into()],
            ..Default::default()
        };
        assert_eq!(
            batch_response(&report),
            serde_json::json!({"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "4"}]})
        );
        let line = self_metrics_doc(&SelfCounts::of_batch(&report), "hub");
        assert_eq!(line["Events"], 7);
        assert_eq!(line["Records"], 2);
        assert_eq!(line["PayloadFailures"], 1);
        assert_eq!(line["RetriedRecords"], 2);
        assert_eq!(line["SystemFieldsUnknown"], 3);
        // Nothing published: nothing counted.
        let uncounted = BatchReport {
            counted: false,
            metrics_error: Some("PutMetricData failed".into()),
            ..report
        };
        let line = self_metrics_doc(&SelfCounts::of_batch(&uncounted), "hub");
        assert_eq!(line["Events"], 0);
        assert_eq!(line["Records"], 0);
        assert_eq!(line["MetricsPublishFailures"], 1);
        let ok = BatchReport {
            records: 1,
            evaluated: 1,
            counted: true,
            ..Default::default()
        };
        assert_eq!(
            batch_response(&ok),
            serde_json::json!({"batchItemFailures": []})
        );
    }

    #[test]
    fn deadlines_in_epoch_or_relative_milliseconds() {
        let now = Instant::now();
        let relative = deadline_instant(600_000);
        assert!(relative >= now + Duration::from_secs(599));
        let epoch_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let absolute = deadline_instant(epoch_ms + 5_000);
        assert!(absolute <= Instant::now() + Duration::from_millis(5_100));
        assert!(absolute >= now + Duration::from_millis(4_000));
    }

    #[test]
    fn a_stdout_write_error_is_returned_not_a_panic() {
        /// A writer whose device is gone: every write fails.
        struct Closed;
        impl std::io::Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
        }
        let line = self_metrics_line(&Ok(InvocationReport::default()), "f");
        let e = write_line(&mut Closed, &line).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
        let mut out = Vec::new();
        write_line(&mut out, &line).unwrap();
        assert_eq!(out.last(), Some(&b'\n'));
        let written: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(written, line);
    }
}
