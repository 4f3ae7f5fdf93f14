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
//! System fields (`@aws.account`, `@aws.region`, `@source.log`): a filter's
//! `fieldSelectionCriteria` decides per event whether the filter applies to it at all (an event it
//! does not select is neither a match nor a default), and `emitSystemFieldDimensions` adds the
//! fields as dimensions after the filter's own. An event's values come from its `extractedFields`,
//! else from its payload ([`PayloadSystemValues`]); a filter that needs a value the event does not
//! have skips that event and counts it in [`EvalStats::system_fields_unknown`] (no guess).
//!
//! Metric filter behaviour: "Creating metrics from log events using filters" and "Publishing
//! dimensions with metrics from values in JSON or space-delimited log events" in the CloudWatch
//! Logs User Guide.

use super::cardinality::{Admit, CardinalityGuard, MAX_DIMENSION_COMBINATIONS};
use super::{MetricBatch, MetricKey, ValueCounts, MINUTE_MS};
use crate::config::{DimensionSource, MetricFilter, MetricValue, Transformation};
use crate::pattern::selection::{SelectionCriteria, SystemField, SystemValues};
use crate::pattern::{Captures, FieldRef};
use crate::payload::{LogEvent, LogsData};
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
    /// (Event, filter) pairs skipped because the filter needs a system field the event does not
    /// tell (no `extractedFields` member and no payload value for it).
    pub system_fields_unknown: usize,
}

/// The system-field values a payload gives its events that carry no `extractedFields` member
/// for them: `@aws.account` is the payload's `owner`, `@source.log` its `logGroup`, and
/// `@aws.region` the Region the caller knows the events come from (None: unknown).
#[derive(Clone, Copy, Debug)]
pub struct PayloadSystemValues<'d>(SystemValues<'d>);

impl<'d> PayloadSystemValues<'d> {
    /// The values of `data`'s events: their Region is the one the payload says
    /// ([`LogsData::region`]), else `events_region` when known.
    pub fn new(data: &'d LogsData<'_>, events_region: Option<&'d str>) -> Self {
        PayloadSystemValues(SystemValues {
            account: Some(data.owner.as_ref()),
            region: data.region.as_deref().or(events_region),
            source_log: Some(data.log_group.as_ref()),
        })
    }

    /// The values of `event`: its `extractedFields` members first, then the payload's.
    pub fn of<'e>(&self, event: &'e LogEvent<'_>) -> SystemValues<'e>
    where
        'd: 'e,
    {
        let Some(x) = &event.extracted_fields else {
            return self.0;
        };
        let get = |f: SystemField| x.get(f.name()).or(self.0.get(f));
        SystemValues {
            account: get(SystemField::Account),
            region: get(SystemField::Region),
            source_log: get(SystemField::SourceLog),
        }
    }

    /// The payload's own values.
    pub fn payload(&self) -> SystemValues<'d> {
        self.0
    }
}

/// A dimension of a filter, for one payload.
enum Dim<'c> {
    /// From the payload: name and value, resolved once.
    Payload(Arc<str>, String),
    /// From a field of the matching event.
    Field(Arc<str>, &'c FieldRef),
    /// A system field of the event (its `extractedFields` may differ from the payload's).
    System(Arc<str>, SystemField),
}

/// One filter of the plan, for one payload.
struct PlanFilter<'c> {
    /// Index in the configuration (for the cardinality guard and messages).
    index: usize,
    filter: &'c MetricFilter,
    dims: Vec<Dim<'c>>,
    /// No dimension depends on the message.
    static_dims: bool,
    /// Its `fieldSelectionCriteria`, if any.
    selection: Option<&'c SelectionCriteria>,
    /// A system field it needs that no event of the payload can tell, if any: it skips every
    /// event.
    unknown: Option<SystemField>,
}

/// The metric evaluation of one payload: feed it each event's matches, then [`finish`](Self::finish).
pub struct Evaluation<'c, 'g> {
    filters: Vec<PlanFilter<'c>>,
    /// Plan indices of the filters with a default value.
    with_default: &'c [usize],
    guard: Option<&'g mut CardinalityGuard>,
    /// Whether each plan filter matched the current event.
    matched: Vec<bool>,
    /// Whether each plan filter applies to the current event (its selection picked it and every
    /// system field it needs is known).
    applies: Vec<bool>,
    /// The current event's system-field values.
    event_values: SystemValues<'c>,
    /// Plan indices of the filters that decide per event whether they apply (a selection, a
    /// system field unknown for the payload, or per-event system dimensions); the others always
    /// apply.
    decide_per_event: Vec<usize>,
    /// The payload's system-field values.
    payload_values: SystemValues<'c>,
    /// The first (filter, field) skipped for an unknown system field, for the log line.
    first_unknown: Option<(usize, SystemField)>,
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
    ///
    /// `system` gives the system-field values of events without `extractedFields`.
    pub fn new(
        filters: &'c [MetricFilter],
        plan: &[usize],
        with_default: &'c [usize],
        data: &'c LogsData<'_>,
        system: PayloadSystemValues<'c>,
        guard: Option<&'g mut CardinalityGuard>,
    ) -> Self {
        let per_event_values = data.log_events.iter().any(|e| e.extracted_fields.is_some());
        let payload_values = system.payload();
        let filters: Vec<PlanFilter<'c>> = plan
            .iter()
            .filter_map(|&index| {
                let filter = filters.get(index)?;
                let mut dims: Vec<Dim<'c>> = filter
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
                let mut unknown = None;
                for &f in &filter.system_dimensions {
                    let name = Arc::<str>::from(f.name());
                    if per_event_values {
                        dims.push(Dim::System(name, f));
                    } else {
                        match payload_values.get(f) {
                            Some(v) => dims.push(Dim::Payload(name, v.to_string())),
                            None => unknown = unknown.or(Some(f)),
                        }
                    }
                }
                if !per_event_values {
                    let needed = filter.selection.iter().flat_map(|s| s.fields());
                    for &f in needed {
                        if payload_values.get(f).is_none() {
                            unknown = unknown.or(Some(f));
                        }
                    }
                }
                let static_dims = dims.iter().all(|d| matches!(d, Dim::Payload(..)));
                Some(PlanFilter {
                    index,
                    filter,
                    dims,
                    static_dims,
                    selection: filter.selection.as_ref(),
                    unknown,
                })
            })
            .collect();
        let decide_per_event = filters
            .iter()
            .enumerate()
            .filter(|(_, pf)| {
                pf.unknown.is_some()
                    || pf.selection.is_some()
                    || pf.dims.iter().any(|d| matches!(d, Dim::System(..)))
            })
            .map(|(i, _)| i)
            .collect();
        Evaluation {
            matched: vec![false; filters.len()],
            applies: vec![true; filters.len()],
            event_values: payload_values,
            decide_per_event,
            payload_values,
            first_unknown: None,
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

    /// Starts `event`, whose system-field values are `values` (from
    /// [`PayloadSystemValues::of`]).
    pub fn start_event(&mut self, event: &LogEvent<'_>, values: SystemValues<'c>) {
        let timestamp = event.timestamp;
        self.timestamp = timestamp;
        self.minute = timestamp.div_euclid(MINUTE_MS) * MINUTE_MS;
        self.matched.iter_mut().for_each(|m| *m = false);
        self.event_values = values;
        for &i in &self.decide_per_event {
            let Some(pf) = self.filters.get(i) else {
                continue;
            };
            let applies = match (pf.unknown, pf.selection) {
                (Some(f), _) => Err(f),
                (None, None) => Ok(true),
                (None, Some(sel)) => sel.selects(&values),
            };
            let applies = applies.and_then(|selected| {
                // Per-event system dimensions must be known too.
                match pf.dims.iter().find_map(|d| match d {
                    Dim::System(_, f) if values.get(*f).is_none() => Some(*f),
                    _ => None,
                }) {
                    Some(f) => Err(f),
                    None => Ok(selected),
                }
            });
            self.applies[i] = match applies {
                Ok(a) => a,
                Err(field) => {
                    self.stats.system_fields_unknown += 1;
                    self.first_unknown.get_or_insert((i, field));
                    false
                }
            };
        }
    }

    /// Plan filter `i` matched the current event, with these captures.
    pub fn matched(&mut self, i: usize, caps: &Captures<'_>) {
        let Some(pf) = self.filters.get(i) else {
            return;
        };
        if !self.applies[i] {
            return;
        }
        self.matched[i] = true;
        let t = &pf.filter.transformation;
        let value = match &t.value {
            MetricValue::Literal(v) => Some(*v),
            MetricValue::Field { field, .. } => caps
                .get(field)
                .and_then(|v| v.as_f64())
                .filter(|&v| publishable_value(v)),
            MetricValue::Absent { .. } => None,
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
        let Some(dims) = self.event_dims(i, Some(caps)) else {
            self.stats.unpublishable_matches += 1;
            return;
        };
        self.publish(i, dims, value);
    }

    /// The dimensions of plan filter `i` for the current event; None when one is missing or
    /// empty. `caps` None: no field dimension can be resolved (a default value).
    fn event_dims(&self, i: usize, caps: Option<&Captures<'_>>) -> Option<Vec<(Arc<str>, String)>> {
        let pf = self.filters.get(i)?;
        let mut dims = Vec::with_capacity(pf.dims.len());
        for d in &pf.dims {
            let (name, v) = match d {
                Dim::Payload(name, v) => (name, Some(v.clone())),
                Dim::Field(name, field) => (
                    name,
                    caps.and_then(|c| c.get(field))
                        .and_then(|v| v.to_text().map(|c| c.into_owned())),
                ),
                Dim::System(name, f) => (name, self.event_values.get(*f).map(str::to_owned)),
            };
            match v {
                Some(v) if publishable_dimension_value(&v) => dims.push((name.clone(), v)),
                _ => return None,
            }
        }
        Some(dims)
    }

    /// Adds a datapoint of plan filter `i` with these dimensions, through the cardinality guard.
    fn publish(&mut self, i: usize, dims: Vec<(Arc<str>, String)>, value: f64) {
        let Some(pf) = self.filters.get(i) else {
            return;
        };
        let t = &pf.filter.transformation;
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
            if self.matched.get(i) != Some(&false) || self.applies.get(i) != Some(&true) {
                continue;
            }
            let Some(pf) = self.filters.get(i) else {
                continue;
            };
            let Some(d) = pf.filter.transformation.default_value else {
                continue;
            };
            if pf.static_dims {
                self.payload_level
                    .entry((i, self.minute))
                    .or_default()
                    .add(d);
            } else if let Some(dims) = self.event_dims(i, None) {
                // Only system-field dimensions vary here: a default value has no field ones.
                self.publish(i, dims, d);
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
        if let Some((i, field)) = self.first_unknown {
            let filter = self
                .filters
                .get(i)
                .map_or("?", |pf| pf.filter.name.as_str());
            tracing::warn!(
                filter,
                field = field.name(),
                skipped = stats.system_fields_unknown,
                account = self.payload_values.account,
                log_group = self.payload_values.source_log,
                "events skipped by metric filters that need a system field the events do not tell \
                 (no extractedFields member, and the events' Region is not known here)"
            );
        }
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
                    Dim::Field(..) | Dim::System(..) => None,
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

/// Whether CloudWatch takes `v` as a metric value: finite and within ±2^360 (CloudWatch API
/// reference, `MetricDatum`: it "rejects values that are either too small or too large"), so that
/// one value from a log field cannot make the whole `PutMetricData` request fail.
fn publishable_value(v: f64) -> bool {
    v.is_finite() && v.abs() <= 2f64.powi(360)
}

/// Whether CloudWatch takes `v` as a dimension value (CloudWatch API reference, `Dimension`): 1 to
/// 1,024 ASCII characters, no control character, at least one that is not whitespace. A value
/// from a log field or a log stream name can be anything; a match whose dimension CloudWatch would
/// refuse is counted as unpublishable instead of failing the whole request.
fn publishable_dimension_value(v: &str) -> bool {
    (1..=1024).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii() && !b.is_ascii_control())
        && v.bytes().any(|b| !b.is_ascii_whitespace())
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
            region: None,
        };
        let mut guard = CardinalityGuard::new(filters.len());
        let system = PayloadSystemValues::new(&data, Some("us-east-1"));
        let mut eval = Evaluation::new(&filters, &[0, 1], &[1], &data, system, Some(&mut guard));
        let mut scratch = set.scratch();
        for e in &data.log_events {
            eval.start_event(e, system.of(e));
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
                system_fields_unknown: 0,
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

    #[test]
    fn cloudwatch_value_limits_hold_at_their_bounds() {
        assert!(publishable_dimension_value(&"a".repeat(1024)));
        assert!(!publishable_dimension_value(&"a".repeat(1025)));
        assert!(publishable_dimension_value(" a "));
        assert!(!publishable_dimension_value(" "));
        assert!(!publishable_dimension_value("a\u{7f}"));
        assert!(publishable_dimension_value("~"));
        let max = 2f64.powi(360);
        assert!(publishable_value(max) && publishable_value(-max) && publishable_value(0.0));
        assert!(!publishable_value(max * 1.000_001) && !publishable_value(f64::NAN));
    }

    #[test]
    fn a_value_cloudwatch_would_refuse_publishes_nothing() {
        // CloudWatch refuses a dimension whose value is empty (and would refuse the whole
        // PutMetricData request with it): such a match is unpublishable, as a missing value is.
        let filters = parse_filter_document(FILTERS.as_bytes(), "test").unwrap();
        let set = FilterSet::new(filters.iter().map(|f| f.pattern.clone()));
        let data = LogsData {
            message_type: MessageType::DataMessage,
            owner: "1".into(),
            log_group: "/g".into(),
            log_stream: "s".into(),
            subscription_filters: vec![],
            log_events: vec![
                event(60_000, r#"{"latency": 12, "route": ""}"#),
                event(60_001, r#"{"latency": 30, "route": "/a"}"#),
                event(60_002, r#"{"latency": 1, "route": " \t"}"#),
                event(60_003, r#"{"latency": 2, "route": "/é"}"#),
                event(60_004, r#"{"latency": 3, "route": "/a\u0007"}"#),
                event(60_005, r#"{"latency": 1e300, "route": "/a"}"#),
                event(60_006, r#"{"latency": -1e300, "route": "/a"}"#),
            ],
            policy_level: None,
            region: None,
        };
        let system = PayloadSystemValues::new(&data, None);
        let mut eval = Evaluation::new(&filters, &[0], &[], &data, system, None);
        let mut scratch = set.scratch();
        for e in &data.log_events {
            eval.start_event(e, system.of(e));
            set.eval(&e.message.text(), &mut scratch, |i, caps| {
                eval.matched(i, caps)
            });
            eval.end_event();
        }
        let mut batch = MetricBatch::new();
        let stats = eval.finish(&mut batch);
        // Empty, whitespace-only, non-ASCII and control-character values, and values beyond
        // ±2^360, are all refused by CloudWatch: six unpublishable matches, one datapoint.
        assert_eq!((stats.datapoints, stats.unpublishable_matches), (1, 6));
        let routes: Vec<&str> = batch
            .sorted()
            .iter()
            .flat_map(|(k, _)| k.dimensions.iter())
            .filter(|(n, _)| &**n == "Route")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(routes, ["/a"]);
        assert_eq!(batch.sums()["N"]["Latency"], 30.0);
    }
}

#[cfg(test)]
mod system_field_tests {
    use super::*;
    use crate::config::parse_filter_document;
    use crate::pattern::FilterSet;
    use crate::payload::{EventId, ExtractedFields, LogEvent, Message, MessageType};
    use std::borrow::Cow;

    const FILTERS: &str = r#"[
        {"filterName":"by-account","filterPattern":"{ $.level = \"ERROR\" }",
         "emitSystemFieldDimensions":["@aws.account","@aws.region"],
         "metricTransformations":[{"metricName":"Errors","metricNamespace":"Org","metricValue":"1",
           "dimensions":{"Service":"$.service"}}]},
        {"filterName":"selected","filterPattern":"{ $.level = \"ERROR\" }",
         "fieldSelectionCriteria":"@aws.account IN [\"111111111111\", \"222222222222\"] AND @aws.region = \"us-east-1\"",
         "metricTransformations":[{"metricName":"Selected","metricNamespace":"Org","metricValue":"1","defaultValue":0}]},
        {"filterName":"by-log","filterPattern":"{ $.level = \"ERROR\" }",
         "emitSystemFieldDimensions":["@source.log"],
         "metricTransformations":[{"metricName":"PerLog","metricNamespace":"Org","metricValue":"1"}]}
    ]"#;

    fn event(ts: i64, message: &'static str, extracted: Option<&'static str>) -> LogEvent<'static> {
        LogEvent::new(EventId::Int(0), ts, Message::from(message)).with_extracted_fields(
            extracted.map(|x| {
                ExtractedFields::from_json(Cow::Borrowed(x))
                    .unwrap()
                    .unwrap()
            }),
        )
    }

    fn data(events: Vec<LogEvent<'static>>) -> LogsData<'static> {
        LogsData {
            message_type: MessageType::DataMessage,
            owner: "111111111111".into(),
            log_group: "/ecs/orders".into(),
            log_stream: "s".into(),
            subscription_filters: vec![],
            log_events: events,
            policy_level: None,
            region: None,
        }
    }

    /// A metric name, its dimensions and the sum of its values.
    type Row = (String, Vec<(String, String)>, f64);

    /// Runs the filters over `data`; returns the stats and the rows.
    fn run(data: &LogsData<'_>, region: Option<&str>) -> (EvalStats, Vec<Row>) {
        let filters = parse_filter_document(FILTERS.as_bytes(), "test").unwrap();
        let set = FilterSet::new(filters.iter().map(|f| f.pattern.clone()));
        let system = PayloadSystemValues::new(data, region);
        let mut eval = Evaluation::new(&filters, &[0, 1, 2], &[1], data, system, None);
        let mut scratch = set.scratch();
        for e in &data.log_events {
            eval.start_event(e, system.of(e));
            set.eval(&e.message.text(), &mut scratch, |i, caps| {
                eval.matched(i, caps)
            });
            eval.end_event();
        }
        let mut batch = MetricBatch::new();
        let stats = eval.finish(&mut batch);
        let mut rows: Vec<Row> = Vec::new();
        for (k, v) in batch.sorted() {
            let dims: Vec<(String, String)> = k
                .dimensions
                .iter()
                .map(|(n, v)| (n.to_string(), v.clone()))
                .collect();
            let sum = v.sum();
            match rows
                .iter_mut()
                .find(|(m, d, _)| *m == *k.name && *d == dims)
            {
                Some(row) => row.2 += sum,
                None => rows.push((k.name.to_string(), dims, sum)),
            }
        }
        rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        (stats, rows)
    }

    fn dims(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    const ERR: &str = r#"{"level":"ERROR","service":"api"}"#;

    #[test]
    fn the_source_function_knows_every_field_from_its_payload_and_region() {
        let d = data(vec![
            event(60_000, ERR, None),
            event(60_001, ERR, None),
            event(60_002, r#"{"level":"INFO","service":"api"}"#, None),
        ]);
        let (stats, rows) = run(&d, Some("us-east-1"));
        assert_eq!(stats.system_fields_unknown, 0);
        assert_eq!(
            rows,
            vec![
                // The filter's dimensions, then the system fields; no dimensionless series.
                (
                    "Errors".into(),
                    dims(&[
                        ("Service", "api"),
                        ("@aws.account", "111111111111"),
                        ("@aws.region", "us-east-1")
                    ]),
                    2.0
                ),
                (
                    "PerLog".into(),
                    dims(&[("@source.log", "/ecs/orders")]),
                    2.0
                ),
                // Selected (account 111… in us-east-1): two matches, one default of 0.
                ("Selected".into(), vec![], 2.0),
            ]
        );
    }

    #[test]
    fn the_region_a_payload_says_stands_in_for_an_unknown_one_and_extracted_fields_come_first() {
        let mut d = data(vec![
            event(60_000, ERR, None),
            event(
                60_001,
                ERR,
                Some(r#"{"@aws.account":"111111111111","@aws.region":"eu-west-1"}"#),
            ),
        ]);
        d.region = Some("us-east-1".into());
        // The hub knows no Region of its own: the payload's (an ndjson record's) is used.
        let (stats, rows) = run(&d, None);
        assert_eq!(stats.system_fields_unknown, 0);
        let errors: Vec<_> = rows.iter().filter(|r| r.0 == "Errors").collect();
        assert_eq!(
            errors,
            [
                &(
                    "Errors".to_string(),
                    dims(&[
                        ("Service", "api"),
                        ("@aws.account", "111111111111"),
                        ("@aws.region", "eu-west-1")
                    ]),
                    1.0
                ),
                &(
                    "Errors".to_string(),
                    dims(&[
                        ("Service", "api"),
                        ("@aws.account", "111111111111"),
                        ("@aws.region", "us-east-1")
                    ]),
                    1.0
                ),
            ]
        );
    }

    #[test]
    fn extracted_fields_come_first_and_select_per_event() {
        let d = data(vec![
            event(
                60_000,
                ERR,
                Some(r#"{"@aws.account":"222222222222","@aws.region":"us-east-1"}"#),
            ),
            // Another account: not selected by "selected", so no default either.
            event(
                60_001,
                r#"{"level":"INFO"}"#,
                Some(r#"{"@aws.account":"333333333333","@aws.region":"us-east-1"}"#),
            ),
            event(
                60_002,
                ERR,
                Some(r#"{"@aws.account":"333333333333","@aws.region":"eu-west-1"}"#),
            ),
            // No extractedFields: the payload's owner; the Region is not known.
            event(60_003, ERR, None),
        ]);
        let (stats, rows) = run(&d, None);
        assert_eq!(
            rows,
            vec![
                (
                    "Errors".into(),
                    dims(&[
                        ("Service", "api"),
                        ("@aws.account", "222222222222"),
                        ("@aws.region", "us-east-1")
                    ]),
                    1.0
                ),
                (
                    "Errors".into(),
                    dims(&[
                        ("Service", "api"),
                        ("@aws.account", "333333333333"),
                        ("@aws.region", "eu-west-1")
                    ]),
                    1.0
                ),
                (
                    "PerLog".into(),
                    dims(&[("@source.log", "/ecs/orders")]),
                    3.0
                ),
                ("Selected".into(), vec![], 1.0),
            ]
        );
        // The last event: "by-account" and "selected" need @aws.region, which nothing tells.
        assert_eq!(stats.system_fields_unknown, 2);
    }

    #[test]
    fn an_unknown_region_skips_the_filters_that_need_it_and_counts_them() {
        let d = data(vec![event(60_000, ERR, None), event(60_001, ERR, None)]);
        let (stats, rows) = run(&d, None);
        // Only @source.log is known from the payload.
        assert_eq!(
            rows,
            vec![(
                "PerLog".into(),
                dims(&[("@source.log", "/ecs/orders")]),
                2.0
            )]
        );
        assert_eq!(stats.system_fields_unknown, 4);
        assert_eq!(stats.datapoints, 2);
    }
}
