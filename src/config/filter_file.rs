//! The metric-filter file.
//!
//! The JSON that `aws logs describe-metric-filters` prints (`{"metricFilters":[...]}`) or a bare list of
//! filters in `PutMetricFilter` shape. A filter with a `logGroupName` applies to that log group only. Two
//! logrelay extensions: a filter may instead give `logGroupNamePrefix` (applies to every group whose name
//! starts with it), or neither (applies to every group); and a dimension may take its value from the
//! payload rather than the message: `@logGroup`, `@logStream` or `@owner`. CloudWatch's system fields
//! (`fieldSelectionCriteria`, `emitSystemFieldDimensions`) are read as CloudWatch defines them
//! ([`crate::pattern::selection`], `docs/system-fields.md`).

use super::*;
use crate::pattern::selection::INVALID_SYSTEM_FIELDS;
use crate::pattern::PatternErrorKind;
use aws_sdk_cloudwatch::types::StandardUnit;
use serde::Deserialize;
use std::path::{Path, PathBuf};

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
    // Printed by describe-metric-filters; accepted and not used.
    #[allow(dead_code)]
    creation_time: Option<serde_json::Value>,
    // Selection by and dimensions from the system fields (`@aws.account`, `@aws.region`,
    // `@source.log`).
    field_selection_criteria: Option<String>,
    emit_system_field_dimensions: Option<Vec<String>>,
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
    // System fields (API reference, MetricFilter). Empty values, as describe-metric-filters may
    // print them, mean "not set".
    let selection = match doc
        .field_selection_criteria
        .filter(|c| !c.trim().is_empty())
    {
        Some(text) => {
            Some(
                SelectionCriteria::parse(&text).map_err(|error| ConfigError::Selection {
                    name: name.clone(),
                    location: location.to_string(),
                    error,
                })?,
            )
        }
        None => None,
    };
    let mut system_dimensions = Vec::new();
    for field in doc.emit_system_field_dimensions.unwrap_or_default() {
        let Some(f) = SystemField::from_name(&field) else {
            return Err(err(format!(
                "emitSystemFieldDimensions: {INVALID_SYSTEM_FIELDS} (found {field:?})"
            )));
        };
        if system_dimensions.contains(&f) {
            return Err(err(format!(
                "emitSystemFieldDimensions names {field} twice"
            )));
        }
        system_dimensions.push(f);
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
    let value = parse_metric_value(&name, &pattern, &t.metric_value).map_err(err)?;
    if let Some(d) = t.default_value {
        if !d.is_finite() {
            return Err(err("defaultValue must be a finite number".into()));
        }
    }
    if t.dimensions.len() + system_dimensions.len() > MAX_DIMENSIONS {
        return Err(err(format!(
            "{} dimensions and {} system-field dimensions; a metric transformation has at most \
             {MAX_DIMENSIONS}, emitSystemFieldDimensions included",
            t.dimensions.len(),
            system_dimensions.len()
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
        if let Some(f) = SystemField::from_name(&dim_name) {
            if system_dimensions.contains(&f) {
                return Err(err(format!(
                    "dimension {dim_name:?} is also in emitSystemFieldDimensions"
                )));
            }
        }
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
    // The standard units of `MetricTransformation.unit` are those of `MetricDatum.Unit`: the SDK's
    // `StandardUnit` (CloudWatch API Reference, "MetricDatum").
    if let Some(unit) = &t.unit {
        if StandardUnit::try_parse(unit).is_err() {
            return Err(err(format!(
                "unit {unit:?} is not a CloudWatch standard unit ({})",
                StandardUnit::values().join(", ")
            )));
        }
    }
    Ok(MetricFilter {
        name,
        location: location.to_string(),
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
        selection,
        system_dimensions,
    })
}

fn parse_metric_value(filter: &str, pattern: &Pattern, text: &str) -> Result<MetricValue, String> {
    let trimmed = text.trim();
    if trimmed.starts_with('$') {
        return match pattern.field_ref(trimmed) {
            Ok(field) => Ok(MetricValue::Field {
                text: trimmed.to_string(),
                field,
            }),
            // PutMetricFilter admits a metric value naming a field the pattern does not have;
            // the filter then publishes nothing (SEMANTICS.md).
            Err(e) if matches!(e.kind(), PatternErrorKind::AbsentField(_)) => {
                tracing::warn!(
                    filter,
                    metric_value = trimmed,
                    reason = %e.kind(),
                    "metricValue names a field the pattern does not have: the filter publishes nothing (as in CloudWatch)"
                );
                Ok(MetricValue::Absent {
                    text: trimmed.to_string(),
                })
            }
            Err(e) => Err(format!("metricValue {text:?}: {e}")),
        };
    }
    match trimmed.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(MetricValue::Literal(v)),
        _ => Err(format!(
            "metricValue {text:?} is neither a number nor a field reference ($.field or $name)"
        )),
    }
}
