//! `logrelay replay --kinesis-stream-arn ... --metrics put`: the CLI sends to the AWS endpoints the SDK is
//! configured for (`AWS_ENDPOINT_URL`, here a moto server), and what arrives is read back.

use crate::common;

use common::moto::{sdk_config, unique_name, Moto};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[tokio::test]
async fn replay_sends_records_to_kinesis_and_metrics_to_cloudwatch() {
    let moto = Moto::shared();
    let sdk = sdk_config(moto.endpoint()).await;
    let kinesis = aws_sdk_kinesis::Client::new(&sdk);
    let stream = unique_name("replay");
    let arn = common::create_stream(&kinesis, &stream, 1).await;
    let namespace = unique_name("Replay");

    // Two payloads with current timestamps (CloudWatch takes datapoints up to two weeks old).
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut gzips = Vec::new();
    let mut errors = 0;
    for (i, group) in ["/ecs/orders", "/ecs/payments"].iter().enumerate() {
        let events: Vec<common::FixtureEvent> = common::events(25)
            .into_iter()
            .enumerate()
            .map(|(j, (id, _, m))| (id, now - 10_000 + j as i64, m))
            .collect();
        errors += events
            .iter()
            .filter(|(_, _, m)| m.contains("ERROR"))
            .count();
        let gz = common::gzip(common::payload_json("123456789012", group, "s", &events).as_bytes());
        let path = dir.path().join(format!("event-{i}.json"));
        std::fs::write(&path, common::lambda_event(&gz)).unwrap();
        files.push(path);
        gzips.push(gz);
    }

    let out = common::bin::logrelay()
        .args(["replay", "--kinesis-stream-arn", &arn, "--metrics", "put"])
        .args(["--metric-namespace", &namespace])
        .args(&files)
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("LOGRELAY_CONFIG_FILE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["records"], 2);
    assert_eq!(summary["events"], 50);
    assert_eq!(summary["metrics"][&namespace]["ErrorCount"], errors as f64);

    // Kinesis holds both payloads, byte for byte.
    let got: Vec<Vec<u8>> = common::read_all(&kinesis, &stream)
        .await
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    assert_eq!(got, gzips);

    // CloudWatch: the ErrorCount of both log groups adds up to the errors sent.
    let cw = aws_sdk_cloudwatch::Client::new(&sdk);
    let t = SystemTime::now();
    let mut total = 0.0;
    for group in ["/ecs/orders", "/ecs/payments"] {
        let stats = cw
            .get_metric_statistics()
            .namespace(&namespace)
            .metric_name("ErrorCount")
            .dimensions(
                aws_sdk_cloudwatch::types::Dimension::builder()
                    .name("LogGroup")
                    .value(group)
                    .build(),
            )
            .start_time((t - Duration::from_secs(3600)).into())
            .end_time((t + Duration::from_secs(3600)).into())
            .period(60)
            .statistics(aws_sdk_cloudwatch::types::Statistic::Sum)
            .send()
            .await
            .unwrap();
        total += stats
            .datapoints()
            .iter()
            .filter_map(|d| d.sum())
            .sum::<f64>();
    }
    assert_eq!(total, errors as f64);
}
