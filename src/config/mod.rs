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
/// dimensions with metrics from values in JSON or space-delimited log events").
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
            ConfigError::Pattern { location, .. } | ConfigError::Filter { location, .. } => {
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
    /// The compiled pattern.
    pub pattern: Pattern,
    /// Which log groups it applies to.
    pub scope: LogGroupScope,
    /// What it publishes.
    pub transformation: Transformation,
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

        // Centralized-logging fields that would change the metrics are refused; empty ones are not.
        let e = filter_error(
            r#"{"filterName":"x","filterPattern":"ERROR","fieldSelectionCriteria":"@aws.region = \"us-east-1\"","metricTransformations":[{"metricName":"E","metricNamespace":"N","metricValue":"1"}]}"#,
        );
        assert!(
            e.contains("fieldSelectionCriteria") && e.contains("metricFilters[0]"),
            "{e}"
        );
        let e = filter_error(
            r#"{"filterName":"x","filterPattern":"ERROR","emitSystemFieldDimensions":["@aws.account"],"metricTransformations":[{"metricName":"E","metricNamespace":"N","metricValue":"1"}]}"#,
        );
        assert!(e.contains("emitSystemFieldDimensions"), "{e}");
        let doc = r#"[{"filterName":"x","filterPattern":"ERROR","fieldSelectionCriteria":"","emitSystemFieldDimensions":[],"metricTransformations":[{"metricName":"E","metricNamespace":"N","metricValue":"1"}]}]"#;
        assert_eq!(
            parse_filter_document(doc.as_bytes(), "f.json")
                .unwrap()
                .len(),
            1
        );

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
}
