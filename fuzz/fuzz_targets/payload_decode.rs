//! Fuzzes the payload decoders (the subscription payload, and the hub's Kinesis event and record
//! data) and the record encoders fed from them.
//!
//! The first byte picks the entry point: a subscription Lambda event (0), its base64 data (1), raw
//! gzip (2), a Kinesis Lambda event whose records are decoded in turn (3), or Kinesis record data,
//! `cwl` gzip or `ndjson` lines (4); the rest is the input. A decoded subscription payload is
//! re-encoded (cwl pass-through and re-encode with a small record limit, ndjson): the cwl records
//! must decode again to the same messages, and so must the ndjson records, read as the hub reads
//! them.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use logrelay::forward::{BatchLimits, Encoder, Format};
use logrelay::payload::{kinesis, Decoder};

const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fuzz_target!(|input: &[u8]| {
    let Some((&mode, bytes)) = input.split_first() else {
        return;
    };
    let mut decoder = Decoder::new(4 * 1024 * 1024);
    let decoded = match mode % 5 {
        0 => decoder.decode_event(bytes),
        1 => decoder.decode_data(bytes),
        2 => decoder.decode_gzip(bytes),
        3 => {
            // Every record of an event that parses decodes or fails cleanly.
            if let Ok(event) = kinesis::parse_event(bytes) {
                for record in &event.records {
                    let _ = decoder.decode_record(record.kinesis.data.as_bytes());
                }
            }
            return;
        }
        _ => {
            let _ = decoder.decode_record(BASE64.encode(bytes).as_bytes());
            return;
        }
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
    if ndjson
        .encode(&decoded, None, Some("us-east-1"), &mut records)
        .is_ok()
    {
        let mut again = Decoder::new(4 * 1024 * 1024);
        let mut messages = String::new();
        let mut split = false;
        for r in &records {
            assert!(r.size() <= limits.max_record_bytes);
            match again.decode_record(BASE64.encode(&r.data).as_bytes()) {
                Ok(record) => {
                    for p in &record.payloads {
                        assert_eq!(p.data.owner, decoded.data.owner);
                        assert_eq!(p.data.log_group, decoded.data.log_group);
                        assert_eq!(p.data.log_stream, decoded.data.log_stream);
                        for e in &p.data.log_events {
                            messages.push_str(&e.message.text());
                        }
                    }
                }
                // An event too large for one record is split into parts, which the hub refuses.
                Err(logrelay::payload::PayloadError::SplitEvent { .. }) => split = true,
                Err(e) => panic!("an ndjson record logrelay wrote does not decode: {e}"),
            }
        }
        if !split {
            let expected: String = decoded
                .data
                .log_events
                .iter()
                .map(|e| e.message.text())
                .collect();
            assert_eq!(messages, expected);
        }
    }
});
