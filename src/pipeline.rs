//! The pipeline: one decoded payload → metric datapoints and forward records, and the sinks that take them.
//!
//! [`Pipeline::process`] is synchronous and pure: it evaluates every metric filter that applies to the
//! payload's log group (and the forward pattern) in one [`FilterSet`] pass per event, aggregates the
//! datapoints and encodes the records. [`Relay`] drives a whole invocation: decode, process, then send the
//! records and emit the metrics concurrently, each bounded by the deadline. The Lambda handler and
//! `logrelay replay` both run a `Relay`; only their sinks differ.

use crate::config::Config;
use crate::forward::{Encoder, ForwardError, Record, RecordSink, SendReport};
use crate::metrics::evaluate::{Evaluation, PayloadSystemValues};
use crate::metrics::{CardinalityGuard, EmitReport, MetricBatch, MetricSink, MetricsError};
use crate::pattern::selection::SystemField;
use crate::pattern::{Captures, FilterSet};
use crate::payload::kinesis::{self, RecordFormat};
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
    /// (Event, metric filter) pairs skipped because the filter needs a system field
    /// (`@aws.region`, …) that the event does not tell (logged).
    pub system_fields_unknown: usize,
}

impl PayloadStats {
    /// Adds the counters of another payload (its `control_message` and `skipped_own_log_group`
    /// flags are counted by the caller).
    pub fn add(&mut self, other: &PayloadStats) {
        self.events += other.events;
        self.forwarded_events += other.forwarded_events;
        self.records += other.records;
        self.record_bytes += other.record_bytes;
        self.datapoints += other.datapoints;
        self.unpublishable_matches += other.unpublishable_matches;
        self.cardinality_dropped += other.cardinality_dropped;
        self.system_fields_unknown += other.system_fields_unknown;
    }
}

/// Whether [`Pipeline::process`] encodes records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardMode {
    /// Select the events to forward and encode them into records.
    Encode,
    /// No forwarding: metrics only.
    Off,
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

/// The Region the events of the payloads were logged in: the value of the system field
/// `@aws.region` for events whose `extractedFields` do not give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventsRegion {
    /// Every payload comes from this Region. True of the source function: a subscription filter
    /// delivers only events of its own Region's log groups, to a function in that Region.
    Known(String),
    /// Not known (a stream that several Regions write, or no Region configured): filters that
    /// need `@aws.region` count only events whose `extractedFields` give it.
    Unknown,
}

impl EventsRegion {
    /// The Region, when known.
    pub fn known(&self) -> Option<&str> {
        match self {
            EventsRegion::Known(r) => Some(r),
            EventsRegion::Unknown => None,
        }
    }
}

/// Filters and encoders, compiled once; shared by every invocation of a warm instance.
pub struct Pipeline {
    config: Arc<Config>,
    region: Option<String>,
    events_region: EventsRegion,
    plans: Mutex<HashMap<String, Arc<GroupPlan>>>,
    guard: Mutex<CardinalityGuard>,
    encoder: Mutex<Encoder>,
}

impl Pipeline {
    /// Builds the pipeline for a validated configuration; `region` is the function's own (for
    /// the records' enrichment), `events_region` the Region of the events it reads.
    pub fn new(
        config: Arc<Config>,
        region: Option<String>,
        events_region: EventsRegion,
    ) -> Result<Self, ForwardError> {
        if events_region == EventsRegion::Unknown {
            for f in config.filters.iter() {
                if f.system_fields().contains(&SystemField::Region) {
                    tracing::warn!(
                        filter = %f.name,
                        "the filter needs @aws.region and the events' Region is not known here: \
                         it counts only events whose extractedFields give @aws.region"
                    );
                }
            }
        }
        let guard = CardinalityGuard::new(config.filters.len());
        let encoder = Encoder::new(config.forward_format, config.batch_limits)?
            .with_partition_key(config.partition_key);
        Ok(Pipeline {
            config,
            region,
            events_region,
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

    /// The cardinality guard. A poisoned lock (a panic while it was held: only in a build that
    /// unwinds, the release build aborts) is recovered rather than leaving the guard off: its state
    /// is hashes, a window start and a flag per filter, each valid whatever the panic interrupted.
    fn lock_guard(&self) -> std::sync::MutexGuard<'_, CardinalityGuard> {
        self.guard.lock().unwrap_or_else(|poisoned| {
            tracing::warn!("cardinality guard lock poisoned by an earlier panic; recovered, the guard stays on");
            self.guard.clear_poison();
            poisoned.into_inner()
        })
    }

    /// Evaluates the filters on every event of a payload, aggregates the metrics
    /// ([`Evaluation`]), and in [`ForwardMode::Encode`] encodes the records.
    pub fn process(
        &self,
        decoded: &Decoded<'_>,
        mode: ForwardMode,
    ) -> Result<Processed, ForwardError> {
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

        let mut selected: Vec<bool> = Vec::new();
        let select = mode == ForwardMode::Encode && plan.forward.is_some();
        if select {
            selected.reserve(data.log_events.len());
        }
        let mut scratch = plan.set.scratch();
        let mut guard = self.lock_guard();
        let system = PayloadSystemValues::new(data, self.events_region.known());
        let mut eval = Evaluation::new(
            &self.config.filters,
            &plan.filters,
            &plan.with_default,
            data,
            system,
            Some(&mut *guard),
        );
        for event in &data.log_events {
            eval.start_event(event, system.of(event));
            let mut forward_hit = false;
            let on_match = |i: usize, caps: &Captures<'_>| {
                if Some(i) == plan.forward {
                    forward_hit = true;
                } else {
                    eval.matched(i, caps);
                }
            };
            match &event.message {
                Message::Text(text) => plan.set.eval(text, &mut scratch, on_match),
                Message::Escaped(escaped) => {
                    plan.set.eval_escaped(*escaped, &mut scratch, on_match)
                }
            }
            eval.end_event();
            if select {
                selected.push(forward_hit);
            }
        }
        let evaluated = eval.finish(&mut out.metrics);
        drop(guard);
        let mut stats = PayloadStats {
            datapoints: evaluated.datapoints,
            unpublishable_matches: evaluated.unpublishable_matches,
            cardinality_dropped: evaluated.cardinality_dropped,
            system_fields_unknown: evaluated.system_fields_unknown,
            ..PayloadStats::default()
        };
        if stats.unpublishable_matches > 0 {
            tracing::warn!(
                log_group = %data.log_group,
                matches = stats.unpublishable_matches,
                "matching events whose metric value or dimension was missing, not a number, or not a value CloudWatch takes published nothing"
            );
        }

        if mode == ForwardMode::Encode {
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

/// The first record of a Kinesis batch that could not be decoded.
#[derive(Debug)]
pub struct RecordFailure {
    /// Its index in the batch.
    pub index: usize,
    /// Its sequence number.
    pub sequence_number: String,
    /// Why it does not decode.
    pub error: PayloadError,
}

/// What a Kinesis batch (hub mode) amounted to.
///
/// The records are evaluated in shard order up to the first that does not decode; the metrics of
/// the records before it are published, once, and that record and every one after it are reported
/// as failed, so that Lambda resumes the shard at it: a retried batch never counts a record twice.
/// When publishing fails with nothing published, every record is reported as failed and nothing
/// was counted.
#[derive(Debug, Default)]
pub struct BatchReport {
    /// Records in the batch.
    pub records: usize,
    /// Records whose events were evaluated, and counted unless `counted` is false.
    pub evaluated: usize,
    /// Whether the metrics of the evaluated records were published (or there were none).
    pub counted: bool,
    /// Of the evaluated records, those in the `ndjson` format.
    pub ndjson_records: usize,
    /// Payloads in the evaluated records (a `cwl` record holds one; an `ndjson` record one per
    /// log stream).
    pub payloads: usize,
    /// Of which `CONTROL_MESSAGE`s.
    pub control_messages: usize,
    /// Counters of the evaluated payloads.
    pub stats: PayloadStats,
    /// The first record that does not decode.
    pub failure: Option<RecordFailure>,
    /// Sequence numbers to report as `batchItemFailures`: every record from the first failed one.
    pub batch_item_failures: Vec<String>,
    /// The metric sink's report.
    pub emitted: Option<EmitReport>,
    /// The metrics error, if emitting failed.
    pub metrics_error: Option<String>,
    /// The metrics published (empty when nothing was counted).
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

    /// The record sink, when forwarding.
    pub fn record_sink(&self) -> Option<&R> {
        self.records.as_ref()
    }

    /// The metric sink.
    pub fn metric_sink(&self) -> &M {
        &self.metrics
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
            let mode = match self.records {
                Some(_) => ForwardMode::Encode,
                None => ForwardMode::Off,
            };
            self.pipeline.process(&decoded, mode)?
        };
        self.deliver(processed, deadline).await
    }

    /// Handles one Kinesis Lambda event (hub mode): every record's payloads are evaluated
    /// (metrics only, nothing is forwarded) and the metrics published once; see [`BatchReport`]
    /// for what is counted when a record does not decode or publishing fails. An event that is
    /// not a Kinesis event fails whole.
    pub async fn handle_kinesis_event(
        &self,
        event_json: &[u8],
        deadline: Option<Instant>,
    ) -> Result<BatchReport, RelayError> {
        let event = kinesis::parse_event(event_json)?;
        let mut report = BatchReport {
            records: event.records.len(),
            ..Default::default()
        };
        let mut metrics = MetricBatch::new();
        {
            let mut decoder = self.decoder.lock().await;
            for (index, record) in event.records.iter().enumerate() {
                let decoded = match decoder.decode_record(record.kinesis.data.as_bytes()) {
                    Ok(d) => d,
                    Err(error) => {
                        report.failure = Some(RecordFailure {
                            index,
                            sequence_number: record.kinesis.sequence_number.to_string(),
                            error,
                        });
                        break;
                    }
                };
                for payload in &decoded.payloads {
                    let processed = self.pipeline.process(payload, ForwardMode::Off)?;
                    report.payloads += 1;
                    report.control_messages += usize::from(processed.stats.control_message);
                    report.stats.add(&processed.stats);
                    metrics.merge(processed.metrics);
                }
                report.evaluated += 1;
                report.ndjson_records += usize::from(decoded.format == RecordFormat::Ndjson);
            }
        }
        let first_failed = report.failure.as_ref().map_or(report.records, |f| f.index);
        report.counted = true;
        if !metrics.is_empty() {
            match self.metrics.emit(&metrics, deadline).await {
                Ok(r) => report.emitted = Some(r),
                Err(e) if e.nothing_published() => {
                    // Nothing counted: the whole batch is retried.
                    tracing::error!(error = %e, records = report.records, "metrics not published; the whole batch is reported as failed, to be retried");
                    report.metrics_error = Some(metrics_error_text(&e));
                    report.counted = false;
                    report.batch_item_failures = event
                        .records
                        .iter()
                        .map(|r| r.kinesis.sequence_number.to_string())
                        .collect();
                    return Ok(report);
                }
                Err(e) => {
                    // Part published: a retry would count that part twice, so the records are
                    // not retried for it (the failure shows in the function's own metrics).
                    tracing::error!(error = %e, "metrics published in part; the records are not retried for it, which would count the published part twice");
                    report.metrics_error = Some(metrics_error_text(&e));
                }
            }
        }
        report.metrics = metrics;
        report.batch_item_failures = event.records[first_failed..]
            .iter()
            .map(|r| r.kinesis.sequence_number.to_string())
            .collect();
        Ok(report)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse_filter_document, MetricsMode, Mode};
    use crate::forward::{BatchLimits, Format, PartitionKeyMode};
    use crate::metrics::cardinality::{MAX_DIMENSION_COMBINATIONS, WINDOW_MS};
    use crate::payload::{EventId, LogEvent, LogsData};

    fn pipeline(filters: &str) -> Pipeline {
        let config = Config {
            mode: Mode::Source,
            filters: parse_filter_document(filters.as_bytes(), "test").unwrap(),
            metrics: MetricsMode::Off,
            stream_arn: None,
            assume_role: None,
            forward_format: Format::Cwl,
            forward_pattern: None,
            partition_key: PartitionKeyMode::Stream,
            max_decompressed_bytes: crate::payload::DEFAULT_MAX_DECOMPRESSED_BYTES,
            batch_limits: BatchLimits::default(),
            own_log_group: None,
        };
        Pipeline::new(Arc::new(config), None, EventsRegion::Unknown).unwrap()
    }

    fn run(p: &Pipeline, stream: &str, messages: &[String], timestamp: i64) -> PayloadStats {
        let data = LogsData {
            message_type: MessageType::DataMessage,
            owner: "111122223333".into(),
            log_group: "/g".into(),
            log_stream: stream.to_string().into(),
            subscription_filters: vec![],
            log_events: messages
                .iter()
                .map(|m| LogEvent::new(EventId::Int(0), timestamp, Message::from(m.as_str())))
                .collect(),
            policy_level: None,
            region: None,
        };
        let decoded = Decoded {
            gzip: &[],
            decompressed_len: 0,
            data,
        };
        p.process(&decoded, ForwardMode::Off).unwrap().stats
    }

    const BY_STREAM: &str = r#"[{"filterName":"errors-by-stream","filterPattern":"ERROR",
        "metricTransformations":[{"metricName":"E","metricNamespace":"N","metricValue":"1",
          "dimensions":{"Stream":"@logStream"}}]}]"#;

    const BY_USER: &str = r#"[{"filterName":"by-user","filterPattern":"{ $.user = * }",
        "metricTransformations":[{"metricName":"E","metricNamespace":"N","metricValue":"1",
          "dimensions":{"User":"$.user"}}]}]"#;

    #[test]
    fn payload_stats_add_every_counter() {
        let one = PayloadStats {
            control_message: false,
            skipped_own_log_group: false,
            events: 1,
            forwarded_events: 2,
            records: 3,
            record_bytes: 4,
            datapoints: 5,
            unpublishable_matches: 6,
            cardinality_dropped: 7,
            system_fields_unknown: 8,
        };
        let mut sum = one.clone();
        sum.add(&one);
        assert_eq!(
            sum,
            PayloadStats {
                events: 2,
                forwarded_events: 4,
                records: 6,
                record_bytes: 8,
                datapoints: 10,
                unpublishable_matches: 12,
                cardinality_dropped: 14,
                system_fields_unknown: 16,
                ..PayloadStats::default()
            }
        );
    }

    #[test]
    fn payload_only_dimensions_go_through_the_guard() {
        let p = pipeline(BY_STREAM);
        let t = 100 * WINDOW_MS;
        let errors = vec!["ERROR a".to_string(), "ERROR b".to_string()];
        for i in 0..MAX_DIMENSION_COMBINATIONS {
            let s = run(&p, &format!("stream-{i}"), &errors, t);
            assert_eq!((s.datapoints, s.cardinality_dropped), (2, 0), "stream {i}");
        }
        // One more log stream: a new combination past the limit disables the filter.
        let s = run(&p, "one-stream-too-many", &errors, t);
        assert_eq!((s.datapoints, s.cardinality_dropped), (0, 2));
        let s = run(&p, "stream-0", &errors, t + 1);
        assert_eq!((s.datapoints, s.cardinality_dropped), (0, 2));
        // An hour later it publishes again.
        let s = run(&p, "stream-0", &errors, t + WINDOW_MS);
        assert_eq!((s.datapoints, s.cardinality_dropped), (2, 0));
    }

    fn users(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!(r#"{{"user":"u{i}"}}"#)).collect()
    }

    #[test]
    fn a_late_payload_does_not_enable_a_disabled_filter_again() {
        let p = pipeline(BY_USER);
        let t = 100 * WINDOW_MS;
        let s = run(&p, "s", &users(0..MAX_DIMENSION_COMBINATIONS + 1), t);
        assert_eq!(s.cardinality_dropped, 1);
        // Events from before the window (a late payload, a clock behind) stay dropped.
        let s = run(&p, "s", &users(0..3), t - 1);
        assert_eq!((s.datapoints, s.cardinality_dropped), (0, 3));
        let s = run(&p, "s", &users(0..3), t - 2 * WINDOW_MS);
        assert_eq!((s.datapoints, s.cardinality_dropped), (0, 3));
        let s = run(&p, "s", &users(0..3), t + WINDOW_MS);
        assert_eq!((s.datapoints, s.cardinality_dropped), (3, 0));
    }

    #[test]
    fn a_poisoned_guard_lock_keeps_the_guard_on() {
        let p = pipeline(BY_USER);
        std::thread::scope(|scope| {
            let poisoner = scope.spawn(|| {
                let _held = p.guard.lock().unwrap();
                panic!("poison the guard lock");
            });
            assert!(poisoner.join().is_err());
        });
        assert!(p.guard.is_poisoned());
        let t = 100 * WINDOW_MS;
        let s = run(&p, "s", &users(0..MAX_DIMENSION_COMBINATIONS + 5), t);
        assert_eq!(
            (s.datapoints, s.cardinality_dropped),
            (MAX_DIMENSION_COMBINATIONS, 5)
        );
        assert!(
            !p.guard.is_poisoned(),
            "the poison is cleared once recovered"
        );
    }
}
