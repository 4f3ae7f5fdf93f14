//! The Lambda function: start-up (configuration, clients — once, through [`crate::app`]) and the
//! per-invocation glue.
//!
//! The `logrelay` binary runs this when the Lambda runtime started it (`AWS_LAMBDA_RUNTIME_API` is set), and
//! the CLI otherwise: one artefact, one build, and `replay` exercises exactly the code that runs in Lambda.

use crate::app::{App, LocalSinks};
use crate::config::Config;
use crate::pipeline::{InvocationReport, RelayError};
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

/// One invocation: the glue between the Lambda event and the relay. The self-metrics line goes to
/// `self_metrics` (stdout in Lambda).
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
    let result = relay
        .handle_event(event.payload.get().as_bytes(), Some(deadline))
        .await;
    emit_self_metrics(&result, self_metrics);
    let report = result?;
    tracing::info!(
        events = report.stats.events,
        forwarded_events = report.stats.forwarded_events,
        records = report.stats.records,
        record_bytes = report.stats.record_bytes,
        datapoints = report.stats.datapoints,
        control_message = report.stats.control_message,
        "payload processed"
    );
    Ok(serde_json::json!({
        "events": report.stats.events,
        "forwarded_events": report.stats.forwarded_events,
        "records": report.stats.records,
        "control_message": report.stats.control_message,
        "metrics_error": report.metrics_error,
    }))
}

/// Writes logrelay's own counters as one EMF line to `out`.
fn emit_self_metrics(result: &Result<InvocationReport, RelayError>, out: &mut impl Write) {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default();
    if let Err(e) = writeln!(out, "{}", self_metrics_line(result, &function)) {
        tracing::error!(error = %e, "the self-metrics line could not be written");
    }
}

/// logrelay's own counters for one invocation as an EMF document: events, records, and the failures
/// (forwarding, metrics publishing, payload) — so a PutMetricData outage is visible without PutMetricData.
pub fn self_metrics_line(
    result: &Result<InvocationReport, RelayError>,
    function: &str,
) -> serde_json::Value {
    let (events, records, forward_failures, metrics_failures, payload_failures) = match result {
        Ok(r) => (
            r.stats.events,
            r.stats.records,
            0,
            usize::from(r.metrics_error.is_some()),
            0,
        ),
        Err(RelayError::Forward(_)) => (0, 0, 1, 0, 0),
        Err(RelayError::Payload(_)) => (0, 0, 0, 0, 1),
    };
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
                    {"Name": "PayloadFailures", "Unit": "Count"}
                ]
            }]
        },
        "FunctionName": function,
        "Events": events,
        "Records": records,
        "ForwardFailures": forward_failures,
        "MetricsPublishFailures": metrics_failures,
        "PayloadFailures": payload_failures,
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
}
