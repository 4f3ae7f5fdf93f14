//! `ndjson` records: one compact JSON line per event, uncompressed, packed into records.
//!
//! A line: `{"owner":…,"logGroup":…,"logStream":…,"id":…,"timestamp":…,"message":…}`, then the
//! event's `"extractedFields":{…}` exactly as received when it has them, followed by
//! the enrichment members (`region`, `ecs`, `elasticBeanstalk`, `lambda`, see [`crate::enrich`]) and
//! `\n`. `id` is written as received (string or number). Lines are packed in order into records of
//! at most the record limit; a line is never split across records, except for an event whose line
//! alone exceeds the limit: its message is then split at character boundaries into consecutive lines
//! marked `"part":i,"parts":n` (1-based), each a complete JSON line with the same id and timestamp.
//!
//! The owner/group/stream prefix and the enrichment suffix are written once per payload; per event
//! the encoder only writes into reused buffers (no allocation per event).

use super::{check_selection, partition_key, BatchLimits, ForwardError, Record};
use crate::enrich::Enrichment;
use crate::json;
use crate::payload::{LogEvent, LogsData, PayloadError};
use std::io::Write;

/// The member that carries an event's `extractedFields` (the object as received) after its message.
const EXTRACTED_FIELDS_MEMBER: &[u8] = b",\"extractedFields\":";

/// Room reserved in a split line for `,"part":i,"parts":n` (two 20-digit numbers).
const PART_MEMBERS_MAX: usize = ",\"part\":,\"parts\":".len() + 40;

/// Encodes payloads into ndjson records, reusing its buffers.
#[derive(Debug, Default)]
pub struct NdjsonEncoder {
    prefix: Vec<u8>,
    suffix: Vec<u8>,
    line: Vec<u8>,
}

impl NdjsonEncoder {
    /// Appends the ndjson records for the selected events of `data` to `out` (`selected`: one flag
    /// per event, None = all). No selected event gives no record. An event's
    /// [`raw`](crate::payload::LogEvent::raw) text, when it has one, is copied instead of written
    /// again (it is exactly what would be written).
    pub fn encode(
        &mut self,
        data: &LogsData<'_>,
        selected: Option<&[bool]>,
        enrichment: &Enrichment<'_>,
        limits: &BatchLimits,
        out: &mut Vec<Record>,
    ) -> Result<(), ForwardError> {
        check_selection(data.log_events.len(), selected)?;
        let key = partition_key(&data.log_group, &data.log_stream);
        let max_data = limits.max_data_bytes(&key);

        self.prefix.clear();
        self.prefix.extend_from_slice(b"{\"owner\":");
        json::write_str(&mut self.prefix, &data.owner);
        self.prefix.extend_from_slice(b",\"logGroup\":");
        json::write_str(&mut self.prefix, &data.log_group);
        self.prefix.extend_from_slice(b",\"logStream\":");
        json::write_str(&mut self.prefix, &data.log_stream);
        self.prefix.push(b',');
        self.suffix.clear();
        enrichment.write_json_members(&mut self.suffix);
        self.suffix.extend_from_slice(b"}\n");

        // Bytes of a line beyond its message, for the estimate of a line written from the event:
        // the prefix, the suffix and 64 for the id, the timestamp and the member names. It can fall
        // short (a 56-digit id takes more); a line that then overflows its record is moved to the
        // next one once written (`Packer::placed`). Lines copied as received have an exact size.
        let line_overhead = self.prefix.len() + self.suffix.len() + 64;
        let mut packer = Packer {
            key,
            max_data,
            capacity: limits.max_record_bytes.max(max_data),
            cur: Vec::new(),
            cur_events: 0,
            out,
        };
        for (i, ev) in data.log_events.iter().enumerate() {
            if selected.is_some_and(|s| !s[i]) {
                continue;
            }
            let text;
            // The event's members as received, when they are what this encoder writes; else the
            // message's escaped form, as received or as the event holds it.
            let escaped = ev.raw.message.or_else(|| ev.message.escaped_json());
            let extracted = ev
                .extracted_fields
                .as_ref()
                .map_or(0, |f| EXTRACTED_FIELDS_MEMBER.len() + f.raw_json().len());
            let (line, estimate) = match (ev.raw.members, escaped) {
                (Some(members), _) => (
                    Line::Members(members),
                    self.prefix.len() + members.len() + extracted + self.suffix.len(),
                ),
                (None, Some(escaped)) => (
                    Line::Event(Message::Escaped(escaped)),
                    escaped.len() + extracted + line_overhead,
                ),
                (None, None) => {
                    text = ev.message.text();
                    let len = text.len();
                    (
                        Line::Event(Message::Text(&text)),
                        len + len / 8 + extracted + line_overhead,
                    )
                }
            };
            // The line is written in place at the end of the current record.
            packer.make_room(estimate);
            let start = packer.cur.len();
            write_line(&mut packer.cur, &self.prefix, &self.suffix, ev, line, None);
            let len = packer.cur.len() - start;
            if len <= max_data {
                packer.placed(start, 1);
                continue;
            }
            packer.cur.truncate(start);
            // Too large for one record: split the message into marked parts.
            self.line.clear();
            write_line(
                &mut self.line,
                &self.prefix,
                &self.suffix,
                ev,
                Line::Event(Message::Text("")),
                None,
            );
            let overhead = self.line.len() + PART_MEMBERS_MAX;
            let whole = ev.message.text();
            let chunks = max_data
                .checked_sub(overhead)
                .and_then(|budget| json::split_escaped(&whole, budget))
                .ok_or(PayloadError::LimitTooSmall {
                    limit: max_data,
                    needed: overhead + 6,
                })?;
            let n = chunks.len();
            for (p, chunk) in chunks.into_iter().enumerate() {
                self.line.clear();
                write_line(
                    &mut self.line,
                    &self.prefix,
                    &self.suffix,
                    ev,
                    Line::Event(Message::Text(chunk)),
                    Some((p + 1, n)),
                );
                packer.push(&self.line, usize::from(p + 1 == n));
            }
        }
        packer.flush();
        Ok(())
    }
}

/// What a line holds between the prefix and the suffix: the event's
/// `"id":…,"timestamp":…,"message":"…"` members copied as received, or written from the event.
#[derive(Clone, Copy)]
enum Line<'m> {
    Members(&'m str),
    Event(Message<'m>),
}

/// A message to write: text to escape, or JSON string content to copy as is.
#[derive(Clone, Copy)]
enum Message<'m> {
    Text(&'m str),
    Escaped(&'m str),
}

fn write_line(
    line: &mut Vec<u8>,
    prefix: &[u8],
    suffix: &[u8],
    ev: &LogEvent<'_>,
    content: Line<'_>,
    part: Option<(usize, usize)>,
) {
    line.extend_from_slice(prefix);
    match content {
        Line::Members(m) => {
            line.reserve(m.len() + suffix.len());
            line.extend_from_slice(m.as_bytes());
        }
        Line::Event(message) => {
            line.extend_from_slice(b"\"id\":");
            ev.id.write_json(line);
            line.extend_from_slice(b",\"timestamp\":");
            json::write_i64(line, ev.timestamp);
            line.extend_from_slice(b",\"message\":");
            match message {
                Message::Text(m) => json::write_str(line, m),
                Message::Escaped(m) => json::write_content(line, m),
            }
        }
    }
    if let Some(fields) = &ev.extracted_fields {
        line.extend_from_slice(EXTRACTED_FIELDS_MEMBER);
        // As received, but on one line: a CR or LF there can only be whitespace between tokens
        // (JSON strings escape them), so a space stands in for it.
        let raw = fields.raw_json().as_bytes();
        if raw.iter().any(|&b| b == b'\n' || b == b'\r') {
            line.extend(raw.iter().map(|&b| match b {
                b'\n' | b'\r' => b' ',
                b => b,
            }));
        } else {
            line.extend_from_slice(raw);
        }
    }
    if let Some((i, n)) = part {
        let _ = write!(line, ",\"part\":{i},\"parts\":{n}");
    }
    line.extend_from_slice(suffix);
}

struct Packer<'o> {
    key: String,
    max_data: usize,
    /// The capacity of every record buffer: the record limit, whatever the payload, so that the
    /// buffers of one payload, once sent and freed, are reused whole by the next payload's
    /// (buffers sized to each payload leave holes in the heap that the next ones do not fit, and
    /// make them touch fresh pages). Only the bytes written are ever touched.
    capacity: usize,
    cur: Vec<u8>,
    cur_events: usize,
    out: &'o mut Vec<Record>,
}

impl Packer<'_> {
    /// Before a line of about `estimate` bytes is written in place: ends the current record if
    /// the line would not fit in it, and gives a new record its buffer. With an exact estimate (a
    /// line of members copied as received) a record buffer never grows.
    fn make_room(&mut self, estimate: usize) {
        if !self.cur.is_empty() && self.cur.len() + estimate > self.max_data {
            self.flush();
        }
        if self.cur.capacity() == 0 {
            self.cur = Vec::with_capacity(self.capacity);
        }
    }

    fn push(&mut self, line: &[u8], events: usize) {
        self.make_room(line.len());
        self.cur.extend_from_slice(line);
        self.cur_events += events;
    }

    /// Accounts for a line (of at most `max_data` bytes) already written at `start..` of the
    /// current record, moving it to a new record when the current one would exceed the limit.
    fn placed(&mut self, start: usize, events: usize) {
        if self.cur.len() > self.max_data && start > 0 {
            let line = self.cur.split_off(start);
            self.flush();
            self.push(&line, events);
        } else {
            self.cur_events += events;
        }
    }

    fn flush(&mut self) {
        if self.cur.is_empty() {
            return;
        }
        self.out.push(Record {
            partition_key: self.key.clone(),
            data: std::mem::take(&mut self.cur),
            events: std::mem::take(&mut self.cur_events),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::{EventId, MessageType};
    use std::borrow::Cow;

    fn data(messages: &[&'static str]) -> LogsData<'static> {
        LogsData {
            message_type: MessageType::DataMessage,
            owner: "123456789012".into(),
            log_group: "/aws/lambda/orders".into(),
            log_stream: "2024/01/01/[$LATEST]abc".into(),
            subscription_filters: vec!["f".into()],
            log_events: messages
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let id = if i % 2 == 0 {
                        EventId::Str(Cow::Owned(i.to_string()))
                    } else {
                        EventId::Int(i as u64)
                    };
                    LogEvent::new(id, 1000 + i as i64, crate::payload::Message::from(*m))
                })
                .collect(),
            policy_level: None,
            region: None,
        }
    }

    fn lines(records: &[Record]) -> Vec<serde_json::Value> {
        records
            .iter()
            .flat_map(|r| {
                assert_eq!(r.data.last(), Some(&b'\n'));
                std::str::from_utf8(&r.data)
                    .unwrap()
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn one_enriched_line_per_selected_event() {
        let d = data(&["first \"q\"", "second", "third"]);
        let e = Enrichment::from_names(&d.owner, &d.log_group, &d.log_stream, Some("us-east-1"));
        let mut out = Vec::new();
        NdjsonEncoder::default()
            .encode(
                &d,
                Some(&[true, true, false]),
                &e,
                &BatchLimits::default(),
                &mut out,
            )
            .unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].events, 2);
        let text = std::str::from_utf8(&out[0].data).unwrap();
        assert_eq!(
            text.lines().next().unwrap(),
            r#"{"owner":"123456789012","logGroup":"/aws/lambda/orders","logStream":"2024/01/01/[$LATEST]abc","id":"0","timestamp":1000,"message":"first \"q\"","region":"us-east-1","lambda":{"functionName":"orders","version":"$LATEST"}}"#
        );
        let l = lines(&out);
        assert_eq!(l[1]["id"], 1);
        assert_eq!(l[1]["message"], "second");
    }

    #[test]
    fn extracted_fields_follow_the_message_as_received() {
        let mut d = data(&["first", "second"]);
        let x = crate::payload::ExtractedFields::from_json(std::borrow::Cow::Borrowed(
            r#"{"@aws.account":"123456789012", "@aws.region":"us-east-1"}"#,
        ))
        .unwrap();
        d.log_events[0] = d.log_events[0].clone().with_extracted_fields(x);
        let e = Enrichment::from_names(&d.owner, &d.log_group, &d.log_stream, None);
        let mut out = Vec::new();
        NdjsonEncoder::default()
            .encode(&d, None, &e, &BatchLimits::default(), &mut out)
            .unwrap();
        let text = std::str::from_utf8(&out[0].data).unwrap();
        let first = text.lines().next().unwrap();
        assert!(
            first.contains(r#""message":"first","extractedFields":{"@aws.account":"123456789012", "@aws.region":"us-east-1"}"#),
            "{first}"
        );
        let l = lines(&out);
        assert_eq!(l[0]["extractedFields"]["@aws.region"], "us-east-1");
        assert!(l[1].get("extractedFields").is_none());

        // Received with line breaks between its tokens: still one line per event.
        let x = crate::payload::ExtractedFields::from_json(std::borrow::Cow::Borrowed(
            "{\r\n\"@aws.account\": \"1\\n2\"\n}",
        ))
        .unwrap();
        d.log_events[0] = d.log_events[0].clone().with_extracted_fields(x);
        let mut out = Vec::new();
        NdjsonEncoder::default()
            .encode(&d, None, &e, &BatchLimits::default(), &mut out)
            .unwrap();
        let l = lines(&out);
        assert_eq!(l.len(), 2);
        assert_eq!(l[0]["extractedFields"]["@aws.account"], "1\n2");
    }

    #[test]
    fn lines_are_packed_up_to_the_limit_never_split() {
        let msgs: Vec<&'static str> = (0..100).map(|_| "0123456789").collect();
        let d = data(&msgs);
        let e = Enrichment::default();
        let limits = BatchLimits {
            max_records: 500,
            max_batch_bytes: 5000,
            max_record_bytes: 1000,
        };
        let mut out = Vec::new();
        NdjsonEncoder::default()
            .encode(&d, None, &e, &limits, &mut out)
            .unwrap();
        assert!(out.len() > 1);
        for r in &out {
            assert!(r.size() <= 1000, "{}", r.size());
        }
        assert_eq!(out.iter().map(|r| r.events).sum::<usize>(), 100);
        assert_eq!(lines(&out).len(), 100);
    }

    #[test]
    fn oversize_event_is_split_into_marked_parts() {
        let big: &'static str = Box::leak("é\"x".repeat(1000).into_boxed_str());
        let d = data(&["small", big, "tail"]);
        let e = Enrichment::default();
        let limits = BatchLimits {
            max_records: 500,
            max_batch_bytes: 5000,
            max_record_bytes: 1000,
        };
        let mut out = Vec::new();
        NdjsonEncoder::default()
            .encode(&d, None, &e, &limits, &mut out)
            .unwrap();
        for r in &out {
            assert!(r.size() <= 1000);
        }
        let l = lines(&out);
        assert_eq!(l.first().unwrap()["message"], "small");
        assert_eq!(l.last().unwrap()["message"], "tail");
        let parts: Vec<&serde_json::Value> = l.iter().filter(|v| v.get("part").is_some()).collect();
        let n = parts.len();
        assert!(n > 4);
        let mut joined = String::new();
        for (i, p) in parts.iter().enumerate() {
            assert_eq!(p["part"], i + 1);
            assert_eq!(p["parts"], n);
            assert_eq!(p["id"], 1);
            joined.push_str(p["message"].as_str().unwrap());
        }
        assert_eq!(joined, big);
        assert_eq!(out.iter().map(|r| r.events).sum::<usize>(), 3);
    }

    #[test]
    fn empty_payload_gives_no_record() {
        let mut out = Vec::new();
        NdjsonEncoder::default()
            .encode(
                &data(&[]),
                None,
                &Enrichment::default(),
                &BatchLimits::default(),
                &mut out,
            )
            .unwrap();
        assert!(out.is_empty());
    }
}
