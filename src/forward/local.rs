//! Local sinks, for `logrelay replay` and tests.
//!
//! - [`DirSink`]: one file per record in a directory, numbered in delivery order: `000001.gz`
//!   (cwl: the record data is a complete gzip payload, so `zcat 000001.gz` shows its JSON),
//!   `000001.ndjson` (ndjson). Files are created new, never overwritten; numbering continues across
//!   `send` calls of one sink.
//! - [`NullSink`]: counts records and bytes, writes nothing.
//! - [`MemorySink`]: keeps the records in memory, for tests.
//!
//! Each reports the PutRecords calls that [`KinesisSink`](super::KinesisSink) would make for the
//! records it is given ([`SendReport::put_records_calls`]), from the same batching code and its
//! [`BatchLimits`] (default: Kinesis's), so that `replay` counts the calls the Lambda would make.

use super::batch::plan_batches;
use super::{BatchLimits, Format, ForwardError, Record, RecordSink, SendReport};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Writes each record to its own file in a directory.
#[derive(Debug)]
pub struct DirSink {
    dir: PathBuf,
    extension: &'static str,
    next: AtomicU64,
    limits: BatchLimits,
}

impl DirSink {
    /// A sink writing into `dir` (created if missing at the first `send`), naming files for `format`.
    pub fn new(dir: impl Into<PathBuf>, format: Format) -> Self {
        DirSink {
            dir: dir.into(),
            extension: format.extension(),
            next: AtomicU64::new(1),
            limits: BatchLimits::default(),
        }
    }

    /// Sets the batch limits the PutRecords calls are counted with.
    pub fn with_limits(mut self, limits: BatchLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl RecordSink for DirSink {
    async fn send(
        &self,
        records: Vec<Record>,
        _deadline: Option<Instant>,
    ) -> Result<SendReport, ForwardError> {
        let mut report = SendReport::default();
        if records.is_empty() {
            return Ok(report);
        }
        let calls = plan_batches(&records, &self.limits)?.len();
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|source| ForwardError::Io {
                path: self.dir.clone(),
                source,
            })?;
        let total = records.len();
        for r in records {
            let n = self.next.fetch_add(1, Ordering::Relaxed);
            let path = self.dir.join(format!("{n:06}.{}", self.extension));
            let write = async {
                use tokio::io::AsyncWriteExt;
                let mut f = tokio::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)
                    .await?;
                f.write_all(&r.data).await?;
                f.flush().await
            };
            if let Err(source) = write.await {
                let e = ForwardError::Io { path, source };
                tracing::warn!(delivered = report.records, undelivered = total - report.records, error = %e, "directory sink incomplete");
                return Err(e);
            }
            report.records += 1;
            report.bytes += r.size();
            report.requests += 1;
        }
        report.put_records_calls = calls;
        Ok(report)
    }
}

/// Counts records and bytes; delivers nowhere.
#[derive(Debug, Default)]
pub struct NullSink {
    records: AtomicUsize,
    bytes: AtomicUsize,
    limits: BatchLimits,
}

impl NullSink {
    /// Sets the batch limits the PutRecords calls are counted with.
    pub fn with_limits(mut self, limits: BatchLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Records counted so far.
    pub fn records(&self) -> usize {
        self.records.load(Ordering::Relaxed)
    }

    /// Bytes (data + partition key) counted so far.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }
}

impl RecordSink for NullSink {
    async fn send(
        &self,
        records: Vec<Record>,
        _deadline: Option<Instant>,
    ) -> Result<SendReport, ForwardError> {
        let put_records_calls = plan_batches(&records, &self.limits)?.len();
        let bytes: usize = records.iter().map(Record::size).sum();
        self.records.fetch_add(records.len(), Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        Ok(SendReport {
            records: records.len(),
            bytes,
            requests: usize::from(!records.is_empty()),
            put_records_calls,
            retried_entries: 0,
        })
    }
}

/// Keeps every record in memory, in delivery order.
#[derive(Debug, Default)]
pub struct MemorySink {
    records: Mutex<Vec<Record>>,
}

impl MemorySink {
    /// A copy of the records delivered so far.
    pub fn records(&self) -> Vec<Record> {
        self.records
            .lock()
            .map(|r| r.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Takes the records delivered so far, leaving the sink empty.
    pub fn take(&self) -> Vec<Record> {
        match self.records.lock() {
            Ok(mut r) => std::mem::take(&mut *r),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        }
    }
}

impl RecordSink for MemorySink {
    async fn send(
        &self,
        records: Vec<Record>,
        _deadline: Option<Instant>,
    ) -> Result<SendReport, ForwardError> {
        let report = SendReport {
            records: records.len(),
            bytes: records.iter().map(Record::size).sum(),
            requests: usize::from(!records.is_empty()),
            put_records_calls: plan_batches(&records, &BatchLimits::default())?.len(),
            retried_entries: 0,
        };
        match self.records.lock() {
            Ok(mut r) => r.extend(records),
            Err(p) => p.into_inner().extend(records),
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(data: &[u8]) -> Record {
        Record {
            partition_key: "g/s".into(),
            data: data.to_vec(),
            events: 1,
        }
    }

    #[tokio::test]
    async fn dir_sink_writes_numbered_files_and_never_overwrites() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out");
        let sink = DirSink::new(&dir, Format::Ndjson);
        let rep = sink
            .send(vec![rec(b"a\n"), rec(b"b\n")], None)
            .await
            .unwrap();
        assert_eq!(rep.records, 2);
        sink.send(vec![rec(b"c\n")], None).await.unwrap();
        assert_eq!(std::fs::read(dir.join("000001.ndjson")).unwrap(), b"a\n");
        assert_eq!(std::fs::read(dir.join("000003.ndjson")).unwrap(), b"c\n");
        let again = DirSink::new(&dir, Format::Ndjson);
        let err = again.send(vec![rec(b"x")], None).await.unwrap_err();
        assert!(matches!(err, ForwardError::Io { .. }), "{err}");
        assert!(err.to_string().contains("000001.ndjson"), "{err}");
        assert_eq!(std::fs::read(dir.join("000001.ndjson")).unwrap(), b"a\n");
    }

    #[tokio::test]
    async fn local_sinks_count_the_putrecords_calls_kinesis_would_make() {
        let limits = BatchLimits {
            max_records: 2,
            max_batch_bytes: 100,
            max_record_bytes: 50,
        };
        let records: Vec<Record> = (0..5).map(|_| rec(&[b'x'; 37])).collect();
        // 40 bytes each (data + key): two per call by count, and 80 of 100 bytes.
        let null = NullSink::default().with_limits(limits);
        let rep = null.send(records.clone(), None).await.unwrap();
        assert_eq!(rep.put_records_calls, 3);
        let tmp = tempfile::tempdir().unwrap();
        let dir = DirSink::new(tmp.path(), Format::Ndjson).with_limits(limits);
        assert_eq!(dir.send(records, None).await.unwrap().put_records_calls, 3);
        // Without limits: Kinesis's own, 500 records per call.
        let many: Vec<Record> = (0..1001).map(|_| rec(b"y")).collect();
        let rep = NullSink::default().send(many, None).await.unwrap();
        assert_eq!(rep.put_records_calls, 3);
        // A record over the limit is refused as Kinesis would refuse it.
        let big = NullSink::default().with_limits(limits);
        let err = big.send(vec![rec(&[0; 60])], None).await.unwrap_err();
        assert!(matches!(err, ForwardError::RecordTooLarge { .. }), "{err}");
    }

    #[tokio::test]
    async fn null_and_memory_sinks_count() {
        let null = NullSink::default();
        null.send(vec![rec(b"abc"), rec(b"de")], None)
            .await
            .unwrap();
        assert_eq!((null.records(), null.bytes()), (2, 3 + 2 + 6));
        let mem = MemorySink::default();
        let rep = mem.send(vec![], None).await.unwrap();
        assert_eq!(rep, SendReport::default());
        mem.send(vec![rec(b"x")], None).await.unwrap();
        assert_eq!(mem.take(), vec![rec(b"x")]);
        assert!(mem.records().is_empty());
    }
}
