//! Metric evaluation: from the filter matches of one payload's events to aggregated datapoints.
//!
//! For each match: the metric value (a literal, or a field of the event that must be a finite
//! number), the dimensions (payload names resolved once per payload, fields of the event per
//! match; a missing or empty value publishes nothing), the cardinality guard (as CloudWatch, a
//! filter whose dimensions produce too many combinations is disabled for an hour), and for
//! non-matching events of a filter with a default value, the default. Datapoints of filters whose
//! dimensions do not depend on the message are aggregated per (filter, minute) and turned into
//! [`MetricKey`]s once per payload.
//!
//! Metric filter behaviour: "Creating metrics from log events using filters" and "Publishing
//! dimensions with metrics from values in JSON or space-delimited log events" in the CloudWatch
//! Logs User Guide.

use super::cardinality::{Admit, CardinalityGuard, MAX_DIMENSION_COMBINATIONS};
use super::{MetricBatch, MetricKey, ValueCounts, MINUTE_MS};
use crate::config::{DimensionSource, MetricFilter, MetricValue, Transformation};
use crate::pattern::{Captures, FieldRef};
use crate::payload::LogsData;
use std::collections::HashMap;
use std::sync::Arc;

/// What evaluation counted beside the datapoints.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EvalStats {
    /// Datapoints produced.
    pub datapoints: usize,
    /// Matches whose metric value or a dimension was missing or not a number.
    pub unpublishable_matches: usize,
    /// Datapoints dropped by the dimension-cardinality guard.
    pub cardinality_dropped: usize,
}

/// A dimension of a filter, for one payload.
enum Dim<'c> {
    /// From the payload: name and value, resolved once.
    Payload(Arc<str>, String),
    /// From a field of the matching event.
    Field(Arc<str>, &'c FieldRef),
}

/// One filter of the plan, for one payload.
struct PlanFilter<'c> {
    /// Index in the configuration (for the cardinality guard and messages).
    index: usize,
    filter: &'c MetricFilter,
    dims: Vec<Dim<'c>>,
    /// No dimension depends on the message.
    static_dims: bool,
}

/// The metric evaluation of one payload: feed it each event's matches, then [`finish`](Self::finish).
pub struct Evaluation<'c, 'g> {
    filters: Vec<PlanFilter<'c>>,
    /// Plan indices of the filters with a default value.
    with_default: &'c [usize],
    guard: Option<&'g mut CardinalityGuard>,
    /// Whether each plan filter matched the current event.
    matched: Vec<bool>,
    /// The current event's timestamp and minute.
    timestamp: i64,
    minute: i64,
    payload_level: HashMap<(usize, i64), ValueCounts>,
    per_message: Vec<(MetricKey, f64)>,
    stats: EvalStats,
}

impl<'c, 'g> Evaluation<'c, 'g> {
    /// The evaluation of the plan filters `plan` (indices into `filters`, in set order) over the
    /// payload `data`, of which `with_default` (plan indices) have a default value.
    pub fn new(
        filters: &'c [MetricFilter],
        plan: &[usize],
        with_default: &'c [usize],
        data: &LogsData<'_>,
        guard: Option<&'g mut CardinalityGuard>,
    ) -> Self {
        let filters: Vec<PlanFilter<'c>> = plan
            .iter()
            .filter_map(|&index| {
                let filter = filters.get(index)?;
                let dims: Vec<Dim<'c>> = filter
                    .transformation
                    .dimensions
                    .iter()
                    .map(|d| {
                        let name = Arc::<str>::from(d.name.as_str());
                        match &d.source {
                            DimensionSource::Field { field, .. } => Dim::Field(name, field),
                            DimensionSource::LogGroup => {
                                Dim::Payload(name, data.log_group.to_string())
                            }
                            DimensionSource::LogStream => {
                                Dim::Payload(name, data.log_stream.to_string())
                            }
                            DimensionSource::Owner => Dim::Payload(name, data.owner.to_string()),
                        }
                    })
                    .collect();
                let static_dims = dims.iter().all(|d| matches!(d, Dim::Payload(..)));
                Some(PlanFilter {
                    index,
                    filter,
                    dims,
                    static_dims,
                })
            })
            .collect();
        Evaluation {
            matched: vec![false; filters.len()],
            filters,
            with_default,
            guard,
            timestamp: 0,
            minute: 0,
            payload_level: HashMap::new(),
            per_message: Vec::new(),
            stats: EvalStats::default(),
        }
    }

    /// Starts an event with this timestamp (milliseconds since the epoch).
    pub fn start_event(&mut self, timestamp: i64) {
        self.timestamp = timestamp;
        self.minute = timestamp.div_euclid(MINUTE_MS) * MINUTE_MS;
        self.matched.iter_mut().for_each(|m| *m = false);
    }

    /// Plan filter `i` matched the current event, with these captures.
    pub fn matched(&mut self, i: usize, caps: &Captures<'_>) {
        let Some(pf) = self.filters.get(i) else {
            return;
        };
        self.matched[i] = true;
        let t = &pf.filter.transformation;
        let value = match &t.value {
            MetricValue::Literal(v) => Some(*v),
            MetricValue::Field { field, .. } => caps
                .get(field)
                .and_then(|v| v.as_f64())
                .filter(|v| v.is_finite()),
        };
        let Some(value) = value else {
            self.stats.unpublishable_matches += 1;
            return;
        };
        if pf.static_dims {
            self.payload_level
                .entry((i, self.minute))
                .or_default()
                .add(value);
            return;
        }
        let mut dims = Vec::with_capacity(pf.dims.len());
        for d in &pf.dims {
            let (name, v) = match d {
                Dim::Payload(name, v) => (name, Some(v.clone())),
                Dim::Field(name, field) => (
                    name,
                    caps.get(field)
                        .and_then(|v| v.to_text().map(|c| c.into_owned())),
                ),
            };
            match v {
                Some(v) if !v.is_empty() => dims.push((name.clone(), v)),
                _ => {
                    self.stats.unpublishable_matches += 1;
                    return;
                }
            }
        }
        if !admit(
            self.guard.as_deref_mut(),
            pf,
            dims.iter().map(|(_, v)| v.as_str()),
            self.timestamp,
            1,
            &mut self.stats,
        ) {
            return;
        }
        self.per_message.push((key(t, dims, self.minute), value));
    }

    /// Ends the current event: the filters with a default value that it did not match publish
    /// their default.
    pub fn end_event(&mut self) {
        for &i in self.with_default {
            if self.matched.get(i) == Some(&false) {
                if let Some(d) = self
                    .filters
                    .get(i)
                    .and_then(|pf| pf.filter.transformation.default_value)
                {
                    self.payload_level
                        .entry((i, self.minute))
                        .or_default()
                        .add(d);
                }
            }
        }
    }

    /// Adds the payload's datapoints to `out`.
    ///
    /// Datapoints whose dimensions all come from the payload (`@logGroup`, `@logStream`, `@owner`)
    /// go through the cardinality guard here, once per filter and minute, with the minute as their
    /// time: one payload is one combination of them.
    pub fn finish(mut self, out: &mut MetricBatch) -> EvalStats {
        let mut stats = self.stats;
        let mut guard = self.guard.take();
        for ((i, minute), values) in self.payload_level {
            let Some(pf) = self.filters.get(i) else {
                continue;
            };
            let dims: Vec<(Arc<str>, String)> = pf
                .dims
                .iter()
                .filter_map(|d| match d {
                    Dim::Payload(name, v) => Some((name.clone(), v.clone())),
                    Dim::Field(..) => None,
                })
                .collect();
            let n: usize = values.entries().iter().map(|(_, n)| *n as usize).sum();
            if !admit(
                guard.as_deref_mut(),
                pf,
                dims.iter().map(|(_, v)| v.as_str()),
                minute,
                n,
                &mut stats,
            ) {
                continue;
            }
            let key = key(&pf.filter.transformation, dims, minute);
            for (v, n) in values.entries() {
                stats.datapoints += *n as usize;
                out.add_n(key.clone(), *v, *n);
            }
        }
        stats.datapoints += self.per_message.len();
        for (key, value) in self.per_message {
            out.add(key, value);
        }
        stats
    }
}

/// Asks the cardinality guard (if any) whether filter `pf` may publish `n` datapoints with these
/// dimension values at `timestamp`; counts them as dropped when it may not, and logs the filter's
/// disabling once.
fn admit<'v>(
    guard: Option<&mut CardinalityGuard>,
    pf: &PlanFilter<'_>,
    values: impl Iterator<Item = &'v str>,
    timestamp: i64,
    n: usize,
    stats: &mut EvalStats,
) -> bool {
    let Some(g) = guard else {
        return true;
    };
    match g.admit(pf.index, values, timestamp) {
        Admit::Yes => true,
        Admit::Disabled => {
            stats.cardinality_dropped += n;
            false
        }
        Admit::JustDisabled => {
            stats.cardinality_dropped += n;
            tracing::error!(
                filter = %pf.filter.name,
                limit = MAX_DIMENSION_COMBINATIONS,
                "metric filter disabled for an hour: its dimensions produced too many distinct combinations (as CloudWatch does)"
            );
            false
        }
    }
}

/// The key of a datapoint of `t` with these dimensions in this minute.
fn key(t: &Transformation, dimensions: Vec<(Arc<str>, String)>, minute_ms: i64) -> MetricKey {
    MetricKey {
        namespace: Arc::from(t.namespace.as_str()),
        name: Arc::from(t.metric_name.as_str()),
        dimensions,
        unit: t.unit.as_deref().map(Arc::from),
        minute_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_filter_document;
    use crate::pattern::FilterSet;
    use crate::payload::{EventId, LogEvent, Message, MessageType};

    const FILTERS: &str = r#"[
        {"filterName":"latency","filterPattern":"{ $.latency = * }",
         "metricTransformations":[{"metricName":"Latency","metricNamespace":"N","metricValue":"$.latency",
           "dimensions":{"Route":"$.route","Group":"@logGroup"}}]},
        {"filterName":"errors","filterPattern":"ERROR",
         "metricTransformations":[{"metricName":"Errors","metricNamespace":"N","metricValue":"1",
           "defaultValue":0}]}
    ]"#;

    fn event(timestamp: i64, message: &'static str) -> LogEvent<'static> {
        LogEvent::new(EventId::Int(0), timestamp, Message::from(message))
    }

    #[test]
    fn values_dimensions_defaults_and_unpublishable_matches() {
        let filters = parse_filter_document(FILTERS.as_bytes(), "test").unwrap();
        let set = FilterSet::new(filters.iter().map(|f| f.pattern.clone()));
        let data = LogsData {
            message_type: MessageType::DataMessage,
            owner: "1".into(),
            log_group: "/g".into(),
            log_stream: "s".into(),
            subscription_filters: vec![],
            log_events: vec![
                event(60_000, r#"{"latency": 12, "route": "/a"}"#),
                event(60_001, r#"{"latency": 30, "route": "/a"}"#),
                // No route: the match publishes nothing.
                event(60_002, r#"{"latency": 5}"#),
                // Not a number.
                event(60_003, r#"{"latency": "slow", "route": "/a"}"#),
                event(120_000, "ERROR boom"),
            ],
            policy_level: None,
        };
        let mut guard = CardinalityGuard::new(filters.len());
        let mut eval = Evaluation::new(&filters, &[0, 1], &[1], &data, Some(&mut guard));
        let mut scratch = set.scratch();
        for e in &data.log_events {
            eval.start_event(e.timestamp);
            set.eval(&e.message.text(), &mut scratch, |i, caps| {
                eval.matched(i, caps)
            });
            eval.end_event();
        }
        let mut batch = MetricBatch::new();
        let stats = eval.finish(&mut batch);
        assert_eq!(
            stats,
            EvalStats {
                datapoints: 7,
                unpublishable_matches: 2,
                cardinality_dropped: 0,
            }
        );
        let sums = batch.sums();
        assert_eq!(sums["N"]["Latency"], 42.0);
        assert_eq!(sums["N"]["Errors"], 1.0);
        let latency = batch
            .sorted()
            .into_iter()
            .find(|(k, _)| &*k.name == "Latency")
            .map(|(k, _)| k.clone())
            .unwrap();
        let dims: Vec<(&str, &str)> = latency
            .dimensions
            .iter()
            .map(|(n, v)| (&**n, v.as_str()))
            .collect();
        // In the filter's order of dimensions.
        assert_eq!(dims, [("Group", "/g"), ("Route", "/a")]);
        assert_eq!(latency.minute_ms, 60_000);
    }
}
