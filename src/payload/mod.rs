//! CloudWatch Logs subscription payloads: the data model and decoding.
//!
//! CloudWatch Logs delivers a subscription payload to Lambda as
//! `{"awslogs":{"data":"<base64>"}}`, where `data` is gzip of a UTF-8 JSON document:
//!
//! ```json
//! {"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/app",
//!  "logStream":"2024/01/01/[$LATEST]0123","subscriptionFilters":["to-central"],
//!  "logEvents":[{"id":"3828...","timestamp":1700000000000,"message":"ERROR boom"}]}
//! ```
//!
//! Kinesis destinations receive the same gzip bytes as record data ([`Decoder::decode_gzip`]). A
//! subscription filter with `emitSystemFields` adds `"extractedFields":{"@aws.account":"…",
//! "@aws.region":"…"}` to each event ([`ExtractedFields`]), which the event keeps.
//!
//! # Why not `aws_lambda_events::cloudwatch_logs`
//!
//! That crate decodes through a reader (`serde_json::from_reader` over a gzip reader) and owns every
//! string, so each message is copied once more and the decompressed size is unbounded. Here a
//! [`Decoder`] keeps its buffers between invocations, caps the decompressed size (gzip bomb safe),
//! parses the JSON from a slice and borrows every string that has no JSON escapes ([`Cow`]), keeps
//! the event `id` exactly as received (AWS sends a string of digits, moto an integer) and keeps the
//! compressed bytes so that an unfiltered payload can be forwarded byte for byte.
//!
//! # Layout
//!
//! - this module: the data model ([`LogsData`], [`LogEvent`], [`Message`], [`EventId`]);
//! - `error`: [`PayloadError`];
//! - `decode`: [`Decoder`] — envelope, base64, capped inflate (the only gzip decoder);
//! - `parse`: the fast one-pass parser (`scan`), `serde_json` as the fallback.
//!
//! Re-encoding events into payloads is the `cwl` record format's business
//! ([`crate::forward::cwl`]); JSON string rules live in [`crate::json`].

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

use crate::json::{self, EscapedStr};

mod decode;
mod error;
pub mod kinesis;
mod parse;
mod scan;

pub use decode::{Decoded, Decoder};
pub use error::PayloadError;

/// Default cap on the decompressed size of one payload: 64 MiB, or less when the function's memory
/// cannot hold the working set of a payload that size ([`max_decompressed_for_memory`]).
///
/// A Lambda asynchronous invocation carries at most 1 MB (so at most about 768 KiB of gzip once
/// base64 is removed) and a Kinesis record at most 1 MiB (10 MiB when raised). Log text typically
/// compresses 5–20×, so real payloads inflate to well under 20 MiB; the cap is for very repetitive
/// logs and for a hostile or corrupt payload (gzip can reach about 1000:1), which must be rejected
/// with [`PayloadError`] rather than end the function for lack of memory. Configurable with
/// [`Decoder::new`].
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: usize = 64 * 1024 * 1024;

/// Peak resident memory of an invocation, measured (`bench/memory`, `bench/memory.md`): at most
/// this much plus [`WORKING_SET_PER_DECOMPRESSED_BYTE_NUM`] / [`WORKING_SET_PER_DECOMPRESSED_BYTE_DEN`]
/// bytes per decompressed byte (the event and its gzip, the JSON, the unescaped messages, the
/// events, the records, the Kinesis requests), over the payload shapes, record formats and sinks
/// measured. One payload alone peaks at about 22 MiB + 3.6 × its decompressed bytes (short text
/// events forwarded as `ndjson`), but a warm instance that has processed several large payloads holds
/// more (the allocator keeps freed memory, in pieces: `keep_freed_memory`): 4.5 × covers the peak of a
/// sequence of payloads at the cap.
pub const WORKING_SET_BASE_BYTES: u64 = 24 * 1024 * 1024;
/// Numerator of the measured working set per decompressed byte (see [`WORKING_SET_BASE_BYTES`]).
pub const WORKING_SET_PER_DECOMPRESSED_BYTE_NUM: u64 = 9;
/// Denominator of the measured working set per decompressed byte.
pub const WORKING_SET_PER_DECOMPRESSED_BYTE_DEN: u64 = 2;
/// Share of the function's memory kept free of the modelled working set, in percent: for what
/// `replay` does not measure (the Lambda runtime client's copy of the event, its own buffers) and
/// for the spread between payloads of the same size.
pub const MEMORY_HEADROOM_PERCENT: u64 = 10;

/// The largest decompressed payload whose working set fits a function of `memory_mib` MiB (Lambda's
/// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`; Lambda's "MB" are MiB), or 0 when not even the base fits.
pub fn max_decompressed_for_memory(memory_mib: u64) -> usize {
    let usable = memory_mib.saturating_mul(1024 * 1024) / 100 * (100 - MEMORY_HEADROOM_PERCENT);
    let for_payload = usable.saturating_sub(WORKING_SET_BASE_BYTES);
    let cap =
        for_payload / WORKING_SET_PER_DECOMPRESSED_BYTE_NUM * WORKING_SET_PER_DECOMPRESSED_BYTE_DEN;
    usize::try_from(cap).unwrap_or(usize::MAX)
}

/// Buffers larger than this are shrunk back before the next decode, so one exceptional payload does
/// not pin its memory for the life of the Lambda execution environment.
pub(crate) const RETAINED_BUFFER_BYTES: usize = 8 * 1024 * 1024;

/// The `messageType` of a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageType {
    /// `DATA_MESSAGE`: log events to process.
    DataMessage,
    /// `CONTROL_MESSAGE`: sent once to check that the destination is reachable; acknowledge and skip.
    ControlMessage,
    /// A message type this version does not know, kept as received.
    Other(String),
}

impl MessageType {
    /// The name as CloudWatch Logs writes it.
    pub fn as_str(&self) -> &str {
        match self {
            MessageType::DataMessage => "DATA_MESSAGE",
            MessageType::ControlMessage => "CONTROL_MESSAGE",
            MessageType::Other(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for MessageType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <Cow<'de, str>>::deserialize(d)?;
        Ok(match s.as_ref() {
            "DATA_MESSAGE" => MessageType::DataMessage,
            "CONTROL_MESSAGE" => MessageType::ControlMessage,
            other => MessageType::Other(other.to_owned()),
        })
    }
}

/// A log event id exactly as received: AWS sends a string of digits, moto an integer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventId<'a> {
    /// A JSON string (AWS).
    Str(Cow<'a, str>),
    /// A JSON non-negative integer (moto).
    Int(u64),
}

impl EventId<'_> {
    /// Writes the id as JSON (a string stays a string, a number a number).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            EventId::Str(s) => json::write_str(out, s),
            EventId::Int(n) => json::write_u64(out, *n),
        }
    }
}

impl fmt::Display for EventId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventId::Str(s) => f.write_str(s),
            EventId::Int(n) => write!(f, "{n}"),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for EventId<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl<'de> Visitor<'de> for IdVisitor {
            type Value = EventId<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event id: a string of digits or a non-negative integer")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(EventId::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(EventId::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(EventId::Str(Cow::Owned(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(EventId::Int(v))
            }
        }
        d.deserialize_any(IdVisitor)
    }
}

/// A string that borrows from the input when it has no escapes.
struct BorrowedStr<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for BorrowedStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = BorrowedStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(BorrowedStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(StrVisitor)
    }
}

fn borrowed_str_vec<'de: 'a, 'a, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<Cow<'a, str>>, D::Error> {
    struct SeqVisitor;
    impl<'de> Visitor<'de> for SeqVisitor {
        type Value = Vec<Cow<'de, str>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of strings")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(16));
            while let Some(BorrowedStr(s)) = seq.next_element()? {
                v.push(s);
            }
            Ok(v)
        }
    }
    d.deserialize_seq(SeqVisitor)
}

/// The system fields CloudWatch Logs puts into each event of a subscription with
/// `emitSystemFields` (`"extractedFields": {"@aws.account": "…", "@aws.region": "…"}`), kept as
/// received: forwarding writes the object back byte for byte; [`get`](Self::get) reads its string
/// members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractedFields<'a> {
    raw: Cow<'a, str>,
    members: Vec<(String, String)>,
}

impl<'a> ExtractedFields<'a> {
    /// From the JSON text of the member's value: `None` for `null`, an error unless it is an
    /// object. Members whose value is not a string are kept in the text and not read.
    pub fn from_json(raw: Cow<'a, str>) -> Result<Option<Self>, serde_json::Error> {
        let value: Option<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(&raw)?;
        Ok(value.map(|map| ExtractedFields {
            members: map
                .into_iter()
                .filter_map(|(k, v)| match v {
                    serde_json::Value::String(s) => Some((k, s)),
                    _ => None,
                })
                .collect(),
            raw,
        }))
    }

    /// The string value of member `key` (`"@aws.account"`), if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.members
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The object's JSON text as received.
    pub fn raw_json(&self) -> &str {
        &self.raw
    }
}

pub(crate) fn extracted_fields<'de: 'a, 'a, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<ExtractedFields<'a>>, D::Error> {
    let raw = <&'de serde_json::value::RawValue>::deserialize(d)?;
    ExtractedFields::from_json(Cow::Borrowed(raw.get())).map_err(de::Error::custom)
}

/// One log event of a payload.
///
/// Equality is that of the id, timestamp, message and extracted fields: [`raw`](Self::raw) only
/// says how the event was received.
#[derive(Debug, Clone, Deserialize)]
pub struct LogEvent<'a> {
    /// The event id as received.
    #[serde(borrow)]
    pub id: EventId<'a>,
    /// Milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// The log message.
    #[serde(borrow)]
    pub message: Message<'a>,
    /// The system fields CloudWatch Logs added (`extractedFields`), when the subscription emits
    /// them.
    #[serde(
        borrow,
        default,
        rename = "extractedFields",
        deserialize_with = "extracted_fields"
    )]
    pub extracted_fields: Option<ExtractedFields<'a>>,
    /// The event's text in the payload, where it is exactly what this crate would write (the
    /// decoder's fast path fills it), so that encoders can copy it instead of writing it again.
    #[serde(skip)]
    pub raw: RawEvent<'a>,
}

impl<'a> LogEvent<'a> {
    /// An event not read from a payload (no [`raw`](Self::raw) text).
    pub fn new(id: EventId<'a>, timestamp: i64, message: Message<'a>) -> Self {
        LogEvent {
            id,
            timestamp,
            message,
            extracted_fields: None,
            raw: RawEvent::default(),
        }
    }

    /// The same event with these extracted fields.
    pub fn with_extracted_fields(mut self, fields: Option<ExtractedFields<'a>>) -> Self {
        self.extracted_fields = fields;
        self
    }
}

impl PartialEq for LogEvent<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.timestamp == other.timestamp
            && self.message == other.message
            && self.extracted_fields == other.extracted_fields
    }
}

impl Eq for LogEvent<'_> {}

/// An event's text in the payload JSON, where it is exactly what this crate writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RawEvent<'a> {
    /// The message's JSON string content (escaped, without the quotes) when it is in
    /// [`json::write_str`]'s form.
    pub message: Option<&'a str>,
    /// The members `"id":…,"timestamp":…,"message":"…"` when they are written exactly as this
    /// crate writes them and are all the event's members (see `forward::ndjson`).
    pub members: Option<&'a str>,
}

/// A log message: text, or (from the decoder's fast path) the JSON string content as received when
/// its only escapes are two-byte ones, unescaped only when something needs the text.
///
/// Equality, [`Display`](fmt::Display) and [`Debug`] are those of the text, whatever the form.
#[derive(Clone)]
pub enum Message<'a> {
    /// The text (borrowed from the decoder's buffer when it had no escapes).
    Text(Cow<'a, str>),
    /// The escaped JSON string content.
    Escaped(EscapedStr<'a>),
}

impl<'a> Message<'a> {
    /// The text of the message (unescaped if need be).
    pub fn text(&self) -> Cow<'a, str> {
        match self {
            Message::Text(t) => t.clone(),
            Message::Escaped(e) => Cow::Owned(e.unescape()),
        }
    }

    /// The message as JSON string content in [`json::write_str`]'s form, when it is held so.
    pub fn escaped_json(&self) -> Option<&'a str> {
        match self {
            Message::Text(_) => None,
            Message::Escaped(e) => Some(e.as_raw()),
        }
    }

    /// Bytes of the message as held: the text, or its escaped form (for size estimates; no
    /// unescaping).
    pub fn held_len(&self) -> usize {
        match self {
            Message::Text(t) => t.len(),
            Message::Escaped(e) => e.as_raw().len(),
        }
    }

    /// Writes the message as a JSON string (quoted).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Message::Text(t) => json::write_str(out, t),
            Message::Escaped(e) => json::write_content(out, e.as_raw()),
        }
    }
}

impl<'a> From<&'a str> for Message<'a> {
    fn from(s: &'a str) -> Self {
        Message::Text(Cow::Borrowed(s))
    }
}

impl From<String> for Message<'_> {
    fn from(s: String) -> Self {
        Message::Text(Cow::Owned(s))
    }
}

impl PartialEq for Message<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Message::Text(a), Message::Text(b)) => a == b,
            (Message::Escaped(a), Message::Escaped(b)) if a == b => true,
            _ => self.text() == other.text(),
        }
    }
}

impl Eq for Message<'_> {}

impl PartialEq<str> for Message<'_> {
    fn eq(&self, other: &str) -> bool {
        self.text() == other
    }
}

impl PartialEq<&str> for Message<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.text() == *other
    }
}

impl PartialEq<String> for Message<'_> {
    fn eq(&self, other: &String) -> bool {
        self.text() == other.as_str()
    }
}

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.text(), f)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Message<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BorrowedStr::deserialize(d).map(|s| Message::Text(s.0))
    }
}

/// The decoded subscription document. Unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogsData<'a> {
    /// `DATA_MESSAGE` or `CONTROL_MESSAGE`.
    pub message_type: MessageType,
    /// The AWS account id of the log data (`CloudwatchLogs` in control messages).
    #[serde(borrow)]
    pub owner: Cow<'a, str>,
    /// The log group name.
    #[serde(borrow)]
    pub log_group: Cow<'a, str>,
    /// The log stream name.
    #[serde(borrow)]
    pub log_stream: Cow<'a, str>,
    /// Names of the subscription filters that matched.
    #[serde(borrow, deserialize_with = "borrowed_str_vec")]
    pub subscription_filters: Vec<Cow<'a, str>>,
    /// The log events.
    #[serde(borrow)]
    pub log_events: Vec<LogEvent<'a>>,
    /// Present for account-level subscription policies (e.g. `ACCOUNT_LEVEL_POLICY`).
    #[serde(borrow, default)]
    pub policy_level: Option<Cow<'a, str>>,
    /// The Region of the events, where the payload itself says it: the `region` member of the lines
    /// of a logrelay `ndjson` record (the forwarding function's Region, which is its events'). A
    /// subscription document does not say it.
    #[serde(skip)]
    pub region: Option<Cow<'a, str>>,
}

/// A small payload document for the tests of decoding and re-encoding, and its gzip.
#[cfg(test)]
pub(crate) mod testing {
    pub(crate) const DOC: &str = r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/app","logStream":"2024/01/01/[$LATEST]abc","subscriptionFilters":["f1"],"logEvents":[{"id":"1","timestamp":10,"message":"plain"},{"id":2,"timestamp":11,"message":"esc\"aped\n"}],"newField":{"x":1}}"#;

    /// `s` gzipped at the default level.
    pub(crate) fn gz(s: &str) -> Vec<u8> {
        let mut v = Vec::new();
        crate::forward::cwl::gzip(s.as_bytes(), 6, &mut v);
        v
    }

    /// A gzipped subscription payload of `group`/`stream` whose events carry `messages`, event `i`
    /// with the id `id(i)` and the timestamp `i`.
    pub(crate) fn payload_gz(
        group: &str,
        stream: &str,
        id: impl Fn(usize) -> String,
        messages: &[String],
    ) -> Vec<u8> {
        let events: Vec<String> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| {
                format!(
                    r#"{{"id":"{}","timestamp":{i},"message":{}}}"#,
                    id(i),
                    serde_json::Value::from(m.as_str())
                )
            })
            .collect();
        gz(&format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"{group}","logStream":"{stream}","subscriptionFilters":["f"],"logEvents":[{}]}}"#,
            events.join(",")
        ))
    }
}
