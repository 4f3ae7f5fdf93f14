//! Fuzzes the subscription payload decoder and the record encoders fed from it.
//!
//! The first byte picks the entry point (Lambda event JSON, base64 data, or raw gzip); the rest is
//! the input. Whatever decodes is re-encoded (cwl pass-through and re-encode with a small record
//! limit, ndjson), and the re-encoded cwl payloads must decode again to the same events.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logrelay::forward::{BatchLimits, Encoder, Format};
use logrelay::payload::Decoder;

fuzz_target!(|input: &[u8]| {
    let Some((&mode, bytes)) = input.split_first() else {
        return;
    };
    let mut decoder = Decoder::new(4 * 1024 * 1024);
    let decoded = match mode % 3 {
        0 => decoder.decode_event(bytes),
        1 => decoder.decode_data(bytes),
        _ => decoder.decode_gzip(bytes),
    };
    let Ok(decoded) = decoded else {
        return;
    };
    let limits = BatchLimits {
        max_records: 500,
        max_batch_bytes: 5 * 1024 * 1024,
        max_record_bytes: 4096,
    };
    let n = decoded.data.log_events.len();
    let selected: Vec<bool> = (0..n).map(|i| (i + usize::from(mode)) % 3 != 0).collect();
    let mut records = Vec::new();
    let mut cwl = Encoder::new(Format::Cwl, limits).expect("valid limits");
    if cwl
        .encode(&decoded, Some(&selected), None, &mut records)
        .is_ok()
    {
        let mut again = Decoder::new(4 * 1024 * 1024);
        let mut messages = String::new();
        for r in &records {
            assert!(r.size() <= limits.max_record_bytes);
            let d = again
                .decode_gzip(&r.data)
                .expect("re-encoded payloads decode");
            for e in &d.data.log_events {
                messages.push_str(&e.message.text());
            }
        }
        let expected: String = decoded
            .data
            .log_events
            .iter()
            .zip(&selected)
            .filter(|(_, &s)| s)
            .map(|(e, _)| e.message.text())
            .collect();
        assert_eq!(messages, expected);
    }
    records.clear();
    let mut ndjson = Encoder::new(Format::Ndjson, limits).expect("valid limits");
    let _ = ndjson.encode(&decoded, None, Some("us-east-1"), &mut records);
    for r in &records {
        assert!(r.size() <= limits.max_record_bytes);
    }
});
