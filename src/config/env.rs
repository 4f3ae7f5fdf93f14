//! The `LOGRELAY_*` environment, read once at start-up into a [`Config`].
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `LOGRELAY_MODE` | `source` (subscription payloads) or `hub` (the central Kinesis stream) | `source` |
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
//! | `LOGRELAY_MAX_DECOMPRESSED_BYTES` | cap on one decompressed payload, lowered to what the function's memory (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`) holds | 64 MiB |
//! | `LOGRELAY_KINESIS_MAX_RECORDS` | records per `PutRecords` call | 500 |
//! | `LOGRELAY_KINESIS_MAX_BATCH_BYTES` | bytes per `PutRecords` call | 5 MiB |
//! | `LOGRELAY_KINESIS_MAX_RECORD_BYTES` | bytes per record | 1 MiB |
//!

use super::*;
use crate::forward::{BatchLimits, PartitionKeyMode};
use crate::pattern::Pattern;
use std::path::{Path, PathBuf};

/// Environment variable: what the function reads (`source`, `hub`).
pub const ENV_MODE: &str = "LOGRELAY_MODE";
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
/// Set by Lambda: the function's memory in MB (MiB), which bounds the decompressed-size cap.
pub const ENV_FUNCTION_MEMORY_SIZE: &str = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE";
/// Set by Lambda: the function's own log group, whose events are never processed (no loop).
pub const ENV_OWN_LOG_GROUP: &str = "AWS_LAMBDA_LOG_GROUP_NAME";

impl Config {
    /// Loads the configuration from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Loads the configuration from a variable lookup (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let mode = match var(ENV_MODE) {
            Some(v) => v.trim().parse().map_err(|message| ConfigError::Env {
                var: ENV_MODE,
                value: v.clone(),
                message,
            })?,
            None => Mode::Source,
        };
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
        let partition_key = match var(ENV_PARTITION_KEY) {
            Some(v) => v.trim().parse().map_err(|message| ConfigError::Env {
                var: ENV_PARTITION_KEY,
                value: v.clone(),
                message,
            })?,
            None => PartitionKeyMode::Stream,
        };
        let forward_format = match var(ENV_FORWARD_FORMAT) {
            Some(v) => v.trim().parse().map_err(|message| ConfigError::Env {
                var: ENV_FORWARD_FORMAT,
                value: v.clone(),
                message,
            })?,
            None => ForwardFormat::Cwl,
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
        if let (Mode::Hub, Some(arn)) = (mode, &stream_arn) {
            return Err(ConfigError::Env {
                var: ENV_KINESIS_STREAM_ARN,
                value: arn.clone(),
                message: format!(
                    "{ENV_MODE}=hub forwards nothing: the hub reads the central stream, and \
                     forwarding what it reads to a stream would loop (unset it, or set \
                     {ENV_MODE}=source)"
                ),
            });
        }
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
        let max_decompressed_bytes = max_decompressed_bytes(&var)?;

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

        if metrics == MetricsMode::Emf {
            check_emf_names(&filters)?;
        }

        Ok(Config {
            mode,
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
        location,
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
        selection: None,
        system_dimensions: Vec::new(),
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

/// The decompressed-size cap: `LOGRELAY_MAX_DECOMPRESSED_BYTES` (default 64 MiB), lowered, when
/// Lambda gives the function's memory (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`), to what that memory holds
/// the working set of ([`max_decompressed_for_memory`](crate::payload::max_decompressed_for_memory),
/// measured in `bench/memory.md`). A payload over the cap is rejected with a payload error naming
/// the cap; one that did not fit the memory would end the function with no error at all. An
/// explicit value the memory cannot hold is lowered with a warning rather than refused, so that a
/// deployment keeps running (and rejecting only the payloads it cannot hold) until its memory or its
/// setting is changed.
fn max_decompressed_bytes(var: &impl Fn(&str) -> Option<String>) -> Result<usize, ConfigError> {
    let default = crate::payload::DEFAULT_MAX_DECOMPRESSED_BYTES;
    let cap = size_var(var, ENV_MAX_DECOMPRESSED_BYTES, default)?;
    let Some(memory) = var(ENV_FUNCTION_MEMORY_SIZE) else {
        return Ok(cap);
    };
    let mib = match memory.trim().parse::<u64>() {
        Ok(mib) if mib > 0 => mib,
        _ => {
            return Err(ConfigError::Env {
                var: ENV_FUNCTION_MEMORY_SIZE,
                value: memory,
                message: "not a positive number of MB".into(),
            })
        }
    };
    let fit = crate::payload::max_decompressed_for_memory(mib);
    if fit == 0 {
        return Err(ConfigError::Env {
            var: ENV_FUNCTION_MEMORY_SIZE,
            value: memory,
            message: "too little memory for logrelay's working set (bench/memory.md)".into(),
        });
    }
    if cap > fit && var(ENV_MAX_DECOMPRESSED_BYTES).is_some() {
        tracing::warn!(
            configured = cap,
            cap = fit,
            memory_mb = mib,
            "{ENV_MAX_DECOMPRESSED_BYTES} is more than the function's memory holds: payloads over {fit} bytes decompressed are rejected; give the function more memory to accept larger ones (bench/memory.md)"
        );
    }
    Ok(cap.min(fit))
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
