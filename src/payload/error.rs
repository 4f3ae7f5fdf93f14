//! What went wrong while decoding (or re-encoding) a payload, and where.

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
    #[error("decompressed payload exceeds the cap of {cap} bytes (LOGRELAY_MAX_DECOMPRESSED_BYTES, at most what the function's memory holds); inflating stopped there")]
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
    /// The Lambda event is not a Kinesis event (`{"Records":[{"kinesis":{…}}]}`), e.g. a
    /// subscription event sent to a hub.
    #[error(
        "invalid Kinesis Lambda event (expected {{\"Records\":[{{\"kinesis\":{{\"sequenceNumber\":…,\"data\":\"<base64>\"}}}}]}}) at line {line}, column {column}: {reason}"
    )]
    KinesisEvent {
        /// 1-based line in the event JSON.
        line: usize,
        /// 1-based column in the event JSON.
        column: usize,
        /// What the JSON parser reported.
        reason: String,
    },
    /// A Kinesis record's data is neither gzip (`cwl`, a CloudWatch Logs destination's record) nor
    /// JSON lines (`ndjson`).
    #[error("record data is neither gzip (cwl) nor JSON lines (ndjson): it starts with byte 0x{first:02x}")]
    RecordFormat {
        /// The first byte of the data.
        first: u8,
    },
    /// A line of an `ndjson` record is not an event line.
    #[error("invalid ndjson record at line {line}, column {column}: {reason}")]
    Ndjson {
        /// 1-based line in the record data.
        line: usize,
        /// 1-based column in the line.
        column: usize,
        /// What the JSON parser reported.
        reason: String,
    },
    /// An `ndjson` line holds one part of an event split over several records, which cannot be
    /// evaluated from one record.
    #[error("ndjson record line {line} holds part {part} of {parts} of event {id}, split over several records: an event is evaluated whole or not at all")]
    SplitEvent {
        /// 1-based line in the record data.
        line: usize,
        /// The event id.
        id: String,
        /// The part's number (1-based).
        part: u64,
        /// How many parts the event has.
        parts: u64,
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

/// serde_json appends " at line L column C" to its messages; we report those separately.
pub(super) fn strip_position(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}
