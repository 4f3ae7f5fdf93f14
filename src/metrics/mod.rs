//! Metric datapoints: from filter matches to aggregated data, and the emitters.
//!
//! Within one invocation every datapoint is aggregated by namespace, metric name, dimensions, unit and
//! minute (of the log event's timestamp) into a value → count table, which is exactly what PutMetricData's
//! `Values`/`Counts` carry: Sum, SampleCount, Minimum and Maximum come out as if each event had been
//! published alone, for a fraction of the requests.

pub mod cardinality;
pub mod cloudwatch;
pub mod emf;
pub mod evaluate;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

pub use cardinality::CardinalityGuard;

/// Milliseconds in a minute: the aggregation period (metric filters publish per minute).
pub const MINUTE_MS: i64 = 60_000;

/// The identity of one aggregated metric: everything but its values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetricKey {
    /// Namespace.
    pub namespace: Arc<str>,
    /// Metric name.
    pub name: Arc<str>,
    /// Dimensions, name and value, in the filter's order.
    pub dimensions: Vec<(Arc<str>, String)>,
    /// Standard unit, if any.
    pub unit: Option<Arc<str>>,
    /// Start of the minute, milliseconds since the epoch.
    pub minute_ms: i64,
}

/// The distinct values of one metric and how often each occurred.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValueCounts {
    entries: Vec<(f64, u64)>,
}

impl ValueCounts {
    /// Adds one occurrence of `value`.
    pub fn add(&mut self, value: f64) {
        self.add_n(value, 1);
    }

    /// Adds `n` occurrences of `value`.
    pub fn add_n(&mut self, value: f64, n: u64) {
        // Metric values repeat a lot (counts are all 1): a linear scan of a short list beats hashing.
        match self
            .entries
            .iter_mut()
            .find(|(v, _)| v.to_bits() == value.to_bits())
        {
            Some((_, c)) => *c += n,
            None => self.entries.push((value, n)),
        }
    }

    /// The distinct values and their counts, in first-seen order.
    pub fn entries(&self) -> &[(f64, u64)] {
        &self.entries
    }

    /// The sum of all values.
    pub fn sum(&self) -> f64 {
        self.entries.iter().map(|(v, c)| v * *c as f64).sum()
    }

    /// How many values were added.
    pub fn sample_count(&self) -> u64 {
        self.entries.iter().map(|(_, c)| c).sum()
    }
}

/// All datapoints of an invocation, aggregated.
#[derive(Debug, Default, Clone)]
pub struct MetricBatch {
    data: HashMap<MetricKey, ValueCounts>,
}

impl MetricBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one datapoint.
    pub fn add(&mut self, key: MetricKey, value: f64) {
        self.data.entry(key).or_default().add(value);
    }

    /// Adds `n` datapoints of the same value.
    pub fn add_n(&mut self, key: MetricKey, value: f64, n: u64) {
        if n > 0 {
            self.data.entry(key).or_default().add_n(value, n);
        }
    }

    /// Merges another batch into this one.
    pub fn merge(&mut self, other: MetricBatch) {
        for (k, v) in other.data {
            let entry = self.data.entry(k).or_default();
            for (value, n) in v.entries {
                entry.add_n(value, n);
            }
        }
    }

    /// Whether the batch holds nothing.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Number of distinct metrics (keys).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// The metrics in a stable order (namespace, name, dimensions, unit, minute).
    pub fn sorted(&self) -> Vec<(&MetricKey, &ValueCounts)> {
        let mut v: Vec<_> = self.data.iter().collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }

    /// Sum of values per namespace and metric name (the `replay` summary).
    pub fn sums(
        &self,
    ) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, f64>> {
        let mut out: std::collections::BTreeMap<String, std::collections::BTreeMap<String, f64>> =
            Default::default();
        for (k, v) in &self.data {
            *out.entry(k.namespace.to_string())
                .or_default()
                .entry(k.name.to_string())
                .or_default() += v.sum();
        }
        out
    }
}

/// What an emitter did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EmitReport {
    /// Metric datums written.
    pub datums: usize,
    /// Requests (PutMetricData calls) or lines (EMF) written.
    pub requests: usize,
    /// PutMetricData calls made (each is billed as one request; the SDK's own retries of a call
    /// are not counted).
    pub put_metric_data_calls: usize,
    /// Bytes of EMF lines written (billed as log ingestion of the function's log group).
    pub emf_bytes: usize,
}

/// A metrics emitting error.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    /// PutMetricData failed.
    #[error("PutMetricData for namespace {namespace:?} failed after {delivered} of {total} datums: {message}")]
    Put {
        /// The namespace of the failed request.
        namespace: String,
        /// Datums delivered before the failure.
        delivered: usize,
        /// Datums in the batch.
        total: usize,
        /// The service's error.
        message: String,
    },
    /// The deadline passed before all metrics were sent.
    #[error("deadline reached with {undelivered} metric datums not sent")]
    Deadline {
        /// Datums sent before the deadline.
        delivered: usize,
        /// Datums not sent.
        undelivered: usize,
    },
    /// Writing EMF lines failed.
    #[error("writing metrics failed: {0}")]
    Io(#[from] std::io::Error),
}

impl MetricsError {
    /// Whether nothing of the batch was published, so that emitting the same metrics again cannot
    /// count anything twice. A failed EMF write may have written part of its lines: not known.
    pub fn nothing_published(&self) -> bool {
        match self {
            MetricsError::Put { delivered, .. } | MetricsError::Deadline { delivered, .. } => {
                *delivered == 0
            }
            MetricsError::Io(_) => false,
        }
    }
}

/// Where aggregated metrics go: CloudWatch, EMF lines, or nowhere. The pipeline is generic over it.
pub trait MetricSink: Send + Sync {
    /// Emits one invocation's metrics; must give up before `deadline`.
    fn emit(
        &self,
        batch: &MetricBatch,
        deadline: Option<std::time::Instant>,
    ) -> impl Future<Output = Result<EmitReport, MetricsError>> + Send;
}

/// Discards metrics (`LOGRELAY_METRICS=off`).
#[derive(Debug, Default, Clone, Copy)]
pub struct NullMetricSink;

impl MetricSink for NullMetricSink {
    async fn emit(
        &self,
        _batch: &MetricBatch,
        _deadline: Option<std::time::Instant>,
    ) -> Result<EmitReport, MetricsError> {
        Ok(EmitReport::default())
    }
}

/// The metric sinks logrelay ships, chosen at start-up.
pub enum AnyMetricSink {
    /// PutMetricData.
    CloudWatch(cloudwatch::CloudWatchSink),
    /// EMF lines to a writer (stdout in Lambda).
    Emf(emf::EmfSink),
    /// Nothing.
    Off(NullMetricSink),
}

impl AnyMetricSink {
    /// PutMetricData calls made so far, failed ones included
    /// ([`CloudWatchSink::calls_made`](cloudwatch::CloudWatchSink::calls_made)); 0 for EMF and off.
    pub fn calls_made(&self) -> usize {
        match self {
            AnyMetricSink::CloudWatch(s) => s.calls_made(),
            AnyMetricSink::Emf(_) | AnyMetricSink::Off(_) => 0,
        }
    }
}

impl MetricSink for AnyMetricSink {
    async fn emit(
        &self,
        batch: &MetricBatch,
        deadline: Option<std::time::Instant>,
    ) -> Result<EmitReport, MetricsError> {
        match self {
            AnyMetricSink::CloudWatch(s) => s.emit(batch, deadline).await,
            AnyMetricSink::Emf(s) => s.emit(batch, deadline).await,
            AnyMetricSink::Off(s) => s.emit(batch, deadline).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, minute: i64) -> MetricKey {
        MetricKey {
            namespace: "N".into(),
            name: name.into(),
            dimensions: vec![("LogGroup".into(), "/g".into())],
            unit: None,
            minute_ms: minute * MINUTE_MS,
        }
    }

    #[test]
    fn aggregates_values_and_counts_per_key() {
        let mut b = MetricBatch::new();
        for _ in 0..5 {
            b.add(key("E", 1), 1.0);
        }
        b.add(key("E", 1), 0.0);
        b.add(key("E", 2), 1.0);
        b.add(key("L", 1), 250.5);
        assert_eq!(b.len(), 3);
        let sorted = b.sorted();
        assert_eq!(sorted[0].1.entries(), &[(1.0, 5), (0.0, 1)]);
        assert_eq!(sorted[0].1.sample_count(), 6);
        assert_eq!(b.sums()["N"]["E"], 6.0);
        assert_eq!(b.sums()["N"]["L"], 250.5);
    }

    #[test]
    fn merge_adds_counts() {
        let mut a = MetricBatch::new();
        a.add_n(key("E", 1), 1.0, 3);
        let mut b = MetricBatch::new();
        b.add_n(key("E", 1), 1.0, 4);
        b.add_n(key("E", 1), 2.0, 0);
        a.merge(b);
        assert_eq!(a.sorted()[0].1.entries(), &[(1.0, 7)]);
    }
}
