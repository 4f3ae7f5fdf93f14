//! `logrelay replay --kinesis-stream-arn ... --metrics put`: the CLI sends to the AWS endpoints the SDK is
//! configured for (`AWS_ENDPOINT_URL`, here a moto server), and what arrives is read back.

use crate::common;

use common::moto::{sdk_config, unique_name, Moto};
use std::process::Command;
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

    let out = Command::new(env!("CARGO_BIN_EXE_logrelay"))
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

/// A central stream in another Region than the function's: moto keeps one backend per Region, so the
/// stream exists only for requests signed for eu-west-1, and `replay` configured for us-east-1 reaches it
/// only because the Kinesis client is built for the Region named in the stream ARN.
#[tokio::test]
async fn replay_delivers_every_event_to_a_stream_in_another_region() {
    let moto = Moto::shared();
    let us = sdk_config(moto.endpoint()).await;
    let eu = us
        .to_builder()
        .region(aws_config::Region::new("eu-west-1"))
        .build();
    let kinesis_eu = aws_sdk_kinesis::Client::new(&eu);
    let stream = unique_name("xregion");
    let arn = common::create_stream(&kinesis_eu, &stream, 1).await;
    assert!(arn.contains(":kinesis:eu-west-1:"), "{arn}");
    // The function's own Region does not see the stream.
    assert!(aws_sdk_kinesis::Client::new(&us)
        .describe_stream_summary()
        .stream_name(&stream)
        .send()
        .await
        .is_err());

    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut sent = Vec::new();
    for (i, group) in ["/ecs/orders", "/ecs/payments", "/aws/lambda/checkout"]
        .iter()
        .enumerate()
    {
        let events = common::events(40);
        sent.extend(
            events
                .iter()
                .map(|(id, _, _)| id.trim_matches('"').to_owned()),
        );
        let gz = common::gzip(common::payload_json("123456789012", group, "s", &events).as_bytes());
        let path = dir.path().join(format!("event-{i}.json"));
        std::fs::write(&path, common::lambda_event(&gz)).unwrap();
        files.push(path);
    }

    let out = Command::new(env!("CARGO_BIN_EXE_logrelay"))
        .args(["replay", "--kinesis-stream-arn", &arn, "--metrics", "off"])
        .args(["--forward-format", "ndjson"])
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
    assert_eq!(summary["events"], 120);
    assert_eq!(summary["forwarded_events"], 120);

    // Every event arrived in the eu-west-1 stream, once.
    let mut got: Vec<String> = common::read_all(&kinesis_eu, &stream)
        .await
        .iter()
        .flat_map(|(_, data)| {
            std::str::from_utf8(data)
                .unwrap()
                .lines()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    v["id"].as_str().unwrap().to_owned()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    got.sort();
    sent.sort();
    assert_eq!(got, sent);
}

/// A stream in another partition cannot be reached with this partition's credentials: `replay` refuses
/// to start, naming both partitions, and sends nothing.
#[test]
fn replay_refuses_a_stream_in_another_partition() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("event.json");
    let gz = common::gzip(
        common::payload_json("123456789012", "/g", "s", &common::events(2)).as_bytes(),
    );
    std::fs::write(&path, common::lambda_event(&gz)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_logrelay"))
        .args(["replay", "--metrics", "off", "--kinesis-stream-arn"])
        .arg("arn:aws-cn:kinesis:cn-north-1:999988887777:stream/central")
        .arg(&path)
        // Nothing listens here: a request would fail differently.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("LOGRELAY_CONFIG_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("partition aws-cn") && stderr.contains("eu-west-1 (partition aws)"),
        "{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
