//! Shared support for the integration tests.
//!
//! - [`moto`]: a moto server (shared per test binary, or the one named by
//!   `LOGRELAY_TEST_AWS_ENDPOINT`) and SDK configuration pointing at it;
//! - [`fault_kinesis`]: a fault-injecting PutRecords server;
//! - [`production`]: a pattern evaluated as the relay does (in a `FilterSet`, plain and escaped);
//! - [`bin`]: the `logrelay` binary as a `Command`, through the target's runner when cross-testing;
//! - here: subscription payload fixtures and Kinesis stream helpers.
//!
//! Use it with `mod common;` in a test file. Not every test uses every helper.
#![allow(dead_code)]

pub mod bin;
pub mod fault_kinesis;
pub mod moto;
pub mod production;

use base64::Engine as _;
use std::io::Write;

/// One event of a fixture: (id as JSON, timestamp, message).
pub type FixtureEvent = (String, i64, String);

/// `n` fixture events with string ids, timestamps from 1700000000000 and varied messages.
pub fn events(n: usize) -> Vec<FixtureEvent> {
    (0..n)
        .map(|i| {
            let msg = match i % 4 {
                0 => format!("ERROR request {i} failed: timeout after 30s"),
                1 => format!(
                    "{{\"level\":\"info\",\"latency\":{},\"path\":\"/api/{i}\"}}",
                    i * 7 % 1000
                ),
                2 => format!("[WARN] quote \" backslash \\ tab \t unicode é✓ #{i}"),
                _ => format!("INFO 127.0.0.1 - - GET /index.html 200 {}", i * 13),
            };
            (
                format!("\"{}\"", 37_000_000_000_000_000_000_000u128 + i as u128),
                1_700_000_000_000 + i as i64,
                msg,
            )
        })
        .collect()
}

/// The subscription JSON document, in CloudWatch's field order.
pub fn payload_json(owner: &str, group: &str, stream: &str, events: &[FixtureEvent]) -> String {
    let evs: Vec<String> = events
        .iter()
        .map(|(id, ts, m)| {
            format!(
                r#"{{"id":{id},"timestamp":{ts},"message":{}}}"#,
                serde_json::to_string(m).unwrap()
            )
        })
        .collect();
    format!(
        r#"{{"messageType":"DATA_MESSAGE","owner":{},"logGroup":{},"logStream":{},"subscriptionFilters":["to-central"],"logEvents":[{}]}}"#,
        serde_json::to_string(owner).unwrap(),
        serde_json::to_string(group).unwrap(),
        serde_json::to_string(stream).unwrap(),
        evs.join(",")
    )
}

/// Gzip of `data` (one member).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Event files in `dir`, one per entry of `counts`: a payload of log group `/ecs/orders`, log stream
/// `s<i>`, holding that many [`events`] timestamped in the last ten seconds (recent enough for
/// CloudWatch to take their datapoints).
pub fn recent_event_files(dir: &std::path::Path, counts: &[usize]) -> Vec<std::path::PathBuf> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    counts
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let events: Vec<FixtureEvent> = events(n)
                .into_iter()
                .enumerate()
                .map(|(j, (id, _, m))| (id, now - 10_000 + j as i64, m))
                .collect();
            let gz = gzip(
                payload_json("123456789012", "/ecs/orders", &format!("s{i}"), &events).as_bytes(),
            );
            let path = dir.join(format!("event-{i}.json"));
            std::fs::write(&path, lambda_event(&gz)).unwrap();
            path
        })
        .collect()
}

/// The Lambda event `{"awslogs":{"data":"<base64 of gz>"}}`.
pub fn lambda_event(gz: &[u8]) -> String {
    format!(
        r#"{{"awslogs":{{"data":"{}"}}}}"#,
        base64::engine::general_purpose::STANDARD.encode(gz)
    )
}

/// Creates a one-shard (or `shards`) stream and returns its ARN (moto creates streams ACTIVE).
pub async fn create_stream(client: &aws_sdk_kinesis::Client, name: &str, shards: i32) -> String {
    client
        .create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "CreateStream {name}: {}",
                aws_sdk_kinesis::error::DisplayErrorContext(e)
            )
        });
    let d = client
        .describe_stream_summary()
        .stream_name(name)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "DescribeStreamSummary {name}: {}",
                aws_sdk_kinesis::error::DisplayErrorContext(e)
            )
        });
    d.stream_description_summary()
        .unwrap()
        .stream_arn()
        .to_owned()
}

/// Every record of every shard of the stream (by NAME: moto's GetRecords fails with iterators got
/// by ARN), as (partition key, data), shard by shard in sequence order.
pub async fn read_all(client: &aws_sdk_kinesis::Client, name: &str) -> Vec<(String, Vec<u8>)> {
    let shards = client
        .list_shards()
        .stream_name(name)
        .send()
        .await
        .expect("ListShards");
    let mut out = Vec::new();
    for shard in shards.shards() {
        let it = client
            .get_shard_iterator()
            .stream_name(name)
            .shard_id(shard.shard_id())
            .shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon)
            .send()
            .await
            .expect("GetShardIterator");
        let mut iterator = it.shard_iterator().map(str::to_owned);
        while let Some(i) = iterator {
            let r = client
                .get_records()
                .shard_iterator(i)
                .send()
                .await
                .expect("GetRecords");
            if r.records().is_empty() {
                break;
            }
            for rec in r.records() {
                out.push((
                    rec.partition_key().unwrap_or_default().to_owned(),
                    rec.data().as_ref().to_vec(),
                ));
            }
            iterator = r.next_shard_iterator().map(str::to_owned);
        }
    }
    out
}
