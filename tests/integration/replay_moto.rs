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

    let out = common::bin::logrelay_against(moto.endpoint())
        .args(["replay", "--kinesis-stream-arn", &arn, "--metrics", "put"])
        .args(["--metric-namespace", &namespace])
        .args(&files)
        .output()
        .unwrap();
    common::bin::assert_success(&out);
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

    let out = common::bin::logrelay_against(moto.endpoint())
        .args(["replay", "--kinesis-stream-arn", &arn, "--metrics", "off"])
        .args(["--forward-format", "ndjson"])
        .args(&files)
        .output()
        .unwrap();
    common::bin::assert_success(&out);
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
    let out = common::bin::logrelay()
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

/// The calls moto's request recorder saw for one operation: Kinesis by its `X-Amz-Target`,
/// CloudWatch (AWS query protocol) by the `Action` of its form body.
fn recorded_calls(recording: &str, operation: &str) -> usize {
    // A stream of JSON objects rather than lines: moto's server threads append to the recording
    // concurrently, and two entries can end up on one line.
    serde_json::Deserializer::from_str(recording)
        .into_iter::<serde_json::Value>()
        .map(|entry| entry.expect("recorder entries are JSON"))
        .filter(|entry| {
            let headers = entry["headers"].as_object().expect("headers");
            let header = |name: &str| {
                headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .and_then(|(_, v)| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            if header("x-amz-target").ends_with(&format!(".{operation}")) {
                return true;
            }
            let raw = entry["body"].as_str().unwrap_or_default();
            let body = if entry["body_encoded"].as_bool().unwrap_or(false) {
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, raw)
                    .expect("base64 body")
            } else {
                raw.as_bytes().to_vec()
            };
            // The SDK gzips request bodies of 10 KiB or more; this test's requests are smaller.
            assert_ne!(
                header("content-encoding"),
                "gzip",
                "a compressed request body: make the test's requests smaller"
            );
            String::from_utf8_lossy(&body)
                .split('&')
                .any(|kv| kv == format!("Action={operation}"))
        })
        .count()
}

#[tokio::test]
async fn replay_counts_exactly_the_api_calls_moto_receives() {
    // A moto of its own, recording every request it receives.
    let dir = tempfile::tempdir().unwrap();
    let recording = dir.path().join("requests.jsonl");
    let moto = Moto::spawn(&[
        ("MOTO_ENABLE_RECORDING", "True"),
        ("MOTO_RECORDER_FILEPATH", recording.to_str().unwrap()),
    ]);
    let sdk = sdk_config(moto.endpoint()).await;
    let kinesis = aws_sdk_kinesis::Client::new(&sdk);
    let stream = unique_name("calls");
    let arn = common::create_stream(&kinesis, &stream, 2).await;

    // Two filters in two namespaces: two PutMetricData calls per payload with both kinds of event.
    let (errors_ns, warns_ns) = (unique_name("Errors"), unique_name("Warns"));
    let config = dir.path().join("filters.json");
    std::fs::write(
        &config,
        serde_json::json!([
            {"filterName": "errors", "filterPattern": "ERROR", "metricTransformations": [
                {"metricName": "Errors", "metricNamespace": errors_ns, "metricValue": "1"}]},
            {"filterName": "warns", "filterPattern": "WARN", "metricTransformations": [
                {"metricName": "Warns", "metricNamespace": warns_ns, "metricValue": "1"}]},
        ])
        .to_string(),
    )
    .unwrap();
    let files = common::recent_event_files(dir.path(), &[40, 7, 90]);
    let replay = |extra: &[&str]| {
        let out = common::bin::logrelay_against(moto.endpoint())
            .args(["replay", "--forward-format", "ndjson", "--config"])
            .arg(&config)
            .args(extra)
            .args(&files)
            // Small records, three per call: several PutRecords calls per payload.
            .env("LOGRELAY_KINESIS_MAX_RECORD_BYTES", "2048")
            .env("LOGRELAY_KINESIS_MAX_RECORDS", "3")
            .output()
            .unwrap();
        common::bin::assert_success(&out);
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };

    // Local sinks first: the calls the Lambda would make, counted without any AWS call.
    let before = std::fs::read_to_string(&recording).unwrap_or_default();
    let local = replay(&["--metrics", "emf"]);
    assert_eq!(
        std::fs::read_to_string(&recording).unwrap_or_default(),
        before,
        "a replay with local sinks calls nothing"
    );
    assert!(local["emf_bytes"].as_u64().unwrap() > 0, "{local}");
    assert_eq!(local["api_calls"]["PutMetricData"], 0, "{local}");

    // Then the real sinks, against moto.
    let real = replay(&["--kinesis-stream-arn", &arn, "--metrics", "put"]);
    let recorded = std::fs::read_to_string(&recording).unwrap();
    let put_records = recorded_calls(&recorded, "PutRecords");
    let put_metric_data = recorded_calls(&recorded, "PutMetricData");
    println!(
        "summary {real}; moto received {put_records} PutRecords, {put_metric_data} PutMetricData"
    );
    assert!(put_records > files.len(), "several calls per payload");
    assert_eq!(real["api_calls"]["PutRecords"], put_records, "{real}");
    assert_eq!(
        real["api_calls"]["PutMetricData"], put_metric_data,
        "{real}"
    );
    assert_eq!(
        put_metric_data,
        2 * files.len(),
        "one call per namespace per payload"
    );
    assert_eq!(real["emf_bytes"], 0);
    // The local count is the real one: same records, same batching.
    assert_eq!(local["api_calls"]["PutRecords"], put_records, "{local}");
    assert_eq!(local["records"], real["records"]);

    // And the records moto holds are the ones the summary counts.
    let stored = common::read_all(&kinesis, &stream).await;
    assert_eq!(real["records"], stored.len());
}
