//! The Lambda handler, `lambda::handle`, as the runtime calls it: a `LambdaEvent` with its context
//! (deadline, request id), the relay built as the Lambda builds it, Kinesis behind the
//! fault-injecting PutRecords server. What the runtime reports (the error type of the
//! `Diagnostic`), what reaches Kinesis and the self-metrics line are checked.

use crate::common;

use common::fault_kinesis::{FaultConfig, FaultKinesis, RequestFault};
use logrelay::app::{build_sinks, LocalSinks};
use logrelay::config::Config;
use logrelay::lambda::{handle, LambdaRelay};
use logrelay::metrics::emf::EmfSink;
use logrelay::pipeline::{EventsRegion, Pipeline, Relay, RelayError};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ARN: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/central";

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Bytes written through any of its clones.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn lines(&self) -> Vec<serde_json::Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
            .collect()
    }
}

/// The relay of a function configured to forward to [`ARN`] behind `server`, with the default metric
/// filter (`ErrorCount` on `ERROR`) in `emf` mode, its EMF lines going to the returned buffer.
async fn relay(server: &FaultKinesis) -> (LambdaRelay, Shared) {
    let vars: HashMap<&str, &str> = HashMap::from([
        ("LOGRELAY_KINESIS_STREAM_ARN", ARN),
        ("LOGRELAY_METRICS", "emf"),
    ]);
    let config = Arc::new(
        Config::from_lookup(|k| vars.get(k).map(|v| v.to_string())).expect("valid configuration"),
    );
    let sdk = common::moto::sdk_config(&server.endpoint()).await;
    let emf = Shared::default();
    let local = LocalSinks {
        records: None,
        emf: Some(EmfSink::new(Box::new(emf.clone()))),
    };
    let (records, metrics) = build_sinks(&config, Some(&sdk), local).await.unwrap();
    let pipeline = Pipeline::new(
        config,
        Some("us-east-1".into()),
        EventsRegion::Known("us-east-1".into()),
    )
    .unwrap();
    (Relay::new(pipeline, records, metrics), emf)
}

/// The Lambda event of `payload` with a deadline `budget` from now (epoch milliseconds, as Lambda
/// sends it).
fn event(payload: &str, budget: Duration) -> lambda_runtime::LambdaEvent<Box<RawValue>> {
    let mut context = lambda_runtime::Context::default();
    context.request_id = "test-request".into();
    context.deadline = now_ms() + budget.as_millis() as u64;
    lambda_runtime::LambdaEvent::new(RawValue::from_string(payload.to_owned()).unwrap(), context)
}

fn payload(events: &[common::FixtureEvent]) -> (Vec<u8>, String) {
    let gz = common::gzip(
        common::payload_json("123456789012", "/ecs/orders", "ecs/api/1", events).as_bytes(),
    );
    let event = common::lambda_event(&gz);
    (gz, event)
}

/// The one self-metrics line written by an invocation.
fn self_metrics(out: &[u8]) -> serde_json::Value {
    let text = std::str::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one self-metrics line: {text:?}");
    let line: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(
        line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        logrelay::lambda::SELF_METRICS_NAMESPACE
    );
    line
}

fn counters(line: &serde_json::Value) -> [u64; 5] {
    [
        "Events",
        "Records",
        "ForwardFailures",
        "MetricsPublishFailures",
        "PayloadFailures",
    ]
    .map(|k| {
        line[k]
            .as_u64()
            .unwrap_or_else(|| panic!("{k} missing: {line}"))
    })
}

fn error_type(e: RelayError) -> String {
    lambda_runtime::Diagnostic::from(e).error_type
}

#[tokio::test]
async fn an_invocation_forwards_the_payload_and_writes_its_self_metrics() {
    let server = FaultKinesis::start(FaultConfig::default());
    let (relay, emf) = relay(&server).await;
    let events = common::events(8);
    let (gz, lambda_event) = payload(&events);
    let mut out = Vec::new();
    let result = handle(
        &relay,
        event(&lambda_event, Duration::from_secs(30)),
        &mut out,
    )
    .await
    .expect("delivered");
    assert_eq!(result["events"], 8);
    assert_eq!(result["records"], 1);
    assert_eq!(result["control_message"], false);
    assert_eq!(result["metrics_error"], serde_json::Value::Null);
    // cwl pass-through: the payload's gzip, byte for byte.
    let accepted = server.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].data, gz);
    assert_eq!(counters(&self_metrics(&out)), [8, 1, 0, 0, 0]);
    // The default filter counts the events holding ERROR (every fourth fixture event).
    let errors = emf
        .lines()
        .iter()
        .map(|l| match &l["ErrorCount"] {
            serde_json::Value::Array(values) => values.len(),
            serde_json::Value::Number(_) => 1,
            _ => 0,
        })
        .sum::<usize>();
    assert_eq!(errors, 2);
}

#[tokio::test]
async fn the_events_deadline_bounds_the_retries() {
    // Every PutRecords call is throttled. Without the deadline, the default policy would retry ten
    // times over several seconds and end with "gave up after 10 attempts".
    let server = FaultKinesis::start(FaultConfig {
        default_fault: RequestFault::Throttle("ProvisionedThroughputExceededException"),
        ..FaultConfig::default()
    });
    let (relay, _) = relay(&server).await;
    let (_, lambda_event) = payload(&common::events(3));
    let budget = Duration::from_millis(1500);
    let start = Instant::now();
    let mut out = Vec::new();
    let err = handle(&relay, event(&lambda_event, budget), &mut out)
        .await
        .unwrap_err();
    let took = start.elapsed();
    let text = err.to_string();
    assert!(text.contains("deadline reached"), "{text}");
    assert!(
        took < budget,
        "returned {took:?} after start, budget {budget:?}"
    );
    assert!(server.requests() >= 1, "PutRecords was tried");
    assert_eq!(error_type(err), "logrelay.ForwardIncomplete");
    assert_eq!(counters(&self_metrics(&out)), [0, 0, 1, 0, 0]);
}

#[tokio::test]
async fn an_undecodable_payload_is_rejected_as_payload_rejected() {
    let server = FaultKinesis::start(FaultConfig::default());
    let (relay, emf) = relay(&server).await;
    let gz = common::gzip(common::payload_json("1", "/g", "s", &common::events(3)).as_bytes());
    let truncated = common::lambda_event(&gz[..gz.len() / 2]);
    let mut out = Vec::new();
    let err = handle(&relay, event(&truncated, Duration::from_secs(30)), &mut out)
        .await
        .unwrap_err();
    assert!(matches!(err, RelayError::Payload(_)), "{err}");
    assert!(err.to_string().contains("gzip"), "{err}");
    assert_eq!(error_type(err), "logrelay.PayloadRejected");
    assert_eq!(counters(&self_metrics(&out)), [0, 0, 0, 0, 1]);
    assert_eq!(server.requests(), 0, "nothing sent");
    assert!(emf.lines().is_empty(), "no metric");
}

#[tokio::test]
async fn empty_log_events_send_no_record_and_no_metric_and_succeed() {
    let server = FaultKinesis::start(FaultConfig::default());
    let (relay, emf) = relay(&server).await;
    let (_, empty) = payload(&[]);
    let mut out = Vec::new();
    let result = handle(&relay, event(&empty, Duration::from_secs(30)), &mut out)
        .await
        .expect("an empty payload succeeds");
    assert_eq!(
        (result["events"].as_u64(), result["records"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(server.requests(), 0, "no PutRecords call");
    assert!(emf.lines().is_empty(), "no metric: {:?}", emf.lines());
    assert_eq!(counters(&self_metrics(&out)), [0, 0, 0, 0, 0]);
}
