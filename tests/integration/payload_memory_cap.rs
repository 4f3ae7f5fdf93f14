//! The decompression cap a 128 MB function gets from its memory (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`),
//! at the cap: a payload of exactly the cap goes through the relay, one byte more is rejected as a
//! payload error that names the cap — not left to run the function out of memory.

use crate::common;

use logrelay::config::{Config, ENV_FUNCTION_MEMORY_SIZE};
use logrelay::forward::NullSink;
use logrelay::metrics::NullMetricSink;
use logrelay::pipeline::{EventsRegion, Pipeline, Relay, RelayError};
use std::sync::Arc;

/// A Lambda event whose payload JSON is exactly `len` bytes: one event whose message pads it.
fn event_of_decompressed_len(len: usize) -> String {
    let frame = |message: &str| {
        format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{{"id":"1","timestamp":1700000000000,"message":"{message}"}}]}}"#
        )
    };
    let overhead = frame("").len();
    let json = frame(&"x".repeat(len - overhead));
    assert_eq!(json.len(), len);
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut e, json.as_bytes()).unwrap();
    common::lambda_event(&e.finish().unwrap())
}

#[tokio::test]
async fn a_128_mb_function_takes_a_payload_at_its_cap_and_rejects_one_byte_more() {
    let config =
        Config::from_lookup(|name| (name == ENV_FUNCTION_MEMORY_SIZE).then(|| "128".to_string()))
            .unwrap();
    let cap = config.max_decompressed_bytes;
    assert_eq!(cap, logrelay::payload::max_decompressed_for_memory(128));
    let relay = Relay::new(
        Pipeline::new(Arc::new(config), None, EventsRegion::Unknown).unwrap(),
        Some(NullSink::default()),
        NullMetricSink,
    );

    let report = relay
        .handle_event(event_of_decompressed_len(cap).as_bytes(), None)
        .await
        .unwrap();
    assert_eq!(report.stats.events, 1);
    assert_eq!(report.stats.records, 1);

    match relay
        .handle_event(event_of_decompressed_len(cap + 1).as_bytes(), None)
        .await
    {
        Err(e @ RelayError::Payload(_)) => {
            let text = e.to_string();
            assert!(
                text.starts_with("payload rejected: ")
                    && text.contains(&format!("cap of {cap} bytes")),
                "{text}"
            );
        }
        other => panic!("expected a payload error naming the cap, got {other:?}"),
    }
}
