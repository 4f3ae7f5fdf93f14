//! Re-encoding a selection of events as subscription payloads (gzip JSON) of bounded size.
//!
//! [`write_json`] writes the document back in CloudWatch's field order (messageType, owner,
//! logGroup, logStream, subscriptionFilters, logEvents, then policyLevel when present), compact, with
//! `id` as received. [`reencode`] gzips a selection of events into payloads of bounded size,
//! splitting the events over several payloads, and splitting a single event too large for one payload
//! into consecutive message chunks that repeat the event's `id` and `timestamp`.

use crate::json;
use crate::payload::{LogEvent, LogsData, Message, PayloadError};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;

/// Default gzip level for re-encoded payloads (zlib's default: a good ratio at moderate cost).
pub const DEFAULT_COMPRESSION_LEVEL: u32 = 6;

/// Writes the subscription document of `data` with `events` in CloudWatch's field order, compact.
pub fn write_json<'e, 'x: 'e>(
    data: &LogsData<'_>,
    events: impl IntoIterator<Item = &'e LogEvent<'x>>,
    out: &mut Vec<u8>,
) {
    write_json_head(data, out);
    let mut first = true;
    for ev in events {
        if !first {
            out.push(b',');
        }
        first = false;
        write_event(ev, &ev.message, out);
    }
    write_json_tail(data, out);
}

fn write_json_head(data: &LogsData<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"messageType\":");
    json::write_str(out, data.message_type.as_str());
    out.extend_from_slice(b",\"owner\":");
    json::write_str(out, &data.owner);
    out.extend_from_slice(b",\"logGroup\":");
    json::write_str(out, &data.log_group);
    out.extend_from_slice(b",\"logStream\":");
    json::write_str(out, &data.log_stream);
    out.extend_from_slice(b",\"subscriptionFilters\":[");
    for (i, f) in data.subscription_filters.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        json::write_str(out, f);
    }
    out.extend_from_slice(b"],\"logEvents\":[");
}

/// Writes `ev` with `message` (its own, or a chunk of it); its `extractedFields`, when it has
/// them, follow the message exactly as received.
fn write_event(ev: &LogEvent<'_>, message: &Message<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"id\":");
    ev.id.write_json(out);
    out.extend_from_slice(b",\"timestamp\":");
    json::write_i64(out, ev.timestamp);
    out.extend_from_slice(b",\"message\":");
    message.write_json(out);
    if let Some(fields) = &ev.extracted_fields {
        out.extend_from_slice(b",\"extractedFields\":");
        out.extend_from_slice(fields.raw_json().as_bytes());
    }
    out.push(b'}');
}

fn write_json_tail(data: &LogsData<'_>, out: &mut Vec<u8>) {
    out.push(b']');
    if let Some(p) = &data.policy_level {
        out.extend_from_slice(b",\"policyLevel\":");
        json::write_str(out, p);
    }
    out.push(b'}');
}

/// Gzips `input` into `out` (appending) at `level` (0–9).
pub fn gzip(input: &[u8], level: u32, out: &mut Vec<u8>) {
    let mut enc = GzEncoder::new(out, Compression::new(level.min(9)));
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(input);
    let _ = enc.finish();
}

/// One re-encoded payload: gzip JSON in the subscription shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedPayload {
    /// The gzip bytes.
    pub gzip: Vec<u8>,
    /// Events this payload completes: an event split into message chunks counts in its last chunk.
    pub events: usize,
    /// For a chunk of a split event: (1-based part, number of parts).
    pub part: Option<(usize, usize)>,
}

/// Re-encodes the selected events of `data` into gzip payloads of at most `max_gzip_bytes` each,
/// in event order. `selected` (one flag per event) picks the events; `None` selects all. No selected
/// event gives no payload.
///
/// Events are split over as many payloads as needed. An event whose payload alone exceeds the limit
/// is split at UTF-8 character boundaries into consecutive message chunks, each in its own payload
/// with the same `id` and `timestamp` (a consumer joins the messages of consecutive payloads that
/// repeat an id); it is never dropped.
pub fn reencode(
    data: &LogsData<'_>,
    selected: Option<&[bool]>,
    max_gzip_bytes: usize,
    level: u32,
) -> Result<Vec<EncodedPayload>, PayloadError> {
    let events: Vec<&LogEvent<'_>> = match selected {
        None => data.log_events.iter().collect(),
        Some(sel) => data
            .log_events
            .iter()
            .zip(sel)
            .filter_map(|(e, &s)| s.then_some(e))
            .collect(),
    };
    let mut out = Vec::new();
    if events.is_empty() {
        return Ok(out);
    }
    let mut enc = ReEncoder {
        data,
        max: max_gzip_bytes,
        level,
        json: Vec::new(),
    };
    enc.encode_range(&events, &mut out)?;
    Ok(out)
}

struct ReEncoder<'d, 'a> {
    data: &'d LogsData<'a>,
    max: usize,
    level: u32,
    json: Vec<u8>,
}

impl ReEncoder<'_, '_> {
    fn compress<'e, 'x: 'e>(
        &mut self,
        events: impl IntoIterator<Item = &'e LogEvent<'x>>,
    ) -> Vec<u8> {
        self.json.clear();
        write_json(self.data, events, &mut self.json);
        let mut gz = Vec::with_capacity(self.json.len() / 4 + 64);
        gzip(&self.json, self.level, &mut gz);
        gz
    }

    fn encode_range(
        &mut self,
        events: &[&LogEvent<'_>],
        out: &mut Vec<EncodedPayload>,
    ) -> Result<(), PayloadError> {
        let gz = self.compress(events.iter().copied());
        if gz.len() <= self.max {
            out.push(EncodedPayload {
                gzip: gz,
                events: events.len(),
                part: None,
            });
            return Ok(());
        }
        if let [single] = events {
            return self.split_event(single, out);
        }
        // Cut into k parts of about equal JSON size, aiming at 90 % of the limit each; parts that
        // still do not fit are cut again.
        let k = gz
            .len()
            .div_ceil(self.max * 9 / 10 + 1)
            .clamp(2, events.len());
        let sizes: Vec<usize> = events.iter().map(|e| e.message.held_len() + 64).collect();
        let total: usize = sizes.iter().sum();
        let mut start = 0;
        let mut acc = 0;
        let mut part = 1;
        for (i, s) in sizes.iter().enumerate() {
            acc += s;
            let remaining_parts = k - part;
            let must_cut = events.len() - (i + 1) == remaining_parts;
            if part < k && (acc * k >= total * part || must_cut) {
                self.encode_range(&events[start..=i], out)?;
                start = i + 1;
                part += 1;
            }
        }
        if start < events.len() {
            self.encode_range(&events[start..], out)?;
        }
        Ok(())
    }

    fn split_event(
        &mut self,
        ev: &LogEvent<'_>,
        out: &mut Vec<EncodedPayload>,
    ) -> Result<(), PayloadError> {
        let empty = LogEvent::new(ev.id.clone(), ev.timestamp, Message::from(""))
            .with_extracted_fields(ev.extracted_fields.clone());
        self.json.clear();
        write_json(self.data, [&empty], &mut self.json);
        let envelope = self.json.len() + 32;
        // Gzip adds 18 bytes of framing and, for incompressible data, 5 bytes per stored block.
        let mut budget = (self.max.saturating_sub(envelope)) * 127 / 128;
        let text = ev.message.text();
        while budget >= 8 {
            let Some(chunks) = json::split_escaped(&text, budget) else {
                break;
            };
            let n = chunks.len();
            let mut parts = Vec::with_capacity(n);
            let mut fits = true;
            for (i, chunk) in chunks.into_iter().enumerate() {
                let piece = LogEvent::new(ev.id.clone(), ev.timestamp, Message::from(chunk))
                    .with_extracted_fields(ev.extracted_fields.clone());
                let gz = self.compress([&piece]);
                if gz.len() > self.max {
                    fits = false;
                    break;
                }
                parts.push(EncodedPayload {
                    gzip: gz,
                    events: usize::from(i + 1 == n),
                    part: Some((i + 1, n)),
                });
            }
            if fits {
                out.extend(parts);
                return Ok(());
            }
            budget = budget * 3 / 4;
        }
        Err(PayloadError::LimitTooSmall {
            limit: self.max,
            needed: envelope + 32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::testing::{gz, DOC};
    use crate::payload::{Decoder, EventId, MessageType};
    use std::borrow::Cow;

    #[test]
    fn reencode_roundtrip_keeps_order_and_ids() {
        let bytes = gz(DOC);
        let mut d = Decoder::default();
        let dec = d.decode_gzip(&bytes).unwrap();
        let mut json = Vec::new();
        write_json(&dec.data, &dec.data.log_events, &mut json);
        let expected = r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/app","logStream":"2024/01/01/[$LATEST]abc","subscriptionFilters":["f1"],"logEvents":[{"id":"1","timestamp":10,"message":"plain"},{"id":2,"timestamp":11,"message":"esc\"aped\n"}]}"#;
        assert_eq!(std::str::from_utf8(&json).unwrap(), expected);
    }

    #[test]
    fn extracted_fields_are_written_back_as_received() {
        // As a subscription with emitSystemFields delivers it: the document is written back
        // byte for byte, the extractedFields object included (spacing and all).
        let doc = r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":10,"message":"a \"q\"","extractedFields":{"@aws.account":"123456789012", "@aws.region":"us-east-1"}},{"id":"2","timestamp":11,"message":"b"}]}"#;
        let bytes = gz(doc);
        let mut d = Decoder::default();
        let dec = d.decode_gzip(&bytes).unwrap();
        let mut json = Vec::new();
        write_json(&dec.data, &dec.data.log_events, &mut json);
        assert_eq!(std::str::from_utf8(&json).unwrap(), doc);
        // A split event repeats them in every chunk.
        let big = "y".repeat(3000);
        let doc = doc.replace("a \\\"q\\\"", &big);
        let bytes = gz(&doc);
        let dec = d.decode_gzip(&bytes).unwrap();
        let payloads = reencode(&dec.data, Some(&[true, false]), 600, 0).unwrap();
        assert!(payloads.len() > 1, "{}", payloads.len());
        let mut dec2 = Decoder::default();
        for p in &payloads {
            let back = dec2.decode_gzip(&p.gzip).unwrap();
            let x = back.data.log_events[0].extracted_fields.as_ref().unwrap();
            assert_eq!(x.get("@aws.region"), Some("us-east-1"));
        }
    }

    #[test]
    fn reencode_splits_and_chunks() {
        let big = "x".repeat(5000);
        let events: Vec<LogEvent<'_>> = (0..50)
            .map(|i| {
                LogEvent::new(
                    EventId::Int(i),
                    i as i64,
                    Message::from(format!("{i} {}", fastrand_like(i))),
                )
            })
            .chain(std::iter::once(LogEvent::new(
                EventId::Str(Cow::Borrowed("big")),
                99,
                Message::from(big.as_str()),
            )))
            .collect();
        let data = LogsData {
            message_type: MessageType::DataMessage,
            owner: "1".into(),
            log_group: "g".into(),
            log_stream: "s".into(),
            subscription_filters: vec![],
            log_events: events,
            policy_level: Some("ACCOUNT_LEVEL_POLICY".into()),
            region: None,
        };
        let payloads = reencode(&data, None, 600, 0).unwrap();
        assert!(payloads.len() > 2);
        let mut d = Decoder::default();
        let mut seen = Vec::new();
        let mut big_again = String::new();
        for p in &payloads {
            assert!(p.gzip.len() <= 600);
            let dec = d.decode_gzip(&p.gzip).unwrap();
            assert_eq!(
                dec.data.policy_level.as_deref(),
                Some("ACCOUNT_LEVEL_POLICY")
            );
            for e in &dec.data.log_events {
                if e.id == EventId::Str(Cow::Borrowed("big")) {
                    big_again.push_str(&e.message.text());
                } else {
                    seen.push(e.message.to_string());
                }
            }
        }
        assert_eq!(big_again, big);
        let expected: Vec<String> = data.log_events[..50]
            .iter()
            .map(|e| e.message.to_string())
            .collect();
        assert_eq!(seen, expected);
        assert_eq!(payloads.iter().map(|p| p.events).sum::<usize>(), 51);
    }

    fn fastrand_like(i: u64) -> String {
        // Deterministic, poorly compressible text.
        let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..40)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b'a' + (x % 26) as u8)
            })
            .collect()
    }
}
