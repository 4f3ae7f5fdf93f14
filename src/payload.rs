//! CloudWatch Logs subscription payloads: decoding and re-encoding.
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
//! Kinesis destinations receive the same gzip bytes as record data ([`Decoder::decode_gzip`]).
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
//! # Re-encoding
//!
//! [`write_json`] writes the document back in CloudWatch's field order (messageType, owner,
//! logGroup, logStream, subscriptionFilters, logEvents, then policyLevel when present), compact, with
//! `id` as received. [`reencode`] gzips a selection of events into payloads of bounded size,
//! splitting the events over several payloads, and splitting a single event too large for one payload
//! into consecutive message chunks that repeat the event's `id` and `timestamp`.
//!
//! This is the only module allowed to construct a gzip decoder (see `clippy.toml`): every path that
//! inflates goes through the cap.

use base64::Engine as _;
use flate2::write::GzEncoder;
use flate2::Compression;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;
use std::io::Write;

use crate::json::{self, EscapedStr};

mod scan;

/// Default cap on the decompressed size of one payload: 64 MiB.
///
/// A Lambda asynchronous invocation carries at most 1 MB (so at most about 768 KiB of gzip once
/// base64 is removed) and a Kinesis record at most 1 MiB (10 MiB when raised). Log text typically
/// compresses 5–20×, so real payloads inflate to well under 20 MiB; 64 MiB leaves room for very
/// repetitive logs while a hostile or corrupt payload (gzip can reach about 1000:1) cannot exhaust a
/// 128 MB function. Configurable with [`Decoder::new`].
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: usize = 64 * 1024 * 1024;

/// Buffers larger than this are shrunk back before the next decode, so one exceptional payload does
/// not pin its memory for the life of the Lambda execution environment.
const RETAINED_BUFFER_BYTES: usize = 8 * 1024 * 1024;

/// Default gzip level for re-encoded payloads (zlib's default: a good ratio at moderate cost).
pub const DEFAULT_COMPRESSION_LEVEL: u32 = 6;

/// What went wrong while decoding a payload, and where.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PayloadError {
    /// The Lambda event is not `{"awslogs":{"data":"<base64>"}}`, e.g. `{"records":[]}`.
    #[error(
        "invalid Lambda event (expected {{\"awslogs\":{{\"data\":\"<base64>\"}}}}) at line {line}, column {column}: {reason}"
    )]
    Envelope {
        /// 1-based line in the event JSON.
        line: usize,
        /// 1-based column in the event JSON.
        column: usize,
        /// What the JSON parser reported.
        reason: String,
    },
    /// `awslogs.data` is not valid base64, e.g. `"H4sI*AAA"`.
    #[error("invalid base64 in awslogs.data at offset {offset}: {reason}")]
    Base64 {
        /// Byte offset in the base64 string (its length for length or padding errors).
        offset: usize,
        /// What is wrong there.
        reason: String,
    },
    /// The compressed data is empty (e.g. `"data":""`).
    #[error("empty payload: no gzip data")]
    EmptyGzip,
    /// The compressed data ends before a gzip member is complete, e.g. the first half of a payload.
    #[error(
        "truncated gzip data: member {member} (starting at byte {offset}) ends before its trailer"
    )]
    GzipTruncated {
        /// 1-based index of the gzip member.
        member: usize,
        /// Byte offset of the member in the compressed data.
        offset: usize,
    },
    /// A gzip member is corrupt: bad header, invalid deflate data, or CRC/length mismatch.
    #[error("corrupt gzip data in member {member} (starting at byte {offset}): {reason}")]
    GzipCorrupt {
        /// 1-based index of the gzip member.
        member: usize,
        /// Byte offset of the member in the compressed data.
        offset: usize,
        /// What the inflater reported.
        reason: String,
    },
    /// Bytes that are not a gzip member follow the last member, e.g. a payload with `"xyz"` appended.
    #[error(
        "{len} bytes of trailing data after the last gzip member, at byte {offset} (first byte 0x{first:02x})"
    )]
    TrailingData {
        /// Byte offset of the trailing data in the compressed data.
        offset: usize,
        /// How many trailing bytes there are.
        len: usize,
        /// The first trailing byte.
        first: u8,
    },
    /// The payload inflates to more than the cap (a gzip bomb, or a cap set too low).
    #[error("decompressed payload exceeds the cap of {cap} bytes (max_decompressed_bytes); inflating stopped there")]
    TooLarge {
        /// The configured cap in bytes.
        cap: usize,
    },
    /// The decompressed payload is not UTF-8.
    #[error("decompressed payload is not valid UTF-8 at byte {offset}")]
    Utf8 {
        /// Byte offset of the first invalid byte in the decompressed payload.
        offset: usize,
    },
    /// The decompressed payload is not a valid subscription document (syntax error, missing field,
    /// wrong type), e.g. `{"messageType":"DATA_MESSAGE"}`.
    #[error("invalid subscription payload JSON at line {line}, column {column}: {reason}")]
    Json {
        /// 1-based line in the decompressed JSON.
        line: usize,
        /// 1-based column in the decompressed JSON.
        column: usize,
        /// What the JSON parser reported.
        reason: String,
    },
    /// Re-encoding cannot fit even a minimal payload (one character of one event) into the size
    /// limit, e.g. a record limit smaller than the log group and stream names.
    #[error(
        "payload size limit of {limit} bytes is too small: at least {needed} bytes are needed"
    )]
    LimitTooSmall {
        /// The limit in bytes.
        limit: usize,
        /// The smallest size that could work.
        needed: usize,
    },
}

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

/// One log event of a payload.
///
/// Equality is that of the id, timestamp and message: [`raw`](Self::raw) only says how the event
/// was received.
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
            raw: RawEvent::default(),
        }
    }
}

impl PartialEq for LogEvent<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.timestamp == other.timestamp && self.message == other.message
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
    /// crate writes them (see `forward::ndjson`).
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
}

/// A decoded payload, borrowing from the [`Decoder`] (and from the input for `decode_gzip`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// The compressed bytes as received, for byte-for-byte pass-through.
    pub gzip: &'a [u8],
    /// Size of the decompressed JSON in bytes.
    pub decompressed_len: usize,
    /// The document.
    pub data: LogsData<'a>,
}

/// Decodes subscription payloads, reusing its buffers from one call to the next.
#[derive(Debug)]
pub struct Decoder {
    max_decompressed: usize,
    gzip: Vec<u8>,
    json: Vec<u8>,
    /// The messages that had JSON escapes, unescaped, one after the other.
    unescaped: String,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_MAX_DECOMPRESSED_BYTES)
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    awslogs: AwsLogs<'a>,
}

#[derive(Deserialize)]
struct AwsLogs<'a> {
    #[serde(borrow)]
    data: Cow<'a, str>,
}

const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

impl Decoder {
    /// A decoder that refuses payloads inflating to more than `max_decompressed` bytes.
    pub fn new(max_decompressed: usize) -> Self {
        Decoder {
            max_decompressed,
            gzip: Vec::new(),
            json: Vec::new(),
            unescaped: String::new(),
        }
    }

    /// The decompressed size cap in bytes.
    pub fn max_decompressed(&self) -> usize {
        self.max_decompressed
    }

    /// Decodes a whole Lambda event body (the JSON the Lambda runtime delivers).
    pub fn decode_event<'s>(&'s mut self, event_json: &[u8]) -> Result<Decoded<'s>, PayloadError> {
        let envelope: Envelope<'_> =
            serde_json::from_slice(event_json).map_err(|e| PayloadError::Envelope {
                line: e.line(),
                column: e.column(),
                reason: strip_position(&e),
            })?;
        self.decode_data(envelope.awslogs.data.as_bytes())
    }

    /// Decodes the base64 `awslogs.data` string.
    pub fn decode_data<'s>(&'s mut self, data_base64: &[u8]) -> Result<Decoded<'s>, PayloadError> {
        shrink(&mut self.gzip);
        self.gzip.clear();
        reserve_replacing(&mut self.gzip, data_base64.len() / 4 * 3 + 3, usize::MAX);
        BASE64
            .decode_vec(data_base64, &mut self.gzip)
            .map_err(|e| base64_error(e, data_base64.len()))?;
        let decompressed_len = inflate(&self.gzip, &mut self.json, self.max_decompressed)?;
        let data = parse(&self.json, &mut self.unescaped)?;
        Ok(Decoded {
            gzip: &self.gzip,
            decompressed_len,
            data,
        })
    }

    /// Decodes raw gzip bytes (what a Kinesis record from a CloudWatch Logs destination holds).
    pub fn decode_gzip<'s>(&'s mut self, gzip: &'s [u8]) -> Result<Decoded<'s>, PayloadError> {
        let decompressed_len = inflate(gzip, &mut self.json, self.max_decompressed)?;
        let data = parse(&self.json, &mut self.unescaped)?;
        Ok(Decoded {
            gzip,
            decompressed_len,
            data,
        })
    }
}

/// Makes room for `len` bytes in an empty `buf`: a buffer too small is replaced (nothing to copy)
/// by one with a quarter of headroom (at most `max` bytes), so that the next payloads, often a
/// little larger, reuse it instead of each reallocating it, which would leave holes in the heap
/// that the next allocations do not fit and make them touch fresh pages.
fn reserve_replacing(buf: &mut Vec<u8>, len: usize, max: usize) {
    if buf.capacity() < len {
        *buf = Vec::with_capacity(len.saturating_add(len / 4).min(max));
    }
}

fn shrink(buf: &mut Vec<u8>) {
    if buf.capacity() > RETAINED_BUFFER_BYTES {
        buf.clear();
        buf.shrink_to(RETAINED_BUFFER_BYTES);
    }
}

fn base64_error(e: base64::DecodeError, len: usize) -> PayloadError {
    use base64::DecodeError as E;
    let (offset, reason) = match e {
        E::InvalidByte(offset, byte) => (offset, format!("invalid character 0x{byte:02x}")),
        E::InvalidLength(n) => (n, format!("invalid length {n}")),
        E::InvalidLastSymbol(offset, byte) => {
            (offset, format!("invalid last character 0x{byte:02x}"))
        }
        E::InvalidPadding => (len, "invalid padding".to_owned()),
    };
    PayloadError::Base64 { offset, reason }
}

/// serde_json appends " at line L column C" to its messages; we report those separately.
fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// Inflates every gzip member of `gzip` into `out` (cleared first), stopping at `cap + 1` bytes.
/// Returns the decompressed length.
///
/// zlib-rs inflates straight into the spare capacity of `out` (no zeroing of the buffer first, as
/// `Read::read_to_end` does), checks each member's header, CRC-32 and length, and the buffer grows
/// geometrically but never past `cap + 1` bytes, so a gzip bomb costs at most that much memory.
fn inflate(gzip: &[u8], out: &mut Vec<u8>, cap: usize) -> Result<usize, PayloadError> {
    shrink(out);
    out.clear();
    if gzip.is_empty() {
        return Err(PayloadError::EmptyGzip);
    }
    let limit = cap.saturating_add(1);
    // The last member's ISIZE (its length modulo 2^32) sizes the first reservation: a hint only,
    // bounded by the cap and by deflate's best ratio, never trusted.
    let hint = gzip
        .len()
        .checked_sub(4)
        .and_then(|at| gzip.get(at..))
        .and_then(|tail| <[u8; 4]>::try_from(tail).ok())
        .map_or(0, |tail| u32::from_le_bytes(tail) as usize);
    let first = hint
        .min(gzip.len().saturating_mul(1032))
        .max(64 * 1024)
        .min(limit);
    reserve_replacing(out, first, limit);
    let mut offset = 0usize;
    let mut member = 0usize;
    while offset < gzip.len() {
        member += 1;
        let input = &gzip[offset..];
        if member > 1 && !input.starts_with(&[0x1f, 0x8b]) {
            return Err(PayloadError::TrailingData {
                offset,
                len: input.len(),
                first: input[0],
            });
        }
        offset += inflate_member(input, out, limit).map_err(|e| e.at(member, offset, cap))?;
        if out.len() > cap {
            return Err(PayloadError::TooLarge { cap });
        }
    }
    Ok(out.len())
}

/// Why one gzip member did not inflate, before [`MemberError::at`] says which member.
enum MemberError {
    Truncated,
    Corrupt(String),
    TooLarge,
}

impl MemberError {
    fn at(self, member: usize, offset: usize, cap: usize) -> PayloadError {
        match self {
            MemberError::Truncated => PayloadError::GzipTruncated { member, offset },
            MemberError::Corrupt(reason) => PayloadError::GzipCorrupt {
                member,
                offset,
                reason,
            },
            MemberError::TooLarge => PayloadError::TooLarge { cap },
        }
    }
}

/// Inflates the gzip member at the start of `input`, appending to `out` up to `limit` bytes in all.
/// Returns how many bytes of `input` the member took.
fn inflate_member(input: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<usize, MemberError> {
    let mut inflater = flate2::Decompress::new_gzip(15);
    loop {
        if out.len() == out.capacity() {
            if out.len() >= limit {
                return Err(MemberError::TooLarge);
            }
            let grow = out.capacity().max(64 * 1024).min(limit - out.len());
            out.reserve_exact(grow);
        }
        let consumed = inflater.total_in() as usize;
        let rest = input.get(consumed..).unwrap_or_default();
        let before = out.len();
        let status = inflater
            .decompress_vec(rest, out, flate2::FlushDecompress::None)
            .map_err(|e| {
                MemberError::Corrupt(e.message().unwrap_or("invalid gzip data").to_owned())
            })?;
        match status {
            flate2::Status::StreamEnd => return Ok(inflater.total_in() as usize),
            _ if out.len() == out.capacity() => {} // more room needed
            _ if inflater.total_in() as usize == consumed && out.len() == before => {
                // Neither input taken nor output made with room to spare: the input ended.
                return Err(MemberError::Truncated);
            }
            _ => {}
        }
    }
}

/// Parses the decompressed document: the fast parser first, `serde_json` when it gives up (for the
/// error and its position, or for the rare valid document the fast parser does not take).
fn parse<'a>(json: &'a [u8], unescaped: &'a mut String) -> Result<LogsData<'a>, PayloadError> {
    let text = std::str::from_utf8(json).map_err(|e| PayloadError::Utf8 {
        offset: e.valid_up_to(),
    })?;
    shrink_string(unescaped);
    if let Some(data) = scan::parse(text, unescaped) {
        return Ok(data);
    }
    let data = serde_json::from_str(text).map_err(|e| PayloadError::Json {
        line: e.line(),
        column: e.column(),
        reason: strip_position(&e),
    })?;
    Ok(data)
}

fn shrink_string(buf: &mut String) {
    if buf.capacity() > RETAINED_BUFFER_BYTES {
        buf.clear();
        buf.shrink_to(RETAINED_BUFFER_BYTES);
    }
}

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
        write_event(ev.id.clone(), ev.timestamp, &ev.message, out);
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

fn write_event(id: EventId<'_>, timestamp: i64, message: &Message<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"id\":");
    id.write_json(out);
    out.extend_from_slice(b",\"timestamp\":");
    json::write_i64(out, timestamp);
    out.extend_from_slice(b",\"message\":");
    message.write_json(out);
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
        let empty = LogEvent::new(ev.id.clone(), ev.timestamp, Message::from(""));
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
                let piece = LogEvent::new(ev.id.clone(), ev.timestamp, Message::from(chunk));
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

    fn gz(s: &str) -> Vec<u8> {
        let mut v = Vec::new();
        gzip(s.as_bytes(), 6, &mut v);
        v
    }

    const DOC: &str = r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/app","logStream":"2024/01/01/[$LATEST]abc","subscriptionFilters":["f1"],"logEvents":[{"id":"1","timestamp":10,"message":"plain"},{"id":2,"timestamp":11,"message":"esc\"aped\n"}],"newField":{"x":1}}"#;

    #[test]
    fn decodes_and_borrows() {
        let bytes = gz(DOC);
        let mut d = Decoder::default();
        let dec = d.decode_gzip(&bytes).unwrap();
        assert_eq!(dec.decompressed_len, DOC.len());
        assert_eq!(dec.data.message_type, MessageType::DataMessage);
        assert_eq!(dec.data.log_events.len(), 2);
        assert!(matches!(
            dec.data.log_events[0].message,
            Message::Text(Cow::Borrowed("plain"))
        ));
        assert!(matches!(dec.data.log_group, Cow::Borrowed(_)));
        assert!(matches!(
            dec.data.subscription_filters[0],
            Cow::Borrowed("f1")
        ));
        assert_eq!(dec.data.log_events[1].message, "esc\"aped\n");
        assert_eq!(dec.data.log_events[0].id, EventId::Str(Cow::Borrowed("1")));
        assert_eq!(dec.data.log_events[1].id, EventId::Int(2));
        assert_eq!(dec.data.policy_level, None);
    }

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
    fn multi_member_gzip_is_decoded_whole() {
        let (a, b) = DOC.split_at(100);
        let mut bytes = gz(a);
        bytes.extend(gz(b));
        let mut d = Decoder::default();
        let dec = d.decode_gzip(&bytes).unwrap();
        assert_eq!(dec.decompressed_len, DOC.len());
        assert_eq!(dec.data.log_events.len(), 2);
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
