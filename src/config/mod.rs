//! Configuration from the environment and an optional metric-filter file, validated at start-up.
//!
//! Everything a pattern, a metric transformation or a limit can get wrong is reported here, once, at cold
//! start, with the filter's name and index and — for a pattern — the column, so that a bad deployment fails
//! loudly at its first invocation instead of producing silently wrong numbers.
//!
//! # Layout
//!
//! - this module: the domain model ([`Config`], [`MetricFilter`], [`Transformation`], …), its
//!   limits and [`ConfigError`];
//! - `env`: the `LOGRELAY_*` environment ([`Config::from_lookup`]) and the simple filter;
//! - `filter_file`: the metric-filter file ([`load_filter_file`], [`parse_filter_document`]).

use crate::forward::BatchLimits;
use crate::pattern::selection::{SelectionCriteria, SelectionError, SystemField};
use crate::pattern::{FieldRef, Pattern, PatternError};
use std::path::PathBuf;

mod env;
mod filter_file;

pub use env::*;
pub use filter_file::{load_filter_file, parse_filter_document};

/// Default namespace of the simple filter's metric.
pub const DEFAULT_NAMESPACE: &str = "LogRelay";
/// Default pattern of the simple filter.
pub const DEFAULT_FILTER_PATTERN: &str = "ERROR";
/// Default metric name of the simple filter.
pub const DEFAULT_METRIC_NAME: &str = "ErrorCount";
/// Name of the dimension the simple filter sets to the log group name.
pub const LOG_GROUP_DIMENSION: &str = "LogGroup";

/// At most this many dimensions per metric transformation (CloudWatch Logs user guide, "Publishing
/// dimensions with metrics from values in JSON or space-delimited log events"), the system-field
/// dimensions of `emitSystemFieldDimensions` included (API reference, `PutMetricFilter`: they
/// "count toward the total dimension limit for metric filters").
pub const MAX_DIMENSIONS: usize = 3;
/// A metric filter has exactly one metric transformation (API reference, `MetricFilter`:
/// `metricTransformations` "Fixed number of 1 item").
pub const TRANSFORMATIONS_PER_FILTER: usize = 1;
/// Filter names are 1–512 characters without `:` or `*` (API reference, `PutMetricFilter`, `filterName`).
pub const MAX_FILTER_NAME_CHARS: usize = 512;
/// Metric names and namespaces are 1–255 characters (API reference, `MetricTransformation`).
pub const MAX_METRIC_NAME_CHARS: usize = 255;
/// At most 100 metric filters per log group (CloudWatch Logs quotas). logrelay is not bound by it, but a
/// file with more filters than this for one group is almost certainly a mistake worth a warning.
pub const AWS_FILTERS_PER_LOG_GROUP: usize = 100;

/// A configuration error: what is wrong and where.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// An environment variable has a value that cannot be used.
    #[error("{var}={value:?}: {message}")]
    Env {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        message: String,
    },
    /// The metric-filter file cannot be read.
    #[error("cannot read metric-filter file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The metric-filter file is not in a shape we accept.
    #[error("metric-filter file {path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A filter's pattern is invalid.
    #[error("metric filter {name:?} ({location}): invalid filterPattern: {error}")]
    Pattern {
        /// The filter's name.
        name: String,
        /// Where the filter is (file and index, or the environment variable).
        location: String,
        /// The pattern error, with the column.
        error: PatternError,
    },
    /// A filter's `fieldSelectionCriteria` is invalid.
    #[error("metric filter {name:?} ({location}): invalid fieldSelectionCriteria: {error}")]
    Selection {
        /// The filter's name.
        name: String,
        /// Where the filter is.
        location: String,
        /// The error, with the column.
        error: SelectionError,
    },
    /// Some other part of a filter is invalid.
    #[error("metric filter {name:?} ({location}): {message}")]
    Filter {
        /// The filter's name.
        name: String,
        /// Where the filter is.
        location: String,
        /// What is wrong.
        message: String,
    },
}

impl ConfigError {
    /// The same error with the setting named as the user gave it: `name(var)` gives the name to
    /// show for an environment variable (a command-line flag that stood in for it), or `None` to
    /// keep the variable's.
    pub fn named_by(mut self, name: impl Fn(&str) -> Option<&'static str>) -> ConfigError {
        match &mut self {
            ConfigError::Env { var, .. } => {
                if let Some(n) = name(var) {
                    *var = n;
                }
            }
            ConfigError::Pattern { location, .. }
            | ConfigError::Selection { location, .. }
            | ConfigError::Filter { location, .. } => {
                if let Some(n) = name(location) {
                    *location = n.to_owned();
                }
            }
            ConfigError::Read { .. } | ConfigError::File { .. } => {}
        }
        self
    }
}

/// Which log groups a metric filter applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogGroupScope {
    /// Every log group.
    All,
    /// One log group, by exact name (`logGroupName`).
    Exact(String),
    /// Every log group whose name starts with this (`logGroupNamePrefix`, a logrelay extension).
    Prefix(String),
}

impl LogGroupScope {
    /// Whether a log group is in scope.
    pub fn applies_to(&self, log_group: &str) -> bool {
        match self {
            LogGroupScope::All => true,
            LogGroupScope::Exact(name) => name == log_group,
            LogGroupScope::Prefix(prefix) => log_group.starts_with(prefix.as_str()),
        }
    }
}

/// What a metric datum's value is.
#[derive(Debug, Clone)]
pub enum MetricValue {
    /// A number literal (`"1"`): that amount per matching event.
    Literal(f64),
    /// A field of the matching event (`$.latency`, `$bytes`).
    Field {
        /// The reference as written.
        text: String,
        /// The compiled reference.
        field: FieldRef,
    },
    /// A field the pattern does not have (`$missing` on `[kind, value]`): admitted, as
    /// `PutMetricFilter` admits it, and publishes nothing.
    Absent {
        /// The reference as written.
        text: String,
    },
}

/// Where a dimension's value comes from.
#[derive(Debug, Clone)]
pub enum DimensionSource {
    /// A field of the matching event.
    Field {
        /// The reference as written.
        text: String,
        /// The compiled reference.
        field: FieldRef,
    },
    /// The payload's log group name (`@logGroup`).
    LogGroup,
    /// The payload's log stream name (`@logStream`).
    LogStream,
    /// The payload's owner account (`@owner`).
    Owner,
}

/// One dimension of a metric transformation.
#[derive(Debug, Clone)]
pub struct Dimension {
    /// The dimension name.
    pub name: String,
    /// Where its value comes from.
    pub source: DimensionSource,
}

/// A metric filter's transformation: what to publish for a matching (or, with a default, a non-matching)
/// event.
#[derive(Debug, Clone)]
pub struct Transformation {
    /// Metric namespace.
    pub namespace: String,
    /// Metric name.
    pub metric_name: String,
    /// The value for a matching event.
    pub value: MetricValue,
    /// The value for a non-matching event of a log group in scope, if any.
    pub default_value: Option<f64>,
    /// Dimensions, at most [`MAX_DIMENSIONS`].
    pub dimensions: Vec<Dimension>,
    /// Standard unit, if any.
    pub unit: Option<String>,
}

/// A validated, compiled metric filter.
#[derive(Debug, Clone)]
pub struct MetricFilter {
    /// The filter's name.
    pub name: String,
    /// Where it is defined (file and index, or the environment variable), for messages.
    pub location: String,
    /// The compiled pattern.
    pub pattern: Pattern,
    /// Which log groups it applies to.
    pub scope: LogGroupScope,
    /// What it publishes.
    pub transformation: Transformation,
    /// The events it processes, by their system fields (`fieldSelectionCriteria`); None = all.
    pub selection: Option<SelectionCriteria>,
    /// System fields published as dimensions after the transformation's own
    /// (`emitSystemFieldDimensions`), in the order given.
    pub system_dimensions: Vec<SystemField>,
}

impl MetricFilter {
    /// The system fields it needs for each event: those its selection reads and those it
    /// publishes as dimensions, sorted, each once.
    pub fn system_fields(&self) -> Vec<SystemField> {
        let mut v: Vec<SystemField> = self
            .selection
            .iter()
            .flat_map(|s| s.fields().iter().copied())
            .chain(self.system_dimensions.iter().copied())
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// How metrics are emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsMode {
    /// CloudWatch `PutMetricData`, aggregated per invocation.
    Put,
    /// Embedded Metric Format lines on stdout.
    Emf,
    /// Metrics are computed but not emitted.
    Off,
}

impl MetricsMode {
    /// The mode as `LOGRELAY_METRICS` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricsMode::Put => "put",
            MetricsMode::Emf => "emf",
            MetricsMode::Off => "off",
        }
    }
}

impl std::str::FromStr for MetricsMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "put" => Ok(MetricsMode::Put),
            "emf" => Ok(MetricsMode::Emf),
            "off" => Ok(MetricsMode::Off),
            other => Err(format!(
                "unknown metrics mode {other:?}; expected put, emf or off"
            )),
        }
    }
}

/// What the function reads, and so what it may do (`LOGRELAY_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Behind CloudWatch Logs subscription filters in a source account: subscription payloads in,
    /// metrics and (with a stream) forwarding out.
    #[default]
    Source,
    /// On the central Kinesis stream (an event source mapping): Kinesis batches of CloudWatch Logs
    /// destination records and of records forwarded by source functions in, metrics out. Never
    /// forwards: the hub reads the stream it would forward to.
    Hub,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "source" => Ok(Mode::Source),
            "hub" => Ok(Mode::Hub),
            other => Err(format!("unknown mode {other:?}; expected source or hub")),
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Mode::Source => "source",
            Mode::Hub => "hub",
        })
    }
}

/// The record format sent to Kinesis (`cwl` or `ndjson`).
pub use crate::forward::Format as ForwardFormat;

/// A role to assume in the central account (its `Debug` redacts the External ID).
pub use crate::forward::AssumeRole as RoleConfig;

/// Role session name used when assuming the central role (shows in the central account's CloudTrail).
pub const ROLE_SESSION_NAME: &str = "logrelay";

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// What the function reads: subscription payloads, or the central stream.
    pub mode: Mode,
    /// Metric filters, in file order.
    pub filters: Vec<MetricFilter>,
    /// How metrics are emitted.
    pub metrics: MetricsMode,
    /// Destination stream ARN; None = no forwarding (always None in [`Mode::Hub`]).
    pub stream_arn: Option<String>,
    /// Role to assume for forwarding.
    pub assume_role: Option<RoleConfig>,
    /// Record format.
    pub forward_format: ForwardFormat,
    /// Pattern selecting the events to forward; None = all.
    pub forward_pattern: Option<Pattern>,
    /// How records get their partition key.
    pub partition_key: crate::forward::PartitionKeyMode,
    /// Cap on one decompressed payload.
    pub max_decompressed_bytes: usize,
    /// `PutRecords` limits.
    pub batch_limits: BatchLimits,
    /// The function's own log group (skipped).
    pub own_log_group: Option<String>,
}

/// The member of an Embedded Metric Format line that holds its metadata (`Timestamp`,
/// `CloudWatchMetrics`): the EMF specification reserves it ("Specification: Embedded metric format",
/// CloudWatch user guide, "Root node" and "Metadata object").
pub const EMF_METADATA_MEMBER: &str = "_aws";

/// Refuses, for `emf` mode, the metric and dimension names that an EMF line cannot carry.
///
/// An EMF line is one JSON object whose top-level members are `_aws` (the metadata), the dimension
/// values and the metric's values, each under its own name ("Target members"). A dimension or metric
/// named `_aws` would replace the metadata (the line is no longer a metric) and a dimension named like
/// the metric of the same line would have its value overwritten by the metric's number (or the
/// reverse): a silently wrong metric. `put` mode sends names as API fields and has neither problem.
pub fn check_emf_names(filters: &[MetricFilter]) -> Result<(), ConfigError> {
    for f in filters {
        let t = &f.transformation;
        let refuse = |message: String| {
            ConfigError::Filter {
            name: f.name.clone(),
            location: f.location.clone(),
            message: format!(
                "{message}; an Embedded Metric Format line cannot carry it ({ENV_METRICS}=emf): rename it, or publish with {ENV_METRICS}=put"
            ),
        }
        };
        if t.metric_name == EMF_METADATA_MEMBER {
            return Err(refuse(format!(
                "metric name {EMF_METADATA_MEMBER:?} is the member that holds the EMF metadata"
            )));
        }
        for d in &t.dimensions {
            if d.name == EMF_METADATA_MEMBER {
                return Err(refuse(format!(
                    "dimension name {EMF_METADATA_MEMBER:?} is the member that holds the EMF metadata"
                )));
            }
            if d.name == t.metric_name {
                return Err(refuse(format!(
                    "dimension name {:?} is also the metric's name, and both are members of the same line",
                    d.name
                )));
            }
        }
    }
    Ok(())
}

pub(crate) fn check_metric_name(
    name: &str,
    location: &str,
    what: &str,
    value: &str,
) -> Result<(), ConfigError> {
    let n = value.chars().count();
    if n == 0 || n > MAX_METRIC_NAME_CHARS {
        return Err(ConfigError::Filter {
            name: name.to_string(),
            location: location.to_string(),
            message: format!("{what} must be 1 to {MAX_METRIC_NAME_CHARS} characters"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn no_configuration_is_the_classic_error_count() {
        let c = config(&[]).unwrap();
        assert_eq!(c.filters.len(), 1);
        let f = &c.filters[0];
        assert_eq!(f.pattern.source(), "ERROR");
        assert_eq!(f.transformation.metric_name, "ErrorCount");
        assert_eq!(f.transformation.namespace, "LogRelay");
        assert!(matches!(f.transformation.value, MetricValue::Literal(v) if v == 1.0));
        assert_eq!(f.transformation.dimensions.len(), 1);
        assert_eq!(f.transformation.dimensions[0].name, "LogGroup");
        assert_eq!(c.metrics, MetricsMode::Emf);
        assert_eq!(c.forward_format, ForwardFormat::Cwl);
        assert!(c.stream_arn.is_none());
        assert_eq!(c.batch_limits.max_records, 500);
        assert_eq!(c.partition_key, crate::forward::PartitionKeyMode::Stream);
    }

    #[test]
    fn the_decompression_cap_fits_the_functions_memory() {
        let default = crate::payload::DEFAULT_MAX_DECOMPRESSED_BYTES;
        let fit_128 = crate::payload::max_decompressed_for_memory(128);
        assert!(fit_128 > 0 && fit_128 < default, "{fit_128}");
        // Outside Lambda: the default, or the value given.
        assert_eq!(config(&[]).unwrap().max_decompressed_bytes, default);
        let c = config(&[(ENV_MAX_DECOMPRESSED_BYTES, "1000")]).unwrap();
        assert_eq!(c.max_decompressed_bytes, 1000);
        // In a 128 MB function: what 128 MB holds, also when more is asked for.
        let c = config(&[(ENV_FUNCTION_MEMORY_SIZE, "128")]).unwrap();
        assert_eq!(c.max_decompressed_bytes, fit_128);
        let asked = default.to_string();
        let c = config(&[
            (ENV_FUNCTION_MEMORY_SIZE, "128"),
            (ENV_MAX_DECOMPRESSED_BYTES, &asked),
        ])
        .unwrap();
        assert_eq!(c.max_decompressed_bytes, fit_128);
        let less = (fit_128 - 1).to_string();
        let c = config(&[
            (ENV_FUNCTION_MEMORY_SIZE, "128"),
            (ENV_MAX_DECOMPRESSED_BYTES, &less),
        ])
        .unwrap();
        assert_eq!(c.max_decompressed_bytes, fit_128 - 1);
        // More memory: the default, and more when asked for and held.
        let big = crate::payload::max_decompressed_for_memory(10_240);
        assert!(big > 2 * default, "{big}");
        let c = config(&[(ENV_FUNCTION_MEMORY_SIZE, "10240")]).unwrap();
        assert_eq!(c.max_decompressed_bytes, default);
        let twice = (2 * default).to_string();
        let c = config(&[
            (ENV_FUNCTION_MEMORY_SIZE, "10240"),
            (ENV_MAX_DECOMPRESSED_BYTES, &twice),
        ])
        .unwrap();
        assert_eq!(c.max_decompressed_bytes, 2 * default);
        // The cap grows with the memory.
        assert!(crate::payload::max_decompressed_for_memory(256) > fit_128);
        for bad in ["lots", "0", "-128"] {
            let e = config(&[(ENV_FUNCTION_MEMORY_SIZE, bad)])
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("AWS_LAMBDA_FUNCTION_MEMORY_SIZE="), "{e}");
        }
        let e = config(&[(ENV_FUNCTION_MEMORY_SIZE, "1")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("too little memory"), "{e}");
    }

    #[test]
    fn partition_key_from_environment_and_its_error() {
        let c = config(&[(ENV_PARTITION_KEY, "event-id")]).unwrap();
        assert_eq!(c.partition_key, crate::forward::PartitionKeyMode::EventId);
        let e = config(&[(ENV_PARTITION_KEY, "random")]).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("LOGRELAY_PARTITION_KEY=\"random\"") && text.contains("event-id"),
            "{text}"
        );
    }

    #[test]
    fn hub_mode_forwards_nothing() {
        assert_eq!(config(&[]).unwrap().mode, Mode::Source);
        let c = config(&[(ENV_MODE, "hub")]).unwrap();
        assert_eq!(c.mode, Mode::Hub);
        assert!(c.stream_arn.is_none());
        let e = config(&[(ENV_MODE, "central")]).unwrap_err().to_string();
        assert!(
            e.starts_with("LOGRELAY_MODE=\"central\"") && e.contains("source or hub"),
            "{e}"
        );
        let e = config(&[
            (ENV_MODE, "hub"),
            (
                ENV_KINESIS_STREAM_ARN,
                "arn:aws:kinesis:eu-west-1:111122223333:stream/central-logs",
            ),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("LOGRELAY_KINESIS_STREAM_ARN=") && e.contains("loop"),
            "{e}"
        );
        for m in [Mode::Source, Mode::Hub] {
            assert_eq!(m.to_string().parse::<Mode>(), Ok(m));
        }
    }

    #[test]
    fn namespace_and_pattern_from_environment() {
        let c = config(&[
            (ENV_METRIC_NAMESPACE, "Shop"),
            (ENV_FILTER_PATTERN, "?ERROR ?FATAL"),
            (ENV_METRIC_NAME, "Failures"),
            (ENV_METRICS, "emf"),
            (ENV_FORWARD_FORMAT, "ndjson"),
        ])
        .unwrap();
        assert_eq!(c.filters[0].transformation.namespace, "Shop");
        assert_eq!(c.filters[0].transformation.metric_name, "Failures");
        assert_eq!(c.metrics, MetricsMode::Emf);
        assert_eq!(c.forward_format, ForwardFormat::Ndjson);
    }

    #[test]
    fn bad_environment_values_name_the_variable() {
        let e = config(&[(ENV_METRICS, "loud")]).unwrap_err().to_string();
        assert!(
            e.contains("LOGRELAY_METRICS") && e.contains("put, emf or off"),
            "{e}"
        );
        let e = config(&[(ENV_KINESIS_STREAM_ARN, "my-stream")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("LOGRELAY_KINESIS_STREAM_ARN"), "{e}");
        let e = config(&[(ENV_KINESIS_MAX_RECORDS, "lots")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("LOGRELAY_KINESIS_MAX_RECORDS"), "{e}");
        let e = config(&[(ENV_EXTERNAL_ID, "s3cret")])
            .unwrap_err()
            .to_string();
        assert!(!e.contains("s3cret"), "external id leaked: {e}");
    }

    #[test]
    fn invalid_simple_pattern_reports_the_column() {
        let e = config(&[(ENV_FILTER_PATTERN, "{ $.level = }")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("LOGRELAY_FILTER_PATTERN"), "{e}");
        assert!(e.contains("column"), "{e}");
    }

    #[test]
    fn stream_arn_and_role_are_validated() {
        let c = config(&[
            (
                ENV_KINESIS_STREAM_ARN,
                "arn:aws:kinesis:eu-west-1:111122223333:stream/central-logs",
            ),
            (
                ENV_ASSUME_ROLE_ARN,
                "arn:aws:iam::111122223333:role/logrelay-writer",
            ),
            (ENV_EXTERNAL_ID, "s3cret"),
        ])
        .unwrap();
        let role = c.assume_role.unwrap();
        assert_eq!(role.external_id.as_deref(), Some("s3cret"));
        assert!(!format!("{role:?}").contains("s3cret"));
    }

    const DESCRIBE_OUTPUT: &str = r#"{
        "metricFilters": [
            {
                "filterName": "orders-errors",
                "filterPattern": "ERROR -HealthCheck",
                "metricTransformations": [
                    {"metricName": "OrderErrors", "metricNamespace": "Shop", "metricValue": "1", "defaultValue": 0.0}
                ],
                "creationTime": 1700000000000,
                "logGroupName": "/ecs/orders",
                "applyOnTransformedLogs": false
            },
            {
                "filterName": "latency",
                "filterPattern": "{ $.latency = * }",
                "metricTransformations": [
                    {"metricName": "Latency", "metricNamespace": "Shop", "metricValue": "$.latency",
                     "unit": "Milliseconds", "dimensions": {"Route": "$.route", "Group": "@logGroup"}}
                ],
                "logGroupNamePrefix": "/ecs/"
            }
        ]
    }"#;

    #[test]
    fn describe_metric_filters_output_is_accepted() {
        let filters = parse_filter_document(DESCRIBE_OUTPUT.as_bytes(), "filters.json").unwrap();
        assert_eq!(filters.len(), 2);
        assert_eq!(filters[0].scope, LogGroupScope::Exact("/ecs/orders".into()));
        assert_eq!(filters[0].transformation.default_value, Some(0.0));
        assert_eq!(filters[1].scope, LogGroupScope::Prefix("/ecs/".into()));
        assert!(matches!(
            filters[1].transformation.value,
            MetricValue::Field { .. }
        ));
        assert_eq!(filters[1].transformation.dimensions.len(), 2);
        assert!(filters[1].scope.applies_to("/ecs/payments"));
        assert!(!filters[1].scope.applies_to("/aws/lambda/x"));
    }

    fn config_file(metrics: &str, filters: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("filters.json");
        std::fs::write(&path, filters).unwrap();
        config(&[
            (ENV_METRICS, metrics),
            (ENV_CONFIG_FILE, path.to_str().unwrap()),
        ])
    }

    fn latency_filters(second_dimensions: &str) -> String {
        format!(
            r#"{{"metricFilters":[
            {{"filterName":"fine","filterPattern":"{{ $.route = * }}","metricTransformations":[{{"metricName":"E","metricNamespace":"N","metricValue":"1","dimensions":{{"Route":"$.route"}}}}]}},
            {{"filterName":"latency","filterPattern":"{{ $.latency = * }}","metricTransformations":[{{"metricName":"Latency","metricNamespace":"N","metricValue":"$.latency","dimensions":{second_dimensions}}}]}}]}}"#
        )
    }

    #[test]
    fn names_an_emf_line_cannot_carry_are_refused_in_emf_mode_only() {
        for (dims, what) in [
            (r#"{"_aws":"$.route"}"#, r#"dimension name "_aws""#),
            (
                r#"{"Route":"$.route","Latency":"$.route"}"#,
                r#"dimension name "Latency" is also the metric's name"#,
            ),
        ] {
            let doc = latency_filters(dims);
            let e = config_file("emf", &doc).unwrap_err().to_string();
            assert!(
                e.contains(r#"metric filter "latency""#)
                    && e.contains("metricFilters[1]")
                    && e.contains(what)
                    && e.contains("LOGRELAY_METRICS=put"),
                "{e}"
            );
            // PutMetricData carries these names as fields: accepted.
            let c = config_file("put", &doc).unwrap();
            assert_eq!(c.filters.len(), 2);
        }
        let doc = r#"[{"filterName":"meta","filterPattern":"ERROR","metricTransformations":[{"metricName":"_aws","metricNamespace":"N","metricValue":"1"}]}]"#;
        let e = config_file("emf", doc).unwrap_err().to_string();
        assert!(
            e.contains(r#"metric name "_aws""#) && e.contains("[0]") && e.contains(r#""meta""#),
            "{e}"
        );
        assert!(config_file("put", doc).is_ok());
        // Names that only look alike are fine: members are case-sensitive.
        assert!(config_file(
            "emf",
            &latency_filters(r#"{"latency":"$.route","_AWS":"$.a"}"#)
        )
        .is_ok());
        // The simple filter's dimension is LogGroup: a metric of that name cannot be written either.
        let e = config(&[(ENV_METRIC_NAME, "LogGroup")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(r#"dimension name "LogGroup""#) && e.contains("LOGRELAY_FILTER_PATTERN"),
            "{e}"
        );
        assert!(config(&[(ENV_METRIC_NAME, "LogGroup"), (ENV_METRICS, "put")]).is_ok());
    }

    #[test]
    fn bare_list_in_put_metric_filter_shape_is_accepted() {
        let doc = r#"[{"filterName":"a","filterPattern":"ERROR","metricTransformations":[{"metricName":"E","metricNamespace":"N","metricValue":"1"}]}]"#;
        let filters = parse_filter_document(doc.as_bytes(), "f.json").unwrap();
        assert_eq!(filters[0].scope, LogGroupScope::All);
    }

    fn filter_error(filter: &str) -> String {
        let doc = format!("{{\"metricFilters\":[{filter}]}}");
        parse_filter_document(doc.as_bytes(), "f.json")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn invalid_filters_are_reported_with_name_and_index() {
        let e = filter_error(
            r#"{"filterName":"x","filterPattern":"[a, b","metricTransformations":[{"metricName":"E","metricNamespace":"N","metricValue":"1"}]}"#,
        );
        assert!(
            e.contains("\"x\"") && e.contains("metricFilters[0]") && e.contains("column"),
            "{e}"
        );

        let e = filter_error(
            r#"{"filterName":"x","filterPattern":"ERROR","metricTransformations":[{"metricName":"E","metricNamespace":"N","metricValue":"1","colour":"red"}]}"#,
        );
        assert!(e.contains("colour"), "{e}");

        let e = filter_error(
            r#"{"filterName":"x","filterPattern":"{ $.a = 1 }","metricTransformations":[{"metricName":"E","metricNamespace":"N","metricValue":"1","dimensions":{"a":"$.a","b":"$.b","c":"$.c","d":"$.d"}}]}"#,
        );
        assert!(e.contains("at most 3"), "{e}");

        let e = filter_error(
            r#"{"filterName":"x","filterPattern":"{ $.a = 1 }","metricTransformations":[{"metricName":"E","metricNamespace":"N","metricValue":"1","defaultValue":0,"dimensions":{"a":"$.a"}}]}"#,
        );
        assert!(e.contains("defaultValue"), "{e}");

        let e = filter_error(
            r#"{"filterName":"x","filterPattern":"ERROR","metricTransformations":[{"metricName":"E","metricNamespace":"N","metricValue":"lots"}]}"#,
        );
        assert!(e.contains("metricValue"), "{e}");

        // Empty system-field settings, as describe-metric-filters may print them, mean "not set".
        let doc = r#"[{"filterName":"x","filterPattern":"ERROR","fieldSelectionCriteria":"","emitSystemFieldDimensions":[],"metricTransformations":[{"metricName":"E","metricNamespace":"N","metricValue":"1"}]}]"#;
        let f = parse_filter_document(doc.as_bytes(), "f.json").unwrap();
        assert!(f[0].selection.is_none() && f[0].system_dimensions.is_empty());

        let e = filter_error(
            r#"{"filterName":"x","filterPattern":"ERROR","metricTransformations":[{"metricName":"E","metricNamespace":"N","metricValue":"1","unit":"Parsecs"}]}"#,
        );
        assert!(e.contains("Parsecs"), "{e}");
        assert!(
            e.contains("Count/Second"),
            "the message lists the standard units: {e}"
        );
        for unit in aws_sdk_cloudwatch::types::StandardUnit::values() {
            let doc = format!(
                r#"[{{"filterName":"x","filterPattern":"ERROR","metricTransformations":[{{"metricName":"E","metricNamespace":"N","metricValue":"1","unit":"{unit}"}}]}}]"#
            );
            let filters = parse_filter_document(doc.as_bytes(), "test").unwrap();
            assert_eq!(filters[0].transformation.unit.as_deref(), Some(*unit));
        }

        let e = filter_error(
            r#"{"filterName":"x","filterPattern":"ERROR","metricTransformations":[]}"#,
        );
        assert!(e.contains("exactly 1"), "{e}");
    }

    fn system_filter(extra: &str, dimensions: &str) -> String {
        format!(
            r#"{{"filterName":"x","filterPattern":"{{ $.a = 1 }}",{extra}"metricTransformations":[{{"metricName":"E","metricNamespace":"N","metricValue":"1","dimensions":{{{dimensions}}}}}]}}"#
        )
    }

    #[test]
    fn system_fields_are_accepted_as_cloudwatch_defines_them() {
        let doc = format!(
            "[{}]",
            system_filter(
                r#""fieldSelectionCriteria":"@aws.account IN [\"111111111111\"] AND @aws.region != \"eu-west-1\"","emitSystemFieldDimensions":["@aws.region","@aws.account"],"#,
                r#""A":"$.a""#
            )
        );
        let f = parse_filter_document(doc.as_bytes(), "f.json").unwrap();
        assert_eq!(
            f[0].system_dimensions,
            [SystemField::Region, SystemField::Account]
        );
        assert_eq!(
            f[0].selection.as_ref().unwrap().fields(),
            [SystemField::Account, SystemField::Region]
        );
        assert_eq!(
            f[0].system_fields(),
            [SystemField::Account, SystemField::Region]
        );
        let doc = format!(
            "[{}]",
            system_filter(r#""emitSystemFieldDimensions":["@source.log"],"#, "")
        );
        let f = parse_filter_document(doc.as_bytes(), "f.json").unwrap();
        assert_eq!(f[0].system_dimensions, [SystemField::SourceLog]);
    }

    #[test]
    fn invalid_system_fields_are_refused_with_cloudwatch_words() {
        let e = filter_error(&system_filter(
            r#""emitSystemFieldDimensions":["@aws.accountId"],"#,
            "",
        ));
        assert!(
            e.contains("The provided system fields are invalid. The supported system fields are - [@aws.region, @aws.account, @source.log]")
                && e.contains("@aws.accountId")
                && e.contains("metricFilters[0]"),
            "{e}"
        );
        let e = filter_error(&system_filter(
            r#""emitSystemFieldDimensions":["@aws.region","@aws.region"],"#,
            "",
        ));
        assert!(e.contains("twice"), "{e}");
        // System fields count toward the 3 dimensions.
        let e = filter_error(&system_filter(
            r#""emitSystemFieldDimensions":["@aws.region","@aws.account"],"#,
            r#""A":"$.a","B":"$.b""#,
        ));
        assert!(
            e.contains("at most 3") && e.contains("emitSystemFieldDimensions"),
            "{e}"
        );
        let doc = format!(
            "[{}]",
            system_filter(
                r#""emitSystemFieldDimensions":["@aws.region"],"#,
                r#""A":"$.a","B":"$.b""#
            )
        );
        assert!(parse_filter_document(doc.as_bytes(), "f.json").is_ok());
        let e = filter_error(&system_filter(
            r#""emitSystemFieldDimensions":["@aws.region"],"#,
            r#""@aws.region":"$.a""#,
        ));
        assert!(e.contains("also in emitSystemFieldDimensions"), "{e}");
        // Criteria errors name the column with a caret.
        let e = filter_error(&system_filter(
            r#""fieldSelectionCriteria":"@aws.region = \"x\" AND @aws.acount = \"1\"","#,
            "",
        ));
        assert!(
            e.contains("invalid fieldSelectionCriteria")
                && e.contains("at column 23")
                && e.contains("The provided system fields are invalid"),
            "{e}"
        );
        assert!(
            e.lines()
                .last()
                .unwrap()
                .ends_with(&format!("{}^^^^^^^^^^^", " ".repeat(4 + 22))),
            "{e}"
        );
        // At most 2,000 characters.
        let long = format!("@aws.region = \\\"{}\\\"", "a".repeat(1985));
        let e = filter_error(&system_filter(
            &format!(r#""fieldSelectionCriteria":"{long}","#),
            "",
        ));
        assert!(
            e.contains("2001 characters") && e.contains("maximum is 2000"),
            "{e}"
        );
    }

    #[test]
    fn a_metric_value_naming_no_field_of_the_pattern_is_admitted() {
        let doc = r#"[{"filterName":"x","filterPattern":"[kind, value]","metricTransformations":[{"metricName":"E","metricNamespace":"N","metricValue":"$missing"}]},
                      {"filterName":"y","filterPattern":"[kind, value]","metricTransformations":[{"metricName":"E","metricNamespace":"N","metricValue":"$7"}]}]"#;
        let f = parse_filter_document(doc.as_bytes(), "f.json").unwrap();
        assert!(
            matches!(&f[0].transformation.value, MetricValue::Absent { text } if text == "$missing")
        );
        assert!(matches!(&f[1].transformation.value, MetricValue::Absent { text } if text == "$7"));
        // A dimension naming a missing field is still refused, and so is a malformed metric value.
        let e = filter_error(
            r#"{"filterName":"x","filterPattern":"[kind, value]","metricTransformations":[{"metricName":"E","metricNamespace":"N","metricValue":"1","dimensions":{"D":"$missing"}}]}"#,
        );
        assert!(e.contains("dimension \"D\""), "{e}");
        let e = filter_error(
            r#"{"filterName":"x","filterPattern":"[kind, value]","metricTransformations":[{"metricName":"E","metricNamespace":"N","metricValue":"$.value"}]}"#,
        );
        assert!(e.contains("metricValue"), "{e}");
    }
}
