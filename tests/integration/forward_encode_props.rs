//! Properties of the record encoders over arbitrary events, selections and record limits: every
//! record within the limit, every selected event delivered once, in order, with its message intact
//! (split events rejoin), nothing unselected delivered.

use crate::common;

use logrelay::forward::{BatchLimits, Encoder, Format, Record};
use logrelay::payload::Decoder;
use proptest::prelude::*;

fn limits(max_record_bytes: usize) -> BatchLimits {
    BatchLimits {
        max_records: 500,
        max_batch_bytes: 5 * 1024 * 1024,
        max_record_bytes,
    }
}

/// (id, timestamp, message) rejoined from cwl records: consecutive events with the same id are the
/// chunks of one split event (the fixture ids are unique).
fn cwl_events(records: &[Record]) -> Vec<(String, i64, String)> {
    let mut d = Decoder::default();
    let mut out: Vec<(String, i64, String)> = Vec::new();
    for r in records {
        let dec = d.decode_gzip(&r.data).unwrap();
        for e in &dec.data.log_events {
            let id = e.id.to_string();
            match out.last_mut() {
                Some(prev) if prev.0 == id => prev.2.push_str(&e.message.text()),
                _ => out.push((id, e.timestamp, e.message.to_string())),
            }
        }
    }
    out
}

fn ndjson_events(records: &[Record]) -> Vec<(String, i64, String)> {
    let mut out: Vec<(String, i64, String)> = Vec::new();
    for r in records {
        for line in std::str::from_utf8(&r.data).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let id = v["id"].as_str().unwrap().to_owned();
            let msg = v["message"].as_str().unwrap();
            match v.get("part").and_then(|p| p.as_u64()) {
                Some(p) if p > 1 => out.last_mut().unwrap().2.push_str(msg),
                _ => out.push((id, v["timestamp"].as_i64().unwrap(), msg.to_owned())),
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn encoders_deliver_exactly_the_selection(
        messages in proptest::collection::vec("(\\PC|[\\n\\t\"\\\\\\x00-\\x1f]){0,40}|x{500,3000}", 0..30),
        select in proptest::collection::vec(any::<bool>(), 30),
        max_record in 700usize..6000,
    ) {
        let events: Vec<common::FixtureEvent> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| (format!("\"{}\"", 1000 + i), i as i64, m.clone()))
            .collect();
        let gz = common::gzip(common::payload_json("123456789012", "/aws/lambda/f", "2024/01/01/[1]a", &events).as_bytes());
        let mut decoder = Decoder::default();
        let decoded = decoder.decode_gzip(&gz).unwrap();
        let selected = &select[..events.len()];
        let expected: Vec<(String, i64, String)> = events
            .iter()
            .zip(selected)
            .filter(|(_, &s)| s)
            .map(|((id, ts, m), _)| (id.trim_matches('"').to_owned(), *ts, m.clone()))
            .collect();

        for format in [Format::Cwl, Format::Ndjson] {
            let mut records = Vec::new();
            Encoder::new(format, limits(max_record)).unwrap().encode(&decoded, Some(selected), Some("eu-west-1"), &mut records).unwrap();
            for r in &records {
                prop_assert!(r.size() <= max_record, "{format}: record of {} bytes over {max_record}", r.size());
            }
            prop_assert_eq!(records.iter().map(|r| r.events).sum::<usize>(), expected.len());
            let got = match format {
                Format::Cwl => cwl_events(&records),
                Format::Ndjson => ndjson_events(&records),
            };
            prop_assert_eq!(&got, &expected, "{}", format);
        }
    }
}
