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
//! use logrelay::forward::{stream_client, BatchLimits, Encoder, Format, KinesisSink, RecordSink, StreamArn};
//! use logrelay::payload::{Decoder, MessageType};
//!
//! // Once per execution environment (the client talks to the stream's Region):
//! let stream = StreamArn::parse("arn:aws:kinesis:eu-west-1:111122223333:stream/central")?;
//! let client = stream_client(&sdk, &stream, None).await?;
//! let sink = KinesisSink::new(client, stream.as_str());
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
pub use kinesis::{
    kinesis_client, partition_of_region, stream_client, stream_sdk_config, AssumeRole, KinesisSink,
    StreamArn, StreamArnError,
};
pub use local::{DirSink, MemorySink, NullSink};
pub use ndjson::NdjsonEncoder;
pub use record::{event_id_key, partition_key, PartitionKeyMode, Record};
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
    /// PutRecords calls: made, retries included ([`KinesisSink`]), or that would be made for these
    /// records within the sink's [`BatchLimits`] (local sinks: one per batch of
    /// [`batch::plan_batches`], as [`KinesisSink`] would make without a failure).
    pub put_records_calls: usize,
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
    partition_key: PartitionKeyMode,
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
            partition_key: PartitionKeyMode::default(),
            ndjson: NdjsonEncoder::default(),
        })
    }

    /// Sets the gzip level (0–9) of re-encoded cwl payloads.
    pub fn with_compression_level(mut self, level: u32) -> Self {
        self.compression_level = level.min(9);
        self
    }

    /// Sets how records get their partition key.
    pub fn with_partition_key(mut self, mode: PartitionKeyMode) -> Self {
        self.partition_key = mode;
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
        let d = &decoded.data;
        let mut limits = self.limits;
        if self.partition_key == PartitionKeyMode::EventId {
            // The encoders size records for the stream key; keep room for an event-id key too.
            let stream_key = partition_key(&d.log_group, &d.log_stream).len();
            limits.max_record_bytes = limits
                .max_record_bytes
                .saturating_sub(record::MAX_EVENT_ID_KEY_BYTES.saturating_sub(stream_key));
        }
        match self.format {
            Format::Cwl => cwl::encode(decoded, selected, &limits, self.compression_level, out)?,
            Format::Ndjson => {
                let enrichment =
                    Enrichment::from_names(&d.owner, &d.log_group, &d.log_stream, region);
                self.ndjson.encode(d, selected, &enrichment, &limits, out)?
            }
        }
        if self.partition_key == PartitionKeyMode::EventId {
            key_by_first_event(decoded, selected, &mut out[before..]);
        }
        Ok(out.len() - before)
    }
}

/// Gives each record the [`event_id_key`] of its first event. A record's `events` counts the events
/// it completes, so the first event of a record is the selected event after those the records before
/// it completed; the parts of one split event (all but the last complete nothing) share its key.
fn key_by_first_event(decoded: &Decoded<'_>, selected: Option<&[bool]>, records: &mut [Record]) {
    let events = &decoded.data.log_events;
    let mut selected_events = events
        .iter()
        .enumerate()
        .filter(|(i, _)| selected.is_none_or(|s| s.get(*i).copied().unwrap_or(false)))
        .map(|(_, e)| e);
    let mut next = selected_events.next();
    for r in records {
        if let Some(event) = next {
            r.partition_key = event_id_key(&event.id.to_string());
        }
        for _ in 0..r.events {
            next = selected_events.next();
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::Decoder;

    fn payload(messages: &[String]) -> Vec<u8> {
        crate::payload::testing::payload_gz(
            "g",
            "s",
            |i| (37_000_000_000_000_000_000u128 + i as u128).to_string(),
            messages,
        )
    }

    /// The id of the first event in a record of either format.
    fn first_id(format: Format, r: &Record) -> String {
        match format {
            Format::Cwl => {
                let mut d = Decoder::default();
                let dec = d.decode_gzip(&r.data).unwrap();
                dec.data.log_events[0].id.to_string()
            }
            Format::Ndjson => {
                let line = r.data.split(|&b| b == b'\n').next().unwrap();
                let v: serde_json::Value = serde_json::from_slice(line).unwrap();
                v["id"].as_str().unwrap().to_owned()
            }
        }
    }

    #[test]
    fn event_id_keys_name_each_records_first_event_and_fit_the_limit() {
        // Varied, poorly compressible messages so that cwl needs several records too.
        let messages: Vec<String> = (0..400)
            .map(|i| {
                (0..40)
                    .map(|j| format!("{:x}", (i * 7919 + j * 104_729) % 65_521))
                    .collect()
            })
            .collect();
        let gz = payload(&messages);
        let mut decoder = Decoder::default();
        let decoded = decoder.decode_gzip(&gz).unwrap();
        // Every third event is left out.
        let selected: Vec<bool> = (0..messages.len()).map(|i| i % 3 != 1).collect();
        let limits = BatchLimits {
            max_record_bytes: 4096,
            ..BatchLimits::default()
        };
        for format in [Format::Cwl, Format::Ndjson] {
            let mut enc = Encoder::new(format, limits)
                .unwrap()
                .with_partition_key(PartitionKeyMode::EventId);
            let mut out = Vec::new();
            enc.encode(&decoded, Some(&selected), None, &mut out)
                .unwrap();
            assert!(out.len() > 3, "{format}: {} records", out.len());
            let mut keys = std::collections::HashSet::new();
            for r in &out {
                assert_eq!(r.partition_key, first_id(format, r), "{format}");
                assert!(
                    r.size() <= limits.max_record_bytes,
                    "{format}: {}",
                    r.size()
                );
                keys.insert(r.partition_key.clone());
            }
            assert_eq!(keys.len(), out.len(), "{format}: one key per record");
            assert_eq!(
                out.iter().map(|r| r.events).sum::<usize>(),
                selected.iter().filter(|&&s| s).count()
            );
            // The default keeps the stream key.
            let mut enc = Encoder::new(format, limits).unwrap();
            let mut out = Vec::new();
            enc.encode(&decoded, Some(&selected), None, &mut out)
                .unwrap();
            assert!(out.iter().all(|r| r.partition_key == "g/s"), "{format}");
        }
    }

    #[test]
    fn the_parts_of_a_split_event_share_its_key() {
        let big: String = (0..3000)
            .map(|i| format!("{:x}", i * 2_654_435_761u64 % 4093))
            .collect();
        let gz = payload(&["first".into(), big, "last".into()]);
        let mut decoder = Decoder::default();
        let decoded = decoder.decode_gzip(&gz).unwrap();
        let limits = BatchLimits {
            max_record_bytes: 2048,
            ..BatchLimits::default()
        };
        for format in [Format::Cwl, Format::Ndjson] {
            let mut enc = Encoder::new(format, limits)
                .unwrap()
                .with_partition_key(PartitionKeyMode::EventId);
            let mut out = Vec::new();
            enc.encode(&decoded, None, None, &mut out).unwrap();
            let second = (37_000_000_000_000_000_000u128 + 1).to_string();
            let parts: Vec<&Record> = out.iter().filter(|r| r.partition_key == second).collect();
            let keys: Vec<(&str, usize)> = out
                .iter()
                .map(|r| (r.partition_key.as_str(), r.events))
                .collect();
            assert!(parts.len() > 1, "{format}: {keys:?}");
            // All but the last part complete no event; the last may also hold the next event.
            assert!(
                parts[..parts.len() - 1].iter().all(|r| r.events == 0),
                "{format}: {keys:?}"
            );
            for r in &out {
                assert!(
                    r.size() <= limits.max_record_bytes,
                    "{format}: {}",
                    r.size()
                );
            }
        }
    }
}
