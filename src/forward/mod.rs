//! Forwarding: encode the events of a payload into Kinesis records, batch them, and deliver them
//! to a [`RecordSink`] (Kinesis, or a local sink for `logrelay replay` and tests).
//!
//! Each file answers one question:
//! - [`record`]: what a record is, how big it counts, which partition key it gets;
//! - [`cwl`], [`ndjson`]: how the events of one payload become records in each [`Format`];
//! - [`batch`]: how records are grouped into PutRecords requests ([`BatchLimits`]);
//! - [`retry`]: when to retry, which entries, and how long to wait ([`RetryPolicy`]);
//! - [`kinesis`]: the PutRecords call ([`KinesisSink`]) and cross-account clients;
//! - [`local`]: sinks that write files, count, or keep records in memory.
//!
//! ```no_run
//! # async fn forward(sdk: aws_config::SdkConfig, event: &[u8], deadline: std::time::Instant)
//! #     -> Result<(), Box<dyn std::error::Error>> {
//! use logrelay::forward::{kinesis_client, BatchLimits, Encoder, Format, KinesisSink, RecordSink};
//! use logrelay::payload::{Decoder, MessageType};
//!
//! // Once per execution environment:
//! let client = kinesis_client(&sdk, None).await;
//! let sink = KinesisSink::new(client, "arn:aws:kinesis:us-east-1:111122223333:stream/central");
//! let mut decoder = Decoder::default();
//! let mut encoder = Encoder::new(Format::Cwl, BatchLimits::default())?;
//!
//! // Per invocation:
//! let decoded = decoder.decode_event(event)?;
//! if decoded.data.message_type == MessageType::DataMessage {
//!     let mut records = Vec::new();
//!     encoder.encode(&decoded, None, Some("us-east-1"), &mut records)?;
//!     let report = sink.send(records, Some(deadline)).await?;
//!     tracing::info!(records = report.records, requests = report.requests, "forwarded");
//! }
//! # Ok(())
//! # }
//! ```

pub mod any;
pub mod batch;
pub mod cwl;
pub mod kinesis;
pub mod local;
pub mod ndjson;
pub mod record;
pub mod retry;

pub use any::AnyRecordSink;
pub use batch::BatchLimits;
pub use kinesis::{kinesis_client, AssumeRole, KinesisSink};
pub use local::{DirSink, MemorySink, NullSink};
pub use ndjson::NdjsonEncoder;
pub use record::{partition_key, Record};
pub use retry::RetryPolicy;

use crate::enrich::Enrichment;
use crate::payload::{Decoded, PayloadError};
use std::future::Future;
use std::path::PathBuf;
use std::time::Instant;

/// What a sink delivered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendReport {
    /// Records delivered.
    pub records: usize,
    /// Bytes delivered (data + partition key, as Kinesis counts them).
    pub bytes: usize,
    /// Requests made (PutRecords calls, files written...), including retries.
    pub requests: usize,
    /// Entries sent again after a failed attempt (each resend counts once).
    pub retried_entries: usize,
}

/// Errors while encoding or delivering records.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    /// Some records were not delivered (retries exhausted, deadline reached, or a non-retryable
    /// error). The caller must treat the payload as not forwarded (fail the invocation so that it is
    /// retried or reaches the on-failure destination).
    #[error("{undelivered} of {} records not delivered ({delivered} delivered): {last_error}", delivered + undelivered)]
    Incomplete {
        /// Records delivered.
        delivered: usize,
        /// Records not delivered.
        undelivered: usize,
        /// The last error seen.
        last_error: String,
    },
    /// A record is larger than the record size limit (the encoders never produce one).
    #[error("record {index} is {size} bytes (data + partition key), over the record limit of {limit} bytes")]
    RecordTooLarge {
        /// Index of the record in the list given to the sink.
        index: usize,
        /// Its size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A record the SDK refuses to build a PutRecords entry from.
    #[error("record {index} cannot be sent: {reason}")]
    InvalidRecord {
        /// Index of the record in the list given to the sink.
        index: usize,
        /// Why.
        reason: String,
    },
    /// Batch limits that cannot work (zero, or a record limit above the request limit).
    #[error("invalid batch limits: {0}")]
    InvalidLimits(String),
    /// The selection has a different length than the payload's events.
    #[error("event selection has {got} flags but the payload has {expected} events")]
    SelectionLength {
        /// Events in the payload.
        expected: usize,
        /// Flags given.
        got: usize,
    },
    /// Re-encoding failed.
    #[error("re-encoding the payload: {0}")]
    Payload(#[from] PayloadError),
    /// A local sink could not write.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Where records go. The pipeline is generic over it, so that it runs the same against Kinesis,
/// moto, a fault-injecting stub, or local files.
pub trait RecordSink: Send + Sync {
    /// Delivers all records or returns an error saying how many were not delivered. Must stop retrying
    /// in time for `deadline` (None = no deadline, use the retry policy's own bound).
    fn send(
        &self,
        records: Vec<Record>,
        deadline: Option<Instant>,
    ) -> impl Future<Output = Result<SendReport, ForwardError>> + Send;
}

impl<S: RecordSink> RecordSink for std::sync::Arc<S> {
    fn send(
        &self,
        records: Vec<Record>,
        deadline: Option<Instant>,
    ) -> impl Future<Output = Result<SendReport, ForwardError>> + Send {
        S::send(self, records, deadline)
    }
}

/// The record format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// CloudWatch Logs subscription payloads (gzip JSON), byte-compatible with what a CloudWatch Logs
    /// destination writes to Kinesis; unfiltered payloads are passed through byte for byte.
    #[default]
    Cwl,
    /// Newline-delimited JSON, one enriched line per event, uncompressed.
    Ndjson,
}

impl Format {
    /// The file extension a [`DirSink`] uses for this format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Cwl => "gz",
            Format::Ndjson => "ndjson",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cwl" => Ok(Format::Cwl),
            "ndjson" => Ok(Format::Ndjson),
            other => Err(format!(
                "unknown record format {other:?} (expected cwl or ndjson)"
            )),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Cwl => "cwl",
            Format::Ndjson => "ndjson",
        })
    }
}

/// Encodes payloads into records in one format, reusing its buffers.
#[derive(Debug)]
pub struct Encoder {
    format: Format,
    limits: BatchLimits,
    compression_level: u32,
    ndjson: NdjsonEncoder,
}

impl Encoder {
    /// An encoder for `format` within `limits` (only `max_record_bytes` matters here).
    pub fn new(format: Format, limits: BatchLimits) -> Result<Self, ForwardError> {
        limits.validate()?;
        Ok(Encoder {
            format,
            limits,
            compression_level: cwl::DEFAULT_COMPRESSION_LEVEL,
            ndjson: NdjsonEncoder::default(),
        })
    }

    /// Sets the gzip level (0–9) of re-encoded cwl payloads.
    pub fn with_compression_level(mut self, level: u32) -> Self {
        self.compression_level = level.min(9);
        self
    }

    /// The format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Appends the records for the selected events of `decoded` to `out` (`selected`: one flag per
    /// event, None = all). `region` feeds the ndjson enrichment. Returns the number of records added
    /// (zero when no event is selected).
    pub fn encode(
        &mut self,
        decoded: &Decoded<'_>,
        selected: Option<&[bool]>,
        region: Option<&str>,
        out: &mut Vec<Record>,
    ) -> Result<usize, ForwardError> {
        let before = out.len();
        match self.format {
            Format::Cwl => {
                cwl::encode(decoded, selected, &self.limits, self.compression_level, out)?
            }
            Format::Ndjson => {
                let d = &decoded.data;
                let enrichment =
                    Enrichment::from_names(&d.owner, &d.log_group, &d.log_stream, region);
                self.ndjson
                    .encode(d, selected, &enrichment, &self.limits, out)?
            }
        }
        Ok(out.len() - before)
    }
}

/// Checks that `selected` has one flag per event.
pub(crate) fn check_selection(
    events: usize,
    selected: Option<&[bool]>,
) -> Result<(), ForwardError> {
    match selected {
        Some(s) if s.len() != events => Err(ForwardError::SelectionLength {
            expected: events,
            got: s.len(),
        }),
        _ => Ok(()),
    }
}
