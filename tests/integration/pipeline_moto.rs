//! The whole relay — decode, filters, PutMetricData, PutRecords — against a moto server, through the
//! real `aws-sdk-kinesis` and `aws-sdk-cloudwatch` clients: what arrives in Kinesis and CloudWatch is
//! read back and compared with what was sent.

use crate::common;

use aws_sdk_cloudwatch::types::{Dimension, Statistic};
use common::moto::{sdk_config, unique_name, Moto};
use logrelay::app::{build_sinks, LocalSinks};
use logrelay::config::Config;
use logrelay::forward::AnyRecordSink;
use logrelay::metrics::AnyMetricSink;
use logrelay::pipeline::{EventsRegion, Pipeline, Relay, RelayError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Events timestamped now (CloudWatch accepts datapoints up to two weeks old only).
fn recent_events(n: usize) -> Vec<common::FixtureEvent> {
    let t0 = now_ms() - 5_000;
    common::events(n)
        .into_iter()
        .enumerate()
        .map(|(i, (id, _, m))| (id, t0 + i as i64, m))
        .collect()
}

fn config(vars: &[(&str, String)]) -> Config {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Config::from_lookup(|k| map.get(k).cloned()).unwrap()
}

/// A fresh moto stream, and a relay configured with `vars` plus that stream's ARN, built as the Lambda
/// builds it.
struct Setup {
    sdk: aws_config::SdkConfig,
    kinesis: aws_sdk_kinesis::Client,
    stream: String,
    cfg: Arc<Config>,
}

impl Setup {
    async fn new(prefix: &str, vars: &[(&str, String)]) -> Setup {
        let moto = Moto::shared();
        let sdk = sdk_config(moto.endpoint()).await;
        let kinesis = aws_sdk_kinesis::Client::new(&sdk);
        let stream = unique_name(prefix);
        let arn = common::create_stream(&kinesis, &stream, 1).await;
        let mut all = vec![("LOGRELAY_KINESIS_STREAM_ARN", arn)];
        all.extend(vars.iter().cloned());
        let cfg = Arc::new(config(&all));
        Setup {
            sdk,
            kinesis,
            stream,
            cfg,
        }
    }

    async fn relay(&self) -> Relay<AnyRecordSink, AnyMetricSink> {
        let (records, metrics) = build_sinks(&self.cfg, Some(&self.sdk), LocalSinks::lambda())
            .await
            .unwrap();
        Relay::new(
            Pipeline::new(self.cfg.clone(), None, EventsRegion::Unknown).unwrap(),
            records,
            metrics,
        )
    }

    async fn delivered(&self) -> Vec<(String, Vec<u8>)> {
        common::read_all(&self.kinesis, &self.stream).await
    }
}

async fn metric_sum(
    cw: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    name: &str,
    dims: &[(&str, &str)],
) -> f64 {
    let now = SystemTime::now();
    let out = cw
        .get_metric_statistics()
        .namespace(namespace)
        .metric_name(name)
        .set_dimensions(Some(
            dims.iter()
                .map(|(n, v)| Dimension::builder().name(*n).value(*v).build())
                .collect(),
        ))
        .start_time((now - Duration::from_secs(3600)).into())
        .end_time((now + Duration::from_secs(3600)).into())
        .period(60)
        .statistics(Statistic::Sum)
        .send()
        .await
        .unwrap();
    out.datapoints().iter().filter_map(|d| d.sum()).sum()
}

#[tokio::test]
async fn records_and_metrics_arrive_in_kinesis_and_cloudwatch() {
    let namespace = unique_name("Relay");
    let s = Setup::new(
        "relay",
        &[
            ("LOGRELAY_METRICS", "put".into()),
            ("LOGRELAY_METRIC_NAMESPACE", namespace.clone()),
        ],
    )
    .await;
    let relay = s.relay().await;

    let events = recent_events(40);
    let group = "/ecs/orders";
    let gz = common::gzip(
        common::payload_json("123456789012", group, "ecs/api/abc", &events).as_bytes(),
    );
    let report = relay
        .handle_event(
            common::lambda_event(&gz).as_bytes(),
            Some(Instant::now() + Duration::from_secs(30)),
        )
        .await
        .unwrap();
    assert_eq!(report.stats.events, 40);
    assert_eq!(report.stats.records, 1);
    assert!(report.metrics_error.is_none(), "{:?}", report.metrics_error);

    // Kinesis: one record, the payload's gzip byte for byte (cwl pass-through).
    let got = s.delivered().await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, gz);

    // CloudWatch: ErrorCount per log group equals the events containing ERROR.
    let errors = events
        .iter()
        .filter(|(_, _, m)| m.contains("ERROR"))
        .count();
    assert!(errors > 0);
    let cw = aws_sdk_cloudwatch::Client::new(&s.sdk);
    let sum = metric_sum(&cw, &namespace, "ErrorCount", &[("LogGroup", group)]).await;
    assert_eq!(sum, errors as f64);
}

#[tokio::test]
async fn a_failing_putmetricdata_does_not_stop_forwarding() {
    let s = Setup::new("cwdown", &[("LOGRELAY_METRICS", "put".into())]).await;
    // Kinesis through moto; CloudWatch through an endpoint where nothing listens.
    let cw_sdk = s
        .sdk
        .to_builder()
        .endpoint_url(format!("http://127.0.0.1:{}", closed_port()))
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let (records, _) = build_sinks(&s.cfg, Some(&s.sdk), LocalSinks::lambda())
        .await
        .unwrap();
    let metrics = AnyMetricSink::CloudWatch(logrelay::metrics::cloudwatch::CloudWatchSink::new(
        aws_sdk_cloudwatch::Client::new(&cw_sdk),
    ));
    let relay = Relay::new(
        Pipeline::new(s.cfg.clone(), None, EventsRegion::Unknown).unwrap(),
        records,
        metrics,
    );
    let events = recent_events(12);
    let gz = common::gzip(common::payload_json("123456789012", "/ecs/a", "s", &events).as_bytes());
    // Through the Lambda handler: the invocation succeeds, says why metrics failed, and counts the
    // failure in the self-metrics line (EMF on stdout, which does not depend on PutMetricData).
    let mut context = lambda_runtime::Context::default();
    context.deadline = now_ms() as u64 + 30_000;
    let event = lambda_runtime::LambdaEvent::new(
        serde_json::value::RawValue::from_string(common::lambda_event(&gz)).unwrap(),
        context,
    );
    let mut self_metrics = Vec::new();
    let result = logrelay::lambda::handle(&relay, event, &mut self_metrics)
        .await
        .expect("forwarding succeeds although metrics fail");
    let err = result["metrics_error"]
        .as_str()
        .expect("the metrics failure is reported");
    assert!(err.contains("PutMetricData"), "{err}");
    assert_eq!(s.delivered().await.len(), 1);
    let line: serde_json::Value = serde_json::from_slice(&self_metrics).unwrap();
    assert_eq!(line["MetricsPublishFailures"], 1, "{line}");
    assert_eq!(line["ForwardFailures"], 0, "{line}");
    assert_eq!(line["Records"], 1, "{line}");
}

#[tokio::test]
async fn an_undecodable_payload_fails_the_invocation_and_sends_nothing() {
    let s = Setup::new("bad", &[("LOGRELAY_METRICS", "off".into())]).await;
    let relay = s.relay().await;
    let truncated = {
        let gz = common::gzip(common::payload_json("1", "/g", "s", &recent_events(3)).as_bytes());
        common::lambda_event(&gz[..gz.len() / 2])
    };
    let err = relay
        .handle_event(truncated.as_bytes(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, RelayError::Payload(_)), "{err}");
    assert!(s.delivered().await.is_empty());
}

#[tokio::test]
async fn events_of_the_functions_own_log_group_are_skipped() {
    let own = "/aws/lambda/logrelay";
    let s = Setup::new(
        "loop",
        &[
            ("LOGRELAY_METRICS", "off".into()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", own.into()),
        ],
    )
    .await;
    let relay = s.relay().await;
    let gz = common::gzip(common::payload_json("1", own, "s", &recent_events(5)).as_bytes());
    let report = relay
        .handle_event(common::lambda_event(&gz).as_bytes(), None)
        .await
        .unwrap();
    assert!(report.stats.skipped_own_log_group);
    assert_eq!(report.stats.records, 0);
    assert!(report.metrics.is_empty());
    assert!(s.delivered().await.is_empty());
}

/// A loopback port where nothing listens.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test]
async fn an_assume_role_failure_names_the_role_and_fails_the_invocation() {
    // STS (and everything else) behind an endpoint where nothing listens: the credentials cannot be
    // obtained, so nothing can be delivered.
    let sdk = sdk_config(&format!("http://127.0.0.1:{}", closed_port()))
        .await
        .to_builder()
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    let role = "arn:aws:iam::222233334444:role/central-writer";
    let cfg = Arc::new(config(&[
        (
            "LOGRELAY_KINESIS_STREAM_ARN",
            "arn:aws:kinesis:us-east-1:222233334444:stream/central".into(),
        ),
        ("LOGRELAY_ASSUME_ROLE_ARN", role.into()),
        ("LOGRELAY_EXTERNAL_ID", "s3cret-external-id".into()),
        ("LOGRELAY_METRICS", "off".into()),
    ]));
    let (records, metrics) = build_sinks(&cfg, Some(&sdk), LocalSinks::lambda())
        .await
        .unwrap();
    let relay = Relay::new(
        Pipeline::new(cfg, None, EventsRegion::Unknown).unwrap(),
        records,
        metrics,
    );
    let gz = common::gzip(common::payload_json("1", "/g", "s", &recent_events(3)).as_bytes());
    let err = relay
        .handle_event(
            common::lambda_event(&gz).as_bytes(),
            Some(Instant::now() + Duration::from_secs(5)),
        )
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, RelayError::Forward(_)), "{text}");
    assert!(text.contains(role), "{text}");
    assert!(!text.contains("s3cret-external-id"), "{text}");
}
