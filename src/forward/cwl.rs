//! `cwl` records: CloudWatch Logs subscription payloads (gzip JSON), as a CloudWatch Logs
//! destination writes them to Kinesis, so a central consumer cannot tell the difference.
//!
//! - All events selected and the received gzip fits in a record: the record data is the received
//!   gzip, byte for byte (no re-encode).
//! - Otherwise the selected events are re-encoded ([`reencode()`]) into as many
//!   payloads as needed, each within the record limit. An event too large for one record is split into
//!   consecutive records with the same `id` and `timestamp` and consecutive message chunks; a
//!   consumer joins the messages of consecutive records of a stream that repeat an id.

mod reencode;

pub use reencode::{gzip, reencode, write_json, EncodedPayload, DEFAULT_COMPRESSION_LEVEL};

use super::{check_selection, partition_key, BatchLimits, ForwardError, Record};
use crate::payload::Decoded;

/// Appends the `cwl` records for the selected events of `decoded` to `out`. No selected event gives
/// no record.
pub fn encode(
    decoded: &Decoded<'_>,
    selected: Option<&[bool]>,
    limits: &BatchLimits,
    compression_level: u32,
    out: &mut Vec<Record>,
) -> Result<(), ForwardError> {
    let data = &decoded.data;
    check_selection(data.log_events.len(), selected)?;
    let count = match selected {
        None => data.log_events.len(),
        Some(s) => s.iter().filter(|&&b| b).count(),
    };
    if count == 0 {
        return Ok(());
    }
    let key = partition_key(&data.log_group, &data.log_stream);
    let max_data = limits.max_data_bytes(&key);
    if count == data.log_events.len() && decoded.gzip.len() <= max_data {
        out.push(Record {
            partition_key: key,
            data: decoded.gzip.to_vec(),
            events: count,
        });
        return Ok(());
    }
    for p in reencode(data, selected, max_data, compression_level)? {
        out.push(Record {
            partition_key: key.clone(),
            data: p.gzip,
            events: p.events,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::Decoder;

    fn payload(messages: &[String]) -> Vec<u8> {
        crate::payload::testing::payload_gz("grp", "str", |i| i.to_string(), messages)
    }

    fn messages_of(records: &[Record]) -> Vec<(String, String)> {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        for r in records {
            let dec = d.decode_gzip(&r.data).unwrap();
            for e in &dec.data.log_events {
                out.push((e.id.to_string(), e.message.to_string()));
            }
        }
        out
    }

    #[test]
    fn unfiltered_is_passed_through_byte_for_byte() {
        let gz = payload(&["a".into(), "b".into()]);
        let mut d = Decoder::default();
        let dec = d.decode_gzip(&gz).unwrap();
        let mut out = Vec::new();
        encode(&dec, None, &BatchLimits::default(), 6, &mut out).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].data, gz);
        assert_eq!(out[0].partition_key, "grp/str");
        assert_eq!(out[0].events, 2);
        let mut out2 = Vec::new();
        encode(
            &dec,
            Some(&[true, true]),
            &BatchLimits::default(),
            6,
            &mut out2,
        )
        .unwrap();
        assert_eq!(out2, out);
    }

    #[test]
    fn filtered_is_reencoded_with_selected_events_only() {
        let gz = payload(&["a".into(), "b".into(), "c".into()]);
        let mut d = Decoder::default();
        let dec = d.decode_gzip(&gz).unwrap();
        let mut out = Vec::new();
        encode(
            &dec,
            Some(&[true, false, true]),
            &BatchLimits::default(),
            6,
            &mut out,
        )
        .unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].events, 2);
        assert_eq!(
            messages_of(&out),
            vec![("0".into(), "a".into()), ("2".into(), "c".into())]
        );
        let mut none = Vec::new();
        encode(
            &dec,
            Some(&[false, false, false]),
            &BatchLimits::default(),
            6,
            &mut none,
        )
        .unwrap();
        assert!(none.is_empty());
        assert!(matches!(
            encode(&dec, Some(&[true]), &BatchLimits::default(), 6, &mut none),
            Err(ForwardError::SelectionLength {
                expected: 3,
                got: 1
            })
        ));
    }

    #[test]
    fn empty_payload_gives_no_record() {
        let gz = payload(&[]);
        let mut d = Decoder::default();
        let dec = d.decode_gzip(&gz).unwrap();
        let mut out = Vec::new();
        encode(&dec, None, &BatchLimits::default(), 6, &mut out).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn event_larger_than_record_limit_is_split_not_dropped() {
        // 2 MiB of poorly compressible text, record limit 1 MiB.
        let mut x: u64 = 0x1234_5678_9abc_def1;
        let big: String = (0..2 * 1024 * 1024)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b' ' + (x % 94) as u8)
            })
            .collect();
        let gz = payload(&["before".into(), big.clone(), "after".into()]);
        let mut d = Decoder::default();
        let dec = d.decode_gzip(&gz).unwrap();
        assert!(dec.gzip.len() > BatchLimits::default().max_record_bytes);
        let mut out = Vec::new();
        encode(&dec, None, &BatchLimits::default(), 6, &mut out).unwrap();
        assert!(out.len() >= 3, "{} records", out.len());
        for r in &out {
            assert!(r.size() <= BatchLimits::default().max_record_bytes);
        }
        assert_eq!(out.iter().map(|r| r.events).sum::<usize>(), 3);
        let got = messages_of(&out);
        assert_eq!(
            got.first().unwrap(),
            &("0".to_string(), "before".to_string())
        );
        assert_eq!(got.last().unwrap(), &("2".to_string(), "after".to_string()));
        let joined: String = got
            .iter()
            .filter(|(id, _)| id == "1")
            .map(|(_, m)| m.as_str())
            .collect();
        assert_eq!(joined, big);
    }
}
