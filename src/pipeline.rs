//! The pipeline: one decoded payload → metric datapoints and forward records, and the sinks that take them.
//!
//! [`Pipeline::process`] is synchronous and pure: it evaluates every metric filter that applies to the
//! payload's log group (and the forward pattern) in one [`FilterSet`] pass per event, aggregates the
//! datapoints and encodes the records. [`Relay`] drives a whole invocation: decode, process, then send the
//! records and emit the metrics concurrently, each bounded by the deadline. The Lambda handler and
//! `logrelay replay` both run a `Relay`; only their sinks differ.

use crate::config::{Config, DimensionSource, MetricValue};
use crate::forward::{Encoder, ForwardError, Record, RecordSink, SendReport};
use crate::metrics::cardinality::Admit;
use crate::metrics::{
    CardinalityGuard, EmitReport, MetricBatch, MetricKey, MetricSink, MetricsError, ValueCounts,
    MINUTE_MS,
};
use crate::pattern::{Captures, FilterSet};
use crate::payload::{Decoded, Decoder, Message, MessageType, PayloadError};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Log groups whose compiled filter plan is kept; past this the cache is cleared (bounded memory).
pub const PLAN_CACHE_SIZE: usize = 1024;

/// What one payload amounted to.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct PayloadStats {
    /// It was a `CONTROL_MESSAGE` (acknowledged, skipped).
    pub control_message: bool,
    /// It came from the function's own log group (skipped, no loop).
    pub skipped_own_log_group: bool,
    /// Log events in the payload.
    pub events: usize,
    /// Events selected for forwarding.
    pub forwarded_events: usize,
    /// Records encoded.
    pub records: usize,
    /// Bytes of record data encoded.
    pub record_bytes: usize,
    /// Metric datapoints produced.
    pub datapoints: usize,
    /// Matches whose metric value or a dimension was missing or not a number (nothing published for them).
    pub unpublishable_matches: usize,
    /// Datapoints dropped by the dimension-cardinality guard.
    pub cardinality_dropped: usize,
}

/// The output of [`Pipeline::process`].
#[derive(Debug, Default)]
pub struct Processed {
    /// Records to forward.
    pub records: Vec<Record>,
    /// Aggregated datapoints.
    pub metrics: MetricBatch,
    /// Counters.
    pub stats: PayloadStats,
}

/// The filters that apply to one log group, compiled into one set.
struct GroupPlan {
    set: FilterSet,
    /// For each set index below `forward`, the index of the metric filter in the configuration.
    filters: Vec<usize>,
    /// Set index of the forward pattern, if any.
    forward: Option<usize>,
    /// Set indices of filters with a default value.
    with_default: Vec<usize>,
}

/// Filters and encoders, compiled once; shared by every invocation of a warm instance.
pub struct Pipeline {
    config: Arc<Config>,
    region: Option<String>,
    plans: Mutex<HashMap<String, Arc<GroupPlan>>>,
    guard: Mutex<CardinalityGuard>,
    encoder: Mutex<Encoder>,
}

impl Pipeline {
    /// Builds the pipeline for a validated configuration.
    pub fn new(config: Arc<Config>, region: Option<String>) -> Result<Self, ForwardError> {
        let guard = CardinalityGuard::new(config.filters.len());
        let encoder = Encoder::new(config.forward_format, config.batch_limits)?
            .with_partition_key(config.partition_key);
        Ok(Pipeline {
            config,
            region,
            plans: Mutex::new(HashMap::new()),
            guard: Mutex::new(guard),
            encoder: Mutex::new(encoder),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn plan(&self, log_group: &str) -> Arc<GroupPlan> {
        if let Ok(plans) = self.plans.lock() {
            if let Some(p) = plans.get(log_group) {
                return p.clone();
            }
        }
        let mut patterns = Vec::new();
        let mut filters = Vec::new();
        let mut with_default = Vec::new();
        for (i, f) in self.config.filters.iter().enumerate() {
            if f.scope.applies_to(log_group) {
                if f.transformation.default_value.is_some() {
                    with_default.push(filters.len());
                }
                filters.push(i);
                patterns.push(f.pattern.clone());
            }
        }
        let forward = self.config.forward_pattern.as_ref().map(|p| {
            patterns.push(p.clone());
            patterns.len() - 1
        });
        let plan = Arc::new(GroupPlan {
            set: FilterSet::new(patterns),
            filters,
            forward,
            with_default,
        });
        if let Ok(mut plans) = self.plans.lock() {
            if plans.len() >= PLAN_CACHE_SIZE {
                plans.clear();
            }
            plans.insert(log_group.to_string(), plan.clone());
        }
        plan
    }

    /// Evaluates the filters on every event of a payload, aggregates the metrics, and (when `forward`)
    /// encodes the records.
    pub fn process(&self, decoded: &Decoded<'_>, forward: bool) -> Result<Processed, ForwardError> {
        let data = &decoded.data;
        let mut out = Processed::default();
        if data.message_type == MessageType::ControlMessage {
            out.stats.control_message = true;
            return Ok(out);
        }
        if self.config.own_log_group.as_deref() == Some(data.log_group.as_ref()) {
            tracing::warn!(
                log_group = %data.log_group,
                events = data.log_events.len(),
                "payload from the function's own log group skipped (a subscription loop); exclude this log group from the subscription"
            );
            out.stats.skipped_own_log_group = true;
            return Ok(out);
        }
        out.stats.events = data.log_events.len();
        let plan = self.plan(&data.log_group);
        let filters = &self.config.filters;

        // Datapoints of filters whose dimensions do not depend on the message are aggregated here, keyed by
        // (filter, minute), and turned into MetricKeys once per payload.
        let mut payload_level: HashMap<(usize, i64), ValueCounts> = HashMap::new();
        let mut per_message: Vec<(MetricKey, f64)> = Vec::new();
        let static_dims: Vec<bool> = plan
            .filters
            .iter()
            .map(|&fi| {
                filters[fi]
                    .transformation
                    .dimensions
                    .iter()
                    .all(|d| !matches!(d.source, DimensionSource::Field { .. }))
            })
            .collect();

        let mut selected: Vec<bool> = Vec::new();
        let select = forward && plan.forward.is_some();
        if select {
            selected.reserve(data.log_events.len());
        }
        let mut matched = vec![false; plan.filters.len()];
        let mut scratch = plan.set.scratch();
        let mut guard = self.guard.lock().ok();
        let mut stats = PayloadStats::default();
        for event in &data.log_events {
            let minute = event.timestamp.div_euclid(MINUTE_MS) * MINUTE_MS;
            let mut forward_hit = false;
            matched.iter_mut().for_each(|m| *m = false);
            let on_match = |i: usize, caps: &Captures<'_>| {
                if Some(i) == plan.forward {
                    forward_hit = true;
                    return;
                }
                let Some(&fi) = plan.filters.get(i) else {
                    return;
                };
                matched[i] = true;
                let t = &filters[fi].transformation;
                let value = match &t.value {
                    MetricValue::Literal(v) => Some(*v),
                    MetricValue::Field { field, .. } => caps
                        .get(field)
                        .and_then(|v| v.as_f64())
                        .filter(|v| v.is_finite()),
                };
                let Some(value) = value else {
                    stats.unpublishable_matches += 1;
                    return;
                };
                if static_dims[i] {
                    payload_level.entry((i, minute)).or_default().add(value);
                    return;
                }
                let mut dims = Vec::with_capacity(t.dimensions.len());
                for d in &t.dimensions {
                    let v = match &d.source {
                        DimensionSource::Field { field, .. } => caps
                            .get(field)
                            .and_then(|v| v.to_text().map(|c| c.into_owned())),
                        DimensionSource::LogGroup => Some(data.log_group.to_string()),
                        DimensionSource::LogStream => Some(data.log_stream.to_string()),
                        DimensionSource::Owner => Some(data.owner.to_string()),
                    };
                    match v {
                        Some(v) if !v.is_empty() => {
                            dims.push((Arc::<str>::from(d.name.as_str()), v))
                        }
                        _ => {
                            stats.unpublishable_matches += 1;
                            return;
                        }
                    }
                }
                if let Some(g) = guard.as_mut() {
                    match g.admit(fi, dims.iter().map(|(_, v)| v.as_str()), event.timestamp) {
                        Admit::Yes => {}
                        Admit::Disabled => {
                            stats.cardinality_dropped += 1;
                            return;
                        }
                        Admit::JustDisabled => {
                            stats.cardinality_dropped += 1;
                            tracing::error!(
                                filter = %filters[fi].name,
                                limit = crate::metrics::cardinality::MAX_DIMENSION_COMBINATIONS,
                                "metric filter disabled for an hour: its dimensions produced too many distinct combinations (as CloudWatch does)"
                            );
                            return;
                        }
                    }
                }
                per_message.push((self.key(fi, dims, minute), value));
            };
            match &event.message {
                Message::Text(text) => plan.set.eval(text, &mut scratch, on_match),
                Message::Escaped(escaped) => {
                    plan.set.eval_escaped(*escaped, &mut scratch, on_match)
                }
            }
            for &i in &plan.with_default {
                if !matched[i] {
                    if let Some(d) = filters[plan.filters[i]].transformation.default_value {
                        payload_level.entry((i, minute)).or_default().add(d);
                    }
                }
            }
            if select {
                selected.push(forward_hit);
            }
        }
        drop(guard);

        for ((i, minute), values) in payload_level {
            let fi = plan.filters[i];
            let dims = filters[fi]
                .transformation
                .dimensions
                .iter()
                .filter_map(|d| {
                    let v = match d.source {
                        DimensionSource::LogGroup => data.log_group.to_string(),
                        DimensionSource::LogStream => data.log_stream.to_string(),
                        DimensionSource::Owner => data.owner.to_string(),
                        DimensionSource::Field { .. } => return None,
                    };
                    Some((Arc::<str>::from(d.name.as_str()), v))
                })
                .collect();
            let key = self.key(fi, dims, minute);
            for (v, n) in values.entries() {
                stats.datapoints += *n as usize;
                out.metrics.add_n(key.clone(), *v, *n);
            }
        }
        stats.datapoints += per_message.len();
        for (key, value) in per_message {
            out.metrics.add(key, value);
        }
        if stats.unpublishable_matches > 0 {
            tracing::warn!(
                log_group = %data.log_group,
                matches = stats.unpublishable_matches,
                "matching events whose metric value or dimension was missing or not a number published nothing"
            );
        }

        if forward {
            let selection = select.then_some(selected.as_slice());
            stats.forwarded_events = match selection {
                Some(s) => s.iter().filter(|&&b| b).count(),
                None => data.log_events.len(),
            };
            if stats.forwarded_events > 0 {
                // A poisoned lock only means an earlier encode panicked; the encoder's buffers are
                // cleared at each use, so it is safe to go on.
                let mut encoder = self.encoder.lock().unwrap_or_else(|e| e.into_inner());
                encoder.encode(decoded, selection, self.region.as_deref(), &mut out.records)?;
            }
            stats.records = out.records.len();
            stats.record_bytes = out.records.iter().map(|r| r.data.len()).sum();
        }
        stats.events = data.log_events.len();
        out.stats = stats;
        Ok(out)
    }

    fn key(&self, filter: usize, dimensions: Vec<(Arc<str>, String)>, minute_ms: i64) -> MetricKey {
        let t = &self.config.filters[filter].transformation;
        MetricKey {
            namespace: Arc::from(t.namespace.as_str()),
            name: Arc::from(t.metric_name.as_str()),
            dimensions,
            unit: t.unit.as_deref().map(Arc::from),
            minute_ms,
        }
    }
}

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The payload could not be decoded (it will never decode: Lambda's retries end in the on-failure
    /// destination, where it is kept).
    #[error("payload rejected: {0}")]
    Payload(#[from] PayloadError),
    /// Records could not all be delivered (Lambda retries the invocation).
    #[error("forwarding incomplete: {0}")]
    Forward(#[from] ForwardError),
}

/// What an invocation did.
#[derive(Debug, Default)]
pub struct InvocationReport {
    /// Counters of the payload.
    pub stats: PayloadStats,
    /// The record sink's report, when records were sent.
    pub sent: Option<SendReport>,
    /// The metric sink's report.
    pub emitted: Option<EmitReport>,
    /// The metrics error, if emitting failed (it does not fail the invocation).
    pub metrics_error: Option<String>,
    /// The aggregated metrics (kept for summaries).
    pub metrics: MetricBatch,
}

/// A whole invocation: decode → process → send and emit.
pub struct Relay<R, M> {
    pipeline: Pipeline,
    records: Option<R>,
    metrics: M,
    decoder: tokio::sync::Mutex<Decoder>,
}

impl<R: RecordSink, M: MetricSink> Relay<R, M> {
    /// A relay over a pipeline and its sinks; `records: None` disables forwarding.
    pub fn new(pipeline: Pipeline, records: Option<R>, metrics: M) -> Self {
        let decoder = Decoder::new(pipeline.config().max_decompressed_bytes);
        Relay {
            pipeline,
            records,
            metrics,
            decoder: tokio::sync::Mutex::new(decoder),
        }
    }

    /// The pipeline.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Handles one Lambda event body (`{"awslogs":{"data":...}}`).
    pub async fn handle_event(
        &self,
        event_json: &[u8],
        deadline: Option<Instant>,
    ) -> Result<InvocationReport, RelayError> {
        let processed = {
            let mut decoder = self.decoder.lock().await;
            let decoded = decoder.decode_event(event_json)?;
            self.pipeline.process(&decoded, self.records.is_some())?
        };
        self.deliver(processed, deadline).await
    }

    async fn deliver(
        &self,
        processed: Processed,
        deadline: Option<Instant>,
    ) -> Result<InvocationReport, RelayError> {
        let Processed {
            records,
            metrics,
            stats,
        } = processed;
        let send = async {
            match &self.records {
                Some(sink) if !records.is_empty() => Some(sink.send(records, deadline).await),
                _ => None,
            }
        };
        let emit = async {
            if metrics.is_empty() {
                Ok(EmitReport::default())
            } else {
                self.metrics.emit(&metrics, deadline).await
            }
        };
        let (sent, emitted) = tokio::join!(send, emit);
        let mut report = InvocationReport {
            stats,
            ..Default::default()
        };
        match emitted {
            Ok(r) => report.emitted = Some(r),
            Err(e) => {
                tracing::error!(error = %e, "metrics not emitted; forwarding is not affected");
                report.metrics_error = Some(metrics_error_text(&e));
            }
        }
        report.metrics = metrics;
        match sent {
            None => {}
            Some(Ok(s)) => report.sent = Some(s),
            Some(Err(e)) => return Err(RelayError::Forward(e)),
        }
        Ok(report)
    }
}

fn metrics_error_text(e: &MetricsError) -> String {
    e.to_string()
}
