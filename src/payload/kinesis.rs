//! Kinesis events: what the hub function receives from its event source mapping on the central
//! stream, and the records in them.
//!
//! Lambda delivers a batch of stream records as
//!
//! ```json
//! {"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"…","sequenceNumber":"4959…",
//!   "data":"<base64>","approximateArrivalTimestamp":1700000000.5},"eventSource":"aws:kinesis",
//!   "eventID":"shardId-000000000000:4959…","eventSourceARN":"arn:aws:kinesis:…",…}]}
//! ```
//!
//! (Lambda developer guide, "Using Lambda with Kinesis Data Streams"). A record's data is one of:
//!
//! - gzip (`1f 8b`): a CloudWatch Logs subscription document — what a CloudWatch Logs destination
//!   writes (`DATA_MESSAGE`, or the `CONTROL_MESSAGE` it sends to check the stream), and what a
//!   logrelay source function writes in the `cwl` format ([`crate::forward::cwl`]);
//! - JSON lines (`{`): logrelay's `ndjson` format ([`crate::forward::ndjson`] writes it), one
//!   event per line with its `owner`, `logGroup` and `logStream`. Consecutive lines of the same
//!   owner, group and stream become one payload; members a line has beyond the event's (the
//!   enrichment) are ignored.
//!
//! An ndjson line marked `"part"`/`"parts"` holds a fragment of an event too large for one record:
//! its other fragments are in other records (possibly of another batch), so the event cannot be
//! evaluated whole from this record, and the record is refused ([`PayloadError::SplitEvent`]).

use super::error::strip_position;
use super::scan::{self, NdjsonLine};
use super::{
    Decoded, EventId, ExtractedFields, LogEvent, LogsData, Message, MessageType, PayloadError,
};
use crate::json::EscapedStr;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// A Lambda event from a Kinesis event source mapping. Unknown fields are ignored.
#[derive(Debug, Deserialize)]
pub struct KinesisEvent<'a> {
    /// The stream records of the batch, in shard order.
    #[serde(rename = "Records", borrow)]
    pub records: Vec<KinesisEventRecord<'a>>,
}

/// One record of a [`KinesisEvent`].
#[derive(Debug, Deserialize)]
pub struct KinesisEventRecord<'a> {
    /// The stream record.
    #[serde(borrow)]
    pub kinesis: KinesisRecord<'a>,
    /// `shardId-…:<sequence number>`.
    #[serde(rename = "eventID", borrow, default)]
    pub event_id: Option<Cow<'a, str>>,
}

/// The stream record of a [`KinesisEventRecord`].
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KinesisRecord<'a> {
    /// The record's sequence number in its shard: the `itemIdentifier` of a batch item failure.
    #[serde(borrow)]
    pub sequence_number: Cow<'a, str>,
    /// The partition key the producer gave.
    #[serde(borrow, default)]
    pub partition_key: Cow<'a, str>,
    /// The record data, base64.
    #[serde(borrow)]
    pub data: Cow<'a, str>,
}

/// Parses a Kinesis Lambda event (the JSON the Lambda runtime delivers).
pub fn parse_event(event_json: &[u8]) -> Result<KinesisEvent<'_>, PayloadError> {
    // The fast parser first; serde_json when it gives up (for the error and its position, or for
    // the rare valid event the fast parser does not take).
    if let Some(event) = simdutf8::basic::from_utf8(event_json)
        .ok()
        .and_then(scan::kinesis_event)
    {
        return Ok(event);
    }
    serde_json::from_slice(event_json).map_err(|e| PayloadError::KinesisEvent {
        line: e.line(),
        column: e.column(),
        reason: strip_position(&e),
    })
}

/// The format of a record's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordFormat {
    /// A gzip CloudWatch Logs subscription document (a CloudWatch Logs destination's record, or
    /// logrelay's `cwl`).
    Cwl,
    /// logrelay's `ndjson` lines.
    Ndjson,
}

impl RecordFormat {
    /// The format of record data, from its first bytes; `None` when it is neither.
    pub fn of(data: &[u8]) -> Option<RecordFormat> {
        if data.starts_with(&[0x1f, 0x8b]) {
            Some(RecordFormat::Cwl)
        } else if data.first() == Some(&b'{') {
            Some(RecordFormat::Ndjson)
        } else {
            None
        }
    }
}

/// The payloads of one record: one for `cwl`, one per run of lines of the same owner, log group
/// and log stream for `ndjson`.
#[derive(Debug)]
pub struct DecodedRecord<'a> {
    /// The record's format.
    pub format: RecordFormat,
    /// Its payloads, in record order.
    pub payloads: Vec<Decoded<'a>>,
}

/// One ndjson line: the members [`crate::forward::ndjson`] writes for an event (the enrichment
/// members are ignored).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    #[serde(borrow)]
    owner: Cow<'a, str>,
    #[serde(borrow)]
    log_group: Cow<'a, str>,
    #[serde(borrow)]
    log_stream: Cow<'a, str>,
    #[serde(borrow)]
    id: EventId<'a>,
    timestamp: i64,
    /// The message as written (a JSON string, quotes included): kept escaped, as the subscription
    /// decoder keeps it, and unescaped only when a filter needs the text.
    #[serde(borrow)]
    message: &'a RawValue,
    /// The event's `extractedFields`, as the subscription delivered them.
    #[serde(borrow, default, deserialize_with = "super::extracted_fields")]
    extracted_fields: Option<ExtractedFields<'a>>,
    /// The forwarding function's Region, which is its events' Region.
    #[serde(borrow, default)]
    region: Option<Cow<'a, str>>,
    #[serde(default)]
    part: Option<u64>,
    #[serde(default)]
    parts: Option<u64>,
}

/// Parses ndjson record data into payloads (consecutive lines of one owner, group, stream and
/// Region), each event with its `extractedFields`.
pub(super) fn parse_ndjson(data: &[u8]) -> Result<Vec<Decoded<'_>>, PayloadError> {
    let text = super::parse::utf8(data)?;
    let mut payloads: Vec<Decoded<'_>> = Vec::new();
    let mut reader = scan::NdjsonReader::default();
    let mut start = 0;
    let mut number = 0;
    // The lines, as `str::split_terminator('\n')` gives them.
    while start < text.len() {
        let end = memchr::memchr(b'\n', &data[start..]).map_or(text.len(), |k| start + k);
        let line = &text[start..end];
        start = end + 1;
        number += 1;
        let parsed = match reader.line(line) {
            Some(parsed) => parsed,
            None => parse_line(line, number)?,
        };
        let same = payloads.last().is_some_and(|p| {
            p.data.owner == parsed.owner
                && p.data.log_group == parsed.log_group
                && p.data.log_stream == parsed.log_stream
                && p.data.region == parsed.region
        });
        match payloads.last_mut() {
            Some(p) if same => {
                p.data.log_events.push(parsed.event);
                p.decompressed_len += line.len() + 1;
            }
            _ => payloads.push(Decoded {
                gzip: &[],
                decompressed_len: line.len() + 1,
                data: LogsData {
                    message_type: MessageType::DataMessage,
                    owner: parsed.owner,
                    log_group: parsed.log_group,
                    log_stream: parsed.log_stream,
                    subscription_filters: Vec::new(),
                    log_events: vec![parsed.event],
                    policy_level: None,
                    region: parsed.region,
                },
            }),
        }
    }
    if payloads.is_empty() {
        return Err(PayloadError::Ndjson {
            line: 1,
            column: 1,
            reason: "no line".into(),
        });
    }
    Ok(payloads)
}

/// Reads line `number` with serde_json: the lines the fast parser gives up on, for the error and
/// its column or for the rare valid line it does not take.
fn parse_line(line: &str, number: usize) -> Result<NdjsonLine<'_>, PayloadError> {
    let parsed: Line<'_> = serde_json::from_str(line).map_err(|e| PayloadError::Ndjson {
        line: number,
        column: e.column(),
        reason: strip_position(&e),
    })?;
    if parsed.part.is_some() || parsed.parts.is_some() {
        return Err(PayloadError::SplitEvent {
            line: number,
            id: parsed.id.to_string(),
            part: parsed.part.unwrap_or(0),
            parts: parsed.parts.unwrap_or(0),
        });
    }
    let message = message(parsed.message).map_err(|reason| PayloadError::Ndjson {
        line: number,
        column: 1,
        reason,
    })?;
    Ok(NdjsonLine {
        owner: parsed.owner,
        log_group: parsed.log_group,
        log_stream: parsed.log_stream,
        region: parsed.region,
        event: LogEvent::new(parsed.id, parsed.timestamp, message)
            .with_extracted_fields(parsed.extracted_fields),
    })
}

/// A message from its JSON string as written: borrowed when it has no escapes, kept escaped when
/// its escapes are two-byte ones, unescaped otherwise.
fn message(raw: &RawValue) -> Result<Message<'_>, String> {
    let text = raw.get();
    let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
        return Err(format!("message is not a string: {text}"));
    };
    if !inner.contains('\\') {
        return Ok(Message::Text(Cow::Borrowed(inner)));
    }
    if let Some(escaped) = EscapedStr::new(inner) {
        return Ok(Message::Escaped(escaped));
    }
    serde_json::from_str::<String>(text)
        .map(|t| Message::Text(Cow::Owned(t)))
        .map_err(|e| strip_position(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::Enrichment;
    use crate::forward::ndjson::NdjsonEncoder;
    use crate::forward::BatchLimits;
    use crate::payload::Decoder;
    use base64::Engine as _;

    fn b64(data: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(data)
    }

    fn data(group: &str, messages: &[&str]) -> LogsData<'static> {
        LogsData {
            message_type: MessageType::DataMessage,
            owner: "444455556666".into(),
            log_group: group.to_owned().into(),
            log_stream: "s".into(),
            subscription_filters: vec![],
            log_events: messages
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let id = if i % 2 == 0 {
                        EventId::Str(Cow::Owned(format!("{i:056}")))
                    } else {
                        EventId::Int(i as u64)
                    };
                    LogEvent::new(id, 1000 + i as i64, Message::from(m.to_string()))
                })
                .collect(),
            policy_level: None,
            region: None,
        }
    }

    #[test]
    fn ndjson_records_decode_back_to_the_events_written() {
        let a = data(
            "/ecs/a",
            &[
                "ERROR \"quoted\"\n two lines",
                "ok é",
                "\u{1} control",
                "plain",
            ],
        );
        let b = data("/ecs/b", &["third"]);
        let mut records = Vec::new();
        let mut encoder = NdjsonEncoder::default();
        for d in [&a, &b] {
            let e =
                Enrichment::from_names(&d.owner, &d.log_group, &d.log_stream, Some("eu-west-1"));
            encoder
                .encode(d, None, &e, &BatchLimits::default(), &mut records)
                .unwrap();
        }
        // Both payloads' lines in one record data: two payloads back.
        let joined: Vec<u8> = records.iter().flat_map(|r| r.data.clone()).collect();
        let mut decoder = Decoder::default();
        let decoded = decoder.decode_record(b64(&joined).as_bytes()).unwrap();
        assert_eq!(decoded.format, RecordFormat::Ndjson);
        assert_eq!(decoded.payloads.len(), 2);
        assert_eq!(decoded.payloads[0].data.log_events, a.log_events);
        assert_eq!(decoded.payloads[0].data.owner, "444455556666");
        assert_eq!(decoded.payloads[0].data.log_group, "/ecs/a");
        assert_eq!(decoded.payloads[1].data.log_events, b.log_events);
        // Every byte of the record data is one payload's: its lines and their line breaks (here
        // each payload was encoded into one record).
        assert_eq!(records.len(), 2);
        let sizes: Vec<usize> = decoded
            .payloads
            .iter()
            .map(|p| p.decompressed_len)
            .collect();
        let written: Vec<usize> = records.iter().map(|r| r.data.len()).collect();
        assert_eq!(sizes, written);
        // The lines' `region` member is the payloads' Region: the events' own.
        assert_eq!(
            decoded.payloads[0].data.region.as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            decoded.payloads[1].data.region.as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(
            decoded.payloads[0].data.log_events[1].id,
            EventId::Int(1),
            "a numeric id stays a number"
        );
        // Escaped messages stay escaped, plain ones are borrowed, others are unescaped.
        let events = &decoded.payloads[0].data.log_events;
        assert!(matches!(events[0].message, Message::Escaped(_)));
        assert!(matches!(events[2].message, Message::Text(Cow::Owned(_))));
        assert!(matches!(
            events[3].message,
            Message::Text(Cow::Borrowed("plain"))
        ));
        let e = decoder
            .decode_record(
                b64(br#"{"owner":"1","logGroup":"g","logStream":"s","id":"7","timestamp":1,"message":7}"#)
                    .as_bytes(),
            )
            .unwrap_err();
        assert!(e.to_string().contains("not a string"), "{e}");
    }

    #[test]
    fn ndjson_lines_keep_their_extracted_fields_and_their_region_splits_payloads() {
        let fields = r#"{"@aws.account":"444455556666","@aws.region":"ap-south-1"}"#;
        let mut a = data("/ecs/a", &["one", "two"]);
        for e in &mut a.log_events {
            e.extracted_fields = ExtractedFields::from_json(Cow::Borrowed(fields)).unwrap();
        }
        let mut records = Vec::new();
        let mut encoder = NdjsonEncoder::default();
        for region in ["eu-west-1", "us-east-1"] {
            let e = Enrichment::from_names(&a.owner, &a.log_group, &a.log_stream, Some(region));
            encoder
                .encode(&a, None, &e, &BatchLimits::default(), &mut records)
                .unwrap();
        }
        let joined: Vec<u8> = records.iter().flat_map(|r| r.data.clone()).collect();
        let mut decoder = Decoder::default();
        let decoded = decoder.decode_record(b64(&joined).as_bytes()).unwrap();
        // Same owner, group and stream, but another Region: another payload.
        let regions: Vec<_> = decoded
            .payloads
            .iter()
            .map(|p| p.data.region.as_deref())
            .collect();
        assert_eq!(regions, [Some("eu-west-1"), Some("us-east-1")]);
        for p in &decoded.payloads {
            assert_eq!(p.data.log_events, a.log_events, "extractedFields kept");
            let x = p.data.log_events[0].extracted_fields.as_ref().unwrap();
            assert_eq!(x.get("@aws.region"), Some("ap-south-1"));
        }
    }

    #[test]
    fn cwl_records_decode_as_subscription_documents() {
        let gz = crate::payload::testing::gz(crate::payload::testing::DOC);
        let mut decoder = Decoder::default();
        let decoded = decoder.decode_record(b64(&gz).as_bytes()).unwrap();
        assert_eq!(decoded.format, RecordFormat::Cwl);
        assert_eq!(decoded.payloads.len(), 1);
        assert_eq!(decoded.payloads[0].data.log_events.len(), 2);
    }

    #[test]
    fn undecodable_records_say_what_and_where() {
        let mut decoder = Decoder::default();
        let e = decoder
            .decode_record(b64(b"plain text").as_bytes())
            .unwrap_err();
        assert!(e.to_string().contains("0x70"), "{e}");
        let e = decoder
            .decode_record(b64(b"{\"owner\":\"1\"}\n").as_bytes())
            .unwrap_err();
        assert!(
            matches!(e, PayloadError::Ndjson { line: 1, .. }) && e.to_string().contains("logGroup"),
            "{e}"
        );
        let line = r#"{"owner":"1","logGroup":"g","logStream":"s","id":"7","timestamp":1,"message":"ab","part":1,"parts":3}"#;
        let e = decoder
            .decode_record(b64(format!("{line}\n").as_bytes()).as_bytes())
            .unwrap_err();
        assert_eq!(
            e,
            PayloadError::SplitEvent {
                line: 1,
                id: "7".into(),
                part: 1,
                parts: 3
            }
        );
        let e = decoder.decode_record(b"").unwrap_err();
        assert_eq!(e, PayloadError::EmptyGzip);
        let e = decoder.decode_record(b"H4sI*").unwrap_err();
        assert!(matches!(e, PayloadError::Base64 { .. }), "{e}");
    }

    /// Every variant of `base` with one byte replaced, removed or doubled (a deterministic sample).
    fn variants(base: &str, n: usize) -> Vec<String> {
        let bytes = base.as_bytes();
        let specials = b"\"\\{}[]:, 0-9nu/\t\n";
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut out = Vec::new();
        for k in 0..n {
            let at = (crate::json::xorshift(&mut state) as usize) % bytes.len();
            let mut b = bytes.to_vec();
            match k % 3 {
                0 => {
                    b[at] = specials[(crate::json::xorshift(&mut state) as usize) % specials.len()]
                }
                1 => {
                    b.remove(at);
                }
                _ => b.insert(at, b[at]),
            }
            if let Ok(s) = String::from_utf8(b) {
                out.push(s);
            }
        }
        out
    }

    #[test]
    fn the_fast_ndjson_line_parser_reads_what_serde_json_reads_or_gives_up() {
        let lines = [
            r#"{"owner":"1","logGroup":"/ecs/a","logStream":"s","id":"3","timestamp":5,"message":"plain","region":"eu-west-1","ecs":{"cluster":"c","tags":[1,2.5,true,null]}}"#,
            r#"{"owner":"1","logGroup":"g","logStream":"s","id":3,"timestamp":-5,"message":"a \"q\" \\ \n b"}"#,
            r#"{"owner":"1","logGroup":"g","logStream":"s","id":"3","timestamp":5,"message":"\u00e9\/\ud83d\ude00","region":null}"#,
            r#" { "message" : "m" , "timestamp" : 0 , "id" : "x" , "logStream" : "s\"s" , "logGroup" : "g" , "owner" : "1" } "#,
            r#"{"owner":"1","logGroup":"g","logStream":"s","id":"3","timestamp":5,"message":"m","extractedFields":{"@aws.account":"1","@aws.region":"us-east-1"}}"#,
            r#"{"owner":"1","logGroup":"g","logStream":"s","id":"3","timestamp":5,"message":"m","extractedFields":null,"part":null,"parts":null}"#,
            r#"{"owner":"1","logGroup":"g","logStream":"s","id":"3","timestamp":5,"message":"m","part":1,"parts":2}"#,
            r#"{"owner":"1","owner":"2","logGroup":"g","logStream":"s","id":"3","timestamp":5,"message":"m"}"#,
            r#"{"owner":"1","logGroup":"g","logStream":"s","id":"3","timestamp":5,"message":"m","part":null,"part":null}"#,
            r#"{"owner":"1","logGroup":"g","logStream":"s","id":"3","timestamp":5.0,"message":"m"}"#,
            r#"{"owner":"1","logGroup":"g","logStream":"s","id":"3","timestamp":5,"message":7}"#,
            r#"{"owner":"1","logGroup":"g","logStream":"s","id":"3","timestamp":5,"message":"\ud800"}"#,
            r#"{"owner":"1","logGroup":"g","logStream":"s","id":"3","timestamp":5,"message":"m"} x"#,
        ];
        let (mut fast_taken, mut total) = (0, 0);
        for base in lines {
            for line in std::iter::once(base.to_owned()).chain(variants(base, 400)) {
                let slow = parse_line(&line, 1);
                total += usize::from(slow.is_ok());
                // After the base line too: what the reader keeps of a line, read again.
                let mut reader = scan::NdjsonReader::default();
                if let Some(fast) = reader.line(base).and(reader.line(&line)) {
                    let slow = slow
                        .as_ref()
                        .unwrap_or_else(|e| panic!("fast took, serde refused ({e}): {line}"));
                    assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{line}");
                }
                let Some(fast) = scan::NdjsonReader::default().line(&line) else {
                    continue;
                };
                fast_taken += 1;
                let slow =
                    slow.unwrap_or_else(|e| panic!("fast took, serde refused ({e}): {line}"));
                assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{line}");
            }
        }
        // The lines logrelay writes go the fast way.
        for base in &lines[..6] {
            assert!(scan::ndjson_line(base).is_some(), "{base}");
            assert!(scan::NdjsonReader::default().line(base).is_some(), "{base}");
        }
        for base in &lines[6..] {
            assert!(scan::ndjson_line(base).is_none(), "{base}");
            assert!(scan::NdjsonReader::default().line(base).is_none(), "{base}");
        }
        // Most valid variants too (the others have a number that is not an integer, `\/`, ...).
        assert!(fast_taken * 10 > total * 8, "{fast_taken} of {total} valid");
    }

    use proptest::prelude::*;

    proptest::proptest! {
        /// Lines as any JSON writer could write them: any text in the members (quotes, control
        /// characters, non-ASCII), members in any order, with or without the optional ones, and
        /// enrichment values of any shape. The reader, alone and after the line before, takes
        /// what serde_json takes, with the same result.
        #[test]
        fn ndjson_lines_of_any_text_read_as_serde_json_reads_them(
            owner in "\\PC{0,6}|[0-9]{12}",
            group in "\\PC{0,12}",
            message in "(\\PC|[\"\\\\\n\t\u{1}\u{7f}/é😀]){0,40}",
            id in proptest::prop_oneof![
                "[0-9]{1,56}".prop_map(serde_json::Value::from),
                proptest::num::u64::ANY.prop_map(serde_json::Value::from),
            ],
            timestamp in proptest::num::i64::ANY,
            region in proptest::option::of("[a-z]{2}-[a-z]+-[0-9]"),
            extra in proptest::option::of("\\PC{0,8}"),
            order in proptest::collection::vec(0usize..100, 9),
            spaced in proptest::bool::ANY,
        ) {
            let mut members: Vec<(&str, serde_json::Value)> = vec![
                ("owner", owner.clone().into()),
                ("logGroup", group.into()),
                ("logStream", "s".into()),
                ("id", id),
                ("timestamp", timestamp.into()),
                ("message", message.into()),
            ];
            if let Some(r) = region {
                members.push(("region", r.into()));
            }
            if let Some(x) = extra {
                members.push(("ecs", serde_json::json!({"container": x, "n": [1, 2.5, null]})));
            }
            // The written order for most lines, another order for some.
            if order[0] % 3 == 0 {
                let keys: Vec<usize> = order.iter().take(members.len()).copied().collect();
                let mut idx: Vec<usize> = (0..members.len()).collect();
                idx.sort_by_key(|&i| keys[i]);
                members = idx.into_iter().map(|i| members[i].clone()).collect();
            }
            let sep = if spaced { ", " } else { "," };
            let body: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{}:{}", serde_json::to_string(k).unwrap(), v))
                .collect();
            let line = format!("{{{}}}", body.join(sep));
            let slow = parse_line(&line, 1);
            let mut reader = scan::NdjsonReader::default();
            for fast in [reader.line(&line), reader.line(&line)].into_iter().flatten() {
                let slow = slow.as_ref().map_err(|e| e.to_string());
                prop_assert!(slow.is_ok(), "fast took, serde refused: {line}");
                prop_assert_eq!(format!("{fast:?}"), format!("{:?}", slow.unwrap()));
            }
            // Every line here is valid, and the fast reader takes every one.
            prop_assert!(slow.is_ok());
            prop_assert!(scan::NdjsonReader::default().line(&line).is_some(), "gave up: {line}");
        }
    }

    #[test]
    fn the_fast_kinesis_event_parser_reads_what_serde_json_reads_or_gives_up() {
        let events = [
            r#"{"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"k","sequenceNumber":"4959","data":"SGk=","approximateArrivalTimestamp":1545084650.987},"eventSource":"aws:kinesis","eventID":"shardId-000000000006:4959"},{"kinesis":{"sequenceNumber":"4960","data":"SGVsbG8="},"eventID":null}]}"#,
            r#" { "Records" : [ ] , "other" : { "a" : [ 1 , "b" ] } } "#,
            r#"{"Records":[{"kinesis":{"partitionKey":"k\"","sequenceNumber":"1","data":"SGk\/"}}]}"#,
            r#"{"Records":[{"kinesis":{"sequenceNumber":"1","data":"SGk=","data":"SGk="}}]}"#,
            r#"{"Records":[{"kinesis":{"sequenceNumber":"1"}}]}"#,
            r#"{"Records":[{"kinesis":{"sequenceNumber":"1","partitionKey":null,"data":"SGk="}}]}"#,
        ];
        let (mut fast_taken, mut total) = (0, 0);
        for base in events {
            for event in std::iter::once(base.to_owned()).chain(variants(base, 400)) {
                let slow: Result<KinesisEvent<'_>, _> = serde_json::from_str(&event);
                total += usize::from(slow.is_ok());
                let Some(fast) = scan::kinesis_event(&event) else {
                    continue;
                };
                fast_taken += 1;
                let slow =
                    slow.unwrap_or_else(|e| panic!("fast took, serde refused ({e}): {event}"));
                assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{event}");
            }
        }
        assert!(scan::kinesis_event(events[0]).is_some());
        assert!(scan::kinesis_event(events[1]).is_some());
        // Most valid variants too (the others have a number that is not an integer, `\/`, ...).
        assert!(fast_taken * 10 > total * 8, "{fast_taken} of {total} valid");
    }

    #[test]
    fn kinesis_events_parse_and_name_what_is_missing() {
        let event = br#"{"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"k","sequenceNumber":"49590338271490256608559692538361571095921575989136588898","data":"SGk=","approximateArrivalTimestamp":1545084650.987},"eventSource":"aws:kinesis","eventID":"shardId-000000000006:49590338271490256608559692538361571095921575989136588898"}]}"#;
        let parsed = parse_event(event).unwrap();
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(
            parsed.records[0].kinesis.sequence_number,
            "49590338271490256608559692538361571095921575989136588898"
        );
        let e = parse_event(br#"{"awslogs":{"data":"x"}}"#).unwrap_err();
        assert!(e.to_string().contains("Records"), "{e}");
    }
}
