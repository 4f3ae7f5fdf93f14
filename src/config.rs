//! Configuration from the environment and an optional metric-filter file, validated at start-up.
//!
//! Everything a pattern, a metric transformation or a limit can get wrong is reported here, once, at cold
//! start, with the filter's name and index and — for a pattern — the column, so that a bad deployment fails
//! loudly at its first invocation instead of producing silently wrong numbers.
//!
//! # Environment
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `LOGRELAY_KINESIS_STREAM_ARN` | destination stream ARN; empty = no forwarding | empty |
//! | `LOGRELAY_ASSUME_ROLE_ARN` | role to assume for `PutRecords` (cross-account) | empty |
//! | `LOGRELAY_EXTERNAL_ID` | External ID for that role (never logged) | empty |
//! | `LOGRELAY_METRIC_NAMESPACE` | namespace of the simple filter's metric | `LogRelay` |
//! | `LOGRELAY_FILTER_PATTERN` | the simple filter's pattern | `ERROR` |
//! | `LOGRELAY_METRIC_NAME` | the simple filter's metric name | `ErrorCount` |
//! | `LOGRELAY_METRICS` | `emf`, `put` or `off` | `emf` |
//! | `LOGRELAY_FORWARD_FORMAT` | `cwl` or `ndjson` | `cwl` |
//! | `LOGRELAY_FORWARD_PATTERN` | pattern selecting the events to forward; empty = all | empty |
//! | `LOGRELAY_PARTITION_KEY` | `stream` (`<logGroup>/<logStream>`) or `event-id` (first event's id) | `stream` |
//! | `LOGRELAY_CONFIG_FILE` | metric-filter file (replaces the simple filter) | empty |
//! | `LOGRELAY_MAX_DECOMPRESSED_BYTES` | cap on one decompressed payload | 64 MiB |
//! | `LOGRELAY_KINESIS_MAX_RECORDS` | records per `PutRecords` call | 500 |
//! | `LOGRELAY_KINESIS_MAX_BATCH_BYTES` | bytes per `PutRecords` call | 5 MiB |
//! | `LOGRELAY_KINESIS_MAX_RECORD_BYTES` | bytes per record | 1 MiB |
//!
//! # Metric-filter file
//!
//! The JSON that `aws logs describe-metric-filters` prints (`{"metricFilters":[...]}`) or a bare list of
//! filters in `PutMetricFilter` shape. A filter with a `logGroupName` applies to that log group only. Two
//! logrelay extensions: a filter may instead give `logGroupNamePrefix` (applies to every group whose name
//! starts with it), or neither (applies to every group); and a dimension may take its value from the
//! payload rather than the message: `@logGroup`, `@logStream` or `@owner`.

use crate::forward::{BatchLimits, PartitionKeyMode};
use crate::pattern::{FieldRef, Pattern, PatternError};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Environment variable: destination Kinesis stream ARN.
pub const ENV_KINESIS_STREAM_ARN: &str = "LOGRELAY_KINESIS_STREAM_ARN";
/// Environment variable: role to assume for `PutRecords`.
pub const ENV_ASSUME_ROLE_ARN: &str = "LOGRELAY_ASSUME_ROLE_ARN";
/// Environment variable: External ID for the assumed role.
pub const ENV_EXTERNAL_ID: &str = "LOGRELAY_EXTERNAL_ID";
/// Environment variable: namespace of the simple filter's metric.
pub const ENV_METRIC_NAMESPACE: &str = "LOGRELAY_METRIC_NAMESPACE";
/// Environment variable: the simple filter's pattern.
pub const ENV_FILTER_PATTERN: &str = "LOGRELAY_FILTER_PATTERN";
/// Environment variable: the simple filter's metric name.
pub const ENV_METRIC_NAME: &str = "LOGRELAY_METRIC_NAME";
/// Environment variable: metrics mode (`put`, `emf`, `off`).
pub const ENV_METRICS: &str = "LOGRELAY_METRICS";
/// Environment variable: forward format (`cwl`, `ndjson`).
pub const ENV_FORWARD_FORMAT: &str = "LOGRELAY_FORWARD_FORMAT";
/// Environment variable: pattern selecting the events to forward.
pub const ENV_FORWARD_PATTERN: &str = "LOGRELAY_FORWARD_PATTERN";
/// Environment variable: partition key of the records (`stream`, `event-id`).
pub const ENV_PARTITION_KEY: &str = "LOGRELAY_PARTITION_KEY";
/// Environment variable: path of the metric-filter file.
pub const ENV_CONFIG_FILE: &str = "LOGRELAY_CONFIG_FILE";
/// Environment variable: cap on one decompressed payload, in bytes.
pub const ENV_MAX_DECOMPRESSED_BYTES: &str = "LOGRELAY_MAX_DECOMPRESSED_BYTES";
/// Environment variable: records per `PutRecords` call.
pub const ENV_KINESIS_MAX_RECORDS: &str = "LOGRELAY_KINESIS_MAX_RECORDS";
/// Environment variable: bytes per `PutRecords` call.
pub const ENV_KINESIS_MAX_BATCH_BYTES: &str = "LOGRELAY_KINESIS_MAX_BATCH_BYTES";
/// Environment variable: bytes per Kinesis record.
pub const ENV_KINESIS_MAX_RECORD_BYTES: &str = "LOGRELAY_KINESIS_MAX_RECORD_BYTES";
/// Set by Lambda: the function's own log group, whose events are never processed (no loop).
pub const ENV_OWN_LOG_GROUP: &str = "AWS_LAMBDA_LOG_GROUP_NAME";

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

/// The standard CloudWatch units (API reference, `MetricTransformation.unit`, `MetricDatum.Unit`).
pub const STANDARD_UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

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

/// The record format sent to Kinesis (`cwl` or `ndjson`).
pub use crate::forward::Format as ForwardFormat;

/// A role to assume in the central account (its `Debug` redacts the External ID).
pub use crate::forward::AssumeRole as RoleConfig;

/// Role session name used when assuming the central role (shows in the central account's CloudTrail).
pub const ROLE_SESSION_NAME: &str = "logrelay";

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Metric filters, in file order.
    pub filters: Vec<MetricFilter>,
    /// How metrics are emitted.
    pub metrics: MetricsMode,
    /// Destination stream ARN; None = no forwarding.
    pub stream_arn: Option<String>,
    /// Role to assume for forwarding.
    pub assume_role: Option<RoleConfig>,
    /// Record format.
    pub forward_format: ForwardFormat,
    /// Pattern selecting the events to forward; None = all.
    pub forward_pattern: Option<Pattern>,
    /// How records get their partition key.
    pub partition_key: PartitionKeyMode,
    /// Cap on one decompressed payload.
    pub max_decompressed_bytes: usize,
    /// `PutRecords` limits.
    pub batch_limits: BatchLimits,
    /// The function's own log group (skipped).
    pub own_log_group: Option<String>,
}

impl Config {
    /// Loads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Loads the configuration from a variable lookup (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let metrics = match var(ENV_METRICS) {
            Some(v) => v.trim().parse().map_err(|message| ConfigError::Env {
                var: ENV_METRICS,
                value: v.clone(),
                message,
            })?,
            // EMF by default: a PutMetricData call per invocation costs more than the rest of the
            // bill per TB of logs together (bench/cost.md); EMF lines cost log ingestion only.
            None => MetricsMode::Emf,
        };
        let forward_format = match var(ENV_FORWARD_FORMAT) {
            Some(v) => v.trim().parse().map_err(|message| ConfigError::Env {
                var: ENV_FORWARD_FORMAT,
                value: v.clone(),
                message,
            })?,
            None => ForwardFormat::Cwl,
        };
        let partition_key = match var(ENV_PARTITION_KEY) {
            Some(v) => v.trim().parse().map_err(|message| ConfigError::Env {
                var: ENV_PARTITION_KEY,
                value: v.clone(),
                message,
            })?,
            None => PartitionKeyMode::Stream,
        };
        let stream_arn = match var(ENV_KINESIS_STREAM_ARN) {
            Some(arn) => {
                Some(
                    validate_stream_arn(arn.trim()).map_err(|message| ConfigError::Env {
                        var: ENV_KINESIS_STREAM_ARN,
                        value: arn.clone(),
                        message,
                    })?,
                )
            }
            None => None,
        };
        let external_id = var(ENV_EXTERNAL_ID);
        let assume_role = match var(ENV_ASSUME_ROLE_ARN) {
            Some(arn) => {
                let arn = arn.trim().to_string();
                if !(arn.starts_with("arn:") && arn.contains(":role/")) {
                    return Err(ConfigError::Env {
                        var: ENV_ASSUME_ROLE_ARN,
                        value: arn,
                        message: "not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)".into(),
                    });
                }
                Some(RoleConfig {
                    role_arn: arn,
                    external_id,
                    session_name: ROLE_SESSION_NAME.to_string(),
                })
            }
            None if external_id.is_some() => {
                return Err(ConfigError::Env {
                    var: ENV_EXTERNAL_ID,
                    value: "** redacted **".into(),
                    message: format!("an External ID needs {ENV_ASSUME_ROLE_ARN}"),
                })
            }
            None => None,
        };
        let forward_pattern = match get(ENV_FORWARD_PATTERN) {
            Some(p) if !p.is_empty() => {
                Some(Pattern::parse(&p).map_err(|error| ConfigError::Pattern {
                    name: "forward".into(),
                    location: ENV_FORWARD_PATTERN.into(),
                    error,
                })?)
            }
            _ => None,
        };
        let defaults = BatchLimits::default();
        let batch_limits = BatchLimits {
            max_records: size_var(&var, ENV_KINESIS_MAX_RECORDS, defaults.max_records)?,
            max_batch_bytes: size_var(&var, ENV_KINESIS_MAX_BATCH_BYTES, defaults.max_batch_bytes)?,
            max_record_bytes: size_var(
                &var,
                ENV_KINESIS_MAX_RECORD_BYTES,
                defaults.max_record_bytes,
            )?,
        };
        if batch_limits.max_record_bytes > batch_limits.max_batch_bytes {
            return Err(ConfigError::Env {
                var: ENV_KINESIS_MAX_RECORD_BYTES,
                value: batch_limits.max_record_bytes.to_string(),
                message: format!(
                    "larger than {ENV_KINESIS_MAX_BATCH_BYTES} ({})",
                    batch_limits.max_batch_bytes
                ),
            });
        }
        let max_decompressed_bytes = size_var(
            &var,
            ENV_MAX_DECOMPRESSED_BYTES,
            crate::payload::DEFAULT_MAX_DECOMPRESSED_BYTES,
        )?;

        let filters = match var(ENV_CONFIG_FILE) {
            Some(path) => load_filter_file(&resolve_config_path(path.trim()))?,
            None => vec![simple_filter(
                get(ENV_FILTER_PATTERN)
                    .as_deref()
                    .unwrap_or(DEFAULT_FILTER_PATTERN),
                var(ENV_METRIC_NAME)
                    .as_deref()
                    .unwrap_or(DEFAULT_METRIC_NAME),
                var(ENV_METRIC_NAMESPACE)
                    .as_deref()
                    .unwrap_or(DEFAULT_NAMESPACE),
            )?],
        };

        Ok(Config {
            filters,
            metrics,
            stream_arn,
            assume_role,
            forward_format,
            forward_pattern,
            partition_key,
            max_decompressed_bytes,
            batch_limits,
            own_log_group: var(ENV_OWN_LOG_GROUP),
        })
    }
}

/// The classic filter: `pattern` → `metric_name` with value 1 in `namespace`, the log group as dimension.
pub fn simple_filter(
    pattern: &str,
    metric_name: &str,
    namespace: &str,
) -> Result<MetricFilter, ConfigError> {
    let location = ENV_FILTER_PATTERN.to_string();
    let name = format!("{metric_name} (environment)");
    let pattern = Pattern::parse(pattern).map_err(|error| ConfigError::Pattern {
        name: name.clone(),
        location: location.clone(),
        error,
    })?;
    check_metric_name(&name, &location, "metric name", metric_name)?;
    check_metric_name(&name, &location, "metric namespace", namespace)?;
    Ok(MetricFilter {
        name,
        pattern,
        scope: LogGroupScope::All,
        transformation: Transformation {
            namespace: namespace.to_string(),
            metric_name: metric_name.to_string(),
            value: MetricValue::Literal(1.0),
            default_value: None,
            dimensions: vec![Dimension {
                name: LOG_GROUP_DIMENSION.to_string(),
                source: DimensionSource::LogGroup,
            }],
            unit: None,
        },
    })
}

/// Relative config paths are resolved against `LAMBDA_TASK_ROOT` when running in Lambda.
fn resolve_config_path(path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_relative() {
        if let Ok(root) = std::env::var("LAMBDA_TASK_ROOT") {
            let candidate = Path::new(&root).join(p);
            if candidate.exists() {
                return candidate;
            }
        }
    }
    p.to_path_buf()
}

fn size_var(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: usize,
) -> Result<usize, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<usize>() {
            Ok(0) => Err(ConfigError::Env {
                var: name,
                value: v,
                message: "must be greater than 0".into(),
            }),
            Ok(n) => Ok(n),
            Err(e) => Err(ConfigError::Env {
                var: name,
                value: v,
                message: format!("not a positive integer: {e}"),
            }),
        },
    }
}

fn validate_stream_arn(arn: &str) -> Result<String, String> {
    // arn:PARTITION:kinesis:REGION:ACCOUNT:stream/NAME
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "kinesis", region, account, resource]
            if !region.is_empty()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.starts_with("stream/")
                && resource.len() > "stream/".len() =>
        {
            Ok(arn.to_string())
        }
        _ => Err("not a Kinesis stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)".into()),
    }
}

/// One filter as `describe-metric-filters` prints it or `PutMetricFilter` takes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FilterDoc {
    filter_name: String,
    #[serde(default)]
    filter_pattern: String,
    metric_transformations: Vec<TransformationDoc>,
    log_group_name: Option<String>,
    log_group_name_prefix: Option<String>,
    #[serde(default)]
    apply_on_transformed_logs: bool,
    // Printed by describe-metric-filters / accepted by PutMetricFilter; carried for compatibility.
    #[allow(dead_code)]
    creation_time: Option<serde_json::Value>,
    #[allow(dead_code)]
    field_selection_criteria: Option<serde_json::Value>,
    #[allow(dead_code)]
    emit_system_field_dimensions: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TransformationDoc {
    metric_name: String,
    metric_namespace: String,
    metric_value: String,
    default_value: Option<f64>,
    #[serde(default)]
    dimensions: serde_json::Map<String, serde_json::Value>,
    unit: Option<String>,
}

/// Loads and validates a metric-filter file.
pub fn load_filter_file(path: &Path) -> Result<Vec<MetricFilter>, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_filter_document(&bytes, &path.display().to_string()).map_err(|e| match e {
        ConfigError::File { message, .. } => ConfigError::File {
            path: path.to_path_buf(),
            message,
        },
        other => other,
    })
}

/// Parses and validates a metric-filter document; `origin` names it in errors.
pub fn parse_filter_document(bytes: &[u8], origin: &str) -> Result<Vec<MetricFilter>, ConfigError> {
    let file_error = |message: String| ConfigError::File {
        path: PathBuf::from(origin),
        message,
    };
    let doc: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| file_error(format!("not valid JSON: {e}")))?;
    let (items, key) = match doc {
        serde_json::Value::Array(items) => (items, ""),
        serde_json::Value::Object(mut map) => {
            if let Some(unknown) = map
                .keys()
                .find(|k| *k != "metricFilters" && *k != "nextToken")
            {
                return Err(file_error(format!(
                    "unknown top-level field {unknown:?}; expected {{\"metricFilters\": [...]}} or a list of filters"
                )));
            }
            match map.remove("metricFilters") {
                Some(serde_json::Value::Array(items)) => (items, "metricFilters"),
                Some(_) => return Err(file_error("\"metricFilters\" must be a list".into())),
                None => return Err(file_error("missing \"metricFilters\"".into())),
            }
        }
        _ => {
            return Err(file_error(
                "expected {\"metricFilters\": [...]} or a list of filters".into(),
            ))
        }
    };
    let mut filters = Vec::with_capacity(items.len());
    let mut names = std::collections::HashSet::new();
    for (index, item) in items.into_iter().enumerate() {
        let location = if key.is_empty() {
            format!("{origin}: [{index}]")
        } else {
            format!("{origin}: {key}[{index}]")
        };
        let name_hint = item
            .get("filterName")
            .and_then(|v| v.as_str())
            .unwrap_or("?")
            .to_string();
        let doc: FilterDoc = serde_json::from_value(item).map_err(|e| ConfigError::Filter {
            name: name_hint.clone(),
            location: location.clone(),
            message: e.to_string(),
        })?;
        let filter = compile_filter(doc, &location)?;
        let scope_key = format!("{:?}/{}", filter.scope, filter.name);
        if !names.insert(scope_key) {
            return Err(ConfigError::Filter {
                name: filter.name,
                location,
                message: "a filter of that name already exists for the same log groups".into(),
            });
        }
        filters.push(filter);
    }
    warn_on_aws_quota(&filters);
    Ok(filters)
}

fn warn_on_aws_quota(filters: &[MetricFilter]) {
    let mut per_group: std::collections::HashMap<&str, usize> = Default::default();
    for f in filters {
        if let LogGroupScope::Exact(g) = &f.scope {
            *per_group.entry(g.as_str()).or_default() += 1;
        }
    }
    for (group, n) in per_group {
        if n > AWS_FILTERS_PER_LOG_GROUP {
            tracing::warn!(
                log_group = group,
                filters = n,
                "more metric filters for one log group than CloudWatch allows ({AWS_FILTERS_PER_LOG_GROUP}); logrelay evaluates them all"
            );
        }
    }
}

fn compile_filter(doc: FilterDoc, location: &str) -> Result<MetricFilter, ConfigError> {
    let name = doc.filter_name;
    let err = |message: String| ConfigError::Filter {
        name: name.clone(),
        location: location.to_string(),
        message,
    };
    let name_chars = name.chars().count();
    if name_chars == 0 || name_chars > MAX_FILTER_NAME_CHARS {
        return Err(err(format!(
            "filterName must be 1 to {MAX_FILTER_NAME_CHARS} characters"
        )));
    }
    if name.contains([':', '*']) {
        return Err(err("filterName must not contain ':' or '*'".into()));
    }
    if doc.apply_on_transformed_logs {
        return Err(err(
            "applyOnTransformedLogs is true: logrelay sees the subscription payload, not transformed logs".into(),
        ));
    }
    let scope = match (doc.log_group_name, doc.log_group_name_prefix) {
        (Some(_), Some(_)) => {
            return Err(err(
                "give logGroupName or logGroupNamePrefix, not both".into()
            ))
        }
        (Some(g), None) if g.is_empty() => return Err(err("logGroupName is empty".into())),
        (Some(g), None) => LogGroupScope::Exact(g),
        (None, Some(p)) => LogGroupScope::Prefix(p),
        (None, None) => LogGroupScope::All,
    };
    let pattern = Pattern::parse(&doc.filter_pattern).map_err(|error| ConfigError::Pattern {
        name: name.clone(),
        location: location.to_string(),
        error,
    })?;
    if doc.metric_transformations.len() != TRANSFORMATIONS_PER_FILTER {
        return Err(err(format!(
            "metricTransformations must hold exactly {TRANSFORMATIONS_PER_FILTER} item, found {}",
            doc.metric_transformations.len()
        )));
    }
    let Some(t) = doc.metric_transformations.into_iter().next() else {
        return Err(err("metricTransformations is empty".into()));
    };
    check_metric_name(&name, location, "metricName", &t.metric_name)?;
    check_metric_name(&name, location, "metricNamespace", &t.metric_namespace)?;
    let value = parse_metric_value(&pattern, &t.metric_value).map_err(err)?;
    if let Some(d) = t.default_value {
        if !d.is_finite() {
            return Err(err("defaultValue must be a finite number".into()));
        }
    }
    if t.dimensions.len() > MAX_DIMENSIONS {
        return Err(err(format!(
            "{} dimensions; a metric transformation has at most {MAX_DIMENSIONS}",
            t.dimensions.len()
        )));
    }
    if !t.dimensions.is_empty() && t.default_value.is_some() {
        return Err(err(
            "defaultValue cannot be combined with dimensions (CloudWatch rejects it too)".into(),
        ));
    }
    let mut dimensions = Vec::with_capacity(t.dimensions.len());
    for (dim_name, v) in t.dimensions {
        let Some(text) = v.as_str() else {
            return Err(err(format!(
                "dimension {dim_name:?}: value must be a string such as \"$.field\" or \"$name\""
            )));
        };
        let source = match text {
            "@logGroup" => DimensionSource::LogGroup,
            "@logStream" => DimensionSource::LogStream,
            "@owner" => DimensionSource::Owner,
            _ => DimensionSource::Field {
                text: text.to_string(),
                field: pattern
                    .field_ref(text)
                    .map_err(|e| err(format!("dimension {dim_name:?}: {e}")))?,
            },
        };
        if dim_name.is_empty() || dim_name.chars().count() > MAX_METRIC_NAME_CHARS {
            return Err(err(format!(
                "dimension name {dim_name:?} must be 1 to {MAX_METRIC_NAME_CHARS} characters"
            )));
        }
        dimensions.push(Dimension {
            name: dim_name,
            source,
        });
    }
    if let Some(unit) = &t.unit {
        if !STANDARD_UNITS.contains(&unit.as_str()) {
            return Err(err(format!(
                "unit {unit:?} is not a CloudWatch standard unit ({})",
                STANDARD_UNITS.join(", ")
            )));
        }
    }
    Ok(MetricFilter {
        name,
        pattern,
        scope,
        transformation: Transformation {
            namespace: t.metric_namespace,
            metric_name: t.metric_name,
            value,
            default_value: t.default_value,
            dimensions,
            unit: t.unit,
        },
    })
}

fn parse_metric_value(pattern: &Pattern, text: &str) -> Result<MetricValue, String> {
    let trimmed = text.trim();
    if trimmed.starts_with('$') {
        let field = pattern
            .field_ref(trimmed)
            .map_err(|e| format!("metricValue {text:?}: {e}"))?;
        return Ok(MetricValue::Field {
            text: trimmed.to_string(),
            field,
        });
    }
    match trimmed.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(MetricValue::Literal(v)),
        _ => Err(format!(
            "metricValue {text:?} is neither a number nor a field reference ($.field or $name)"
        )),
    }
}

fn check_metric_name(
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
        assert_eq!(c.partition_key, PartitionKeyMode::Stream);
    }

    #[test]
    fn partition_key_from_environment_and_its_error() {
        let c = config(&[(ENV_PARTITION_KEY, "event-id")]).unwrap();
        assert_eq!(c.partition_key, PartitionKeyMode::EventId);
        let e = config(&[(ENV_PARTITION_KEY, "random")]).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("LOGRELAY_PARTITION_KEY=\"random\"") && text.contains("event-id"),
            "{text}"
        );
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

        let e = filter_error(
            r#"{"filterName":"x","filterPattern":"ERROR","metricTransformations":[{"metricName":"E","metricNamespace":"N","metricValue":"1","unit":"Parsecs"}]}"#,
        );
        assert!(e.contains("Parsecs"), "{e}");

        let e = filter_error(
            r#"{"filterName":"x","filterPattern":"ERROR","metricTransformations":[]}"#,
        );
        assert!(e.contains("exactly 1"), "{e}");
    }
}
