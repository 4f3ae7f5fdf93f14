//! Embedded Metric Format: metrics as JSON log lines that CloudWatch extracts asynchronously.
//!
//! One line per metric, dimension set and minute, following the EMF specification (CloudWatch user guide,
//! "Specification: Embedded metric format"): an `_aws` object with `Timestamp` and `CloudWatchMetrics`
//! (`Namespace`, `Dimensions`, `Metrics`), the dimension values and the metric's values as top-level
//! members. EMF has no `Counts`, so a value that occurred n times is written n times; a line carries at most
//! [`MAX_VALUES_PER_LINE`] values (the specification's limit), so large counts take several lines. No API
//! call, nothing to throttle: the lines are billed as log ingestion of the function's own log group.
//!
//! Names a line cannot carry (`_aws`, a dimension named like the metric) are refused at start-up in
//! `emf` mode ([`crate::config::check_emf_names`]), so every line written here is the metric it says.

use super::{EmitReport, MetricBatch, MetricKey, MetricSink, MetricsError, ValueCounts};
use crate::config::EMF_METADATA_MEMBER;
use std::io::Write;
use std::sync::Mutex;

/// Values of one metric per EMF line (EMF specification: "up to 100 values").
pub const MAX_VALUES_PER_LINE: usize = 100;

/// Writes EMF lines to a writer: stdout in Lambda, a file for `replay --metrics-out`.
pub struct EmfSink {
    out: Mutex<Box<dyn Write + Send>>,
}

impl EmfSink {
    /// A sink writing to `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        EmfSink {
            out: Mutex::new(out),
        }
    }

    /// A sink writing to stdout.
    pub fn stdout() -> Self {
        Self::new(Box::new(std::io::stdout()))
    }
}

/// Renders the EMF lines of one batch into `out`, returning the number of lines.
pub fn render(batch: &MetricBatch, out: &mut Vec<u8>) -> usize {
    let mut lines = 0;
    for (key, values) in batch.sorted() {
        lines += render_metric(key, values, out);
    }
    lines
}

fn render_metric(key: &MetricKey, values: &ValueCounts, out: &mut Vec<u8>) -> usize {
    let mut expanded = values
        .entries()
        .iter()
        .flat_map(|(v, n)| std::iter::repeat_n(*v, usize::try_from(*n).unwrap_or(usize::MAX)))
        .peekable();
    let mut lines = 0;
    while expanded.peek().is_some() {
        let chunk: Vec<f64> = expanded.by_ref().take(MAX_VALUES_PER_LINE).collect();
        let mut metric = serde_json::Map::new();
        metric.insert("Name".into(), key.name.as_ref().into());
        if let Some(unit) = &key.unit {
            metric.insert("Unit".into(), unit.as_ref().into());
        }
        let dims: Vec<serde_json::Value> = key
            .dimensions
            .iter()
            .map(|(n, _)| n.as_ref().into())
            .collect();
        let mut line = serde_json::Map::new();
        line.insert(
            EMF_METADATA_MEMBER.into(),
            serde_json::json!({
                "Timestamp": key.minute_ms,
                "CloudWatchMetrics": [{
                    "Namespace": key.namespace.as_ref(),
                    "Dimensions": [dims],
                    "Metrics": [metric],
                }]
            }),
        );
        for (n, v) in &key.dimensions {
            line.insert(n.to_string(), v.as_str().into());
        }
        let value = if chunk.len() == 1 {
            serde_json::json!(chunk[0])
        } else {
            serde_json::json!(chunk)
        };
        line.insert(key.name.to_string(), value);
        // Serialising a map of plain values cannot fail.
        if serde_json::to_writer(&mut *out, &line).is_ok() {
            out.push(b'\n');
            lines += 1;
        }
    }
    lines
}

impl MetricSink for EmfSink {
    async fn emit(
        &self,
        batch: &MetricBatch,
        _deadline: Option<std::time::Instant>,
    ) -> Result<EmitReport, MetricsError> {
        let mut buf = Vec::new();
        let lines = render(batch, &mut buf);
        let mut out = self
            .out
            .lock()
            .map_err(|_| std::io::Error::other("metrics writer poisoned"))?;
        out.write_all(&buf)?;
        out.flush()?;
        Ok(EmitReport {
            datums: batch.len(),
            requests: lines,
            put_metric_data_calls: 0,
            emf_bytes: buf.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_emf_shape() {
        let mut b = MetricBatch::new();
        let key = MetricKey {
            namespace: "LogRelay".into(),
            name: "ErrorCount".into(),
            dimensions: vec![("LogGroup".into(), "/ecs/orders".into())],
            unit: Some("Count".into()),
            minute_ms: 1_700_000_040_000,
        };
        b.add_n(key, 1.0, 3);
        let mut out = Vec::new();
        assert_eq!(render(&b, &mut out), 1);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_040_000i64);
        let m = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(m["Namespace"], "LogRelay");
        assert_eq!(m["Dimensions"], serde_json::json!([["LogGroup"]]));
        assert_eq!(
            m["Metrics"][0],
            serde_json::json!({"Name":"ErrorCount","Unit":"Count"})
        );
        assert_eq!(v["LogGroup"], "/ecs/orders");
        assert_eq!(v["ErrorCount"], serde_json::json!([1.0, 1.0, 1.0]));
    }

    #[test]
    fn splits_more_than_100_values_over_lines_and_keeps_the_sum() {
        let mut b = MetricBatch::new();
        let key = MetricKey {
            namespace: "N".into(),
            name: "E".into(),
            dimensions: vec![],
            unit: None,
            minute_ms: 0,
        };
        b.add_n(key, 1.0, 250);
        let mut out = Vec::new();
        assert_eq!(render(&b, &mut out), 3);
        let total: f64 = out
            .split(|&c| c == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                let v: serde_json::Value = serde_json::from_slice(l).unwrap();
                match &v["E"] {
                    serde_json::Value::Array(a) => a.iter().map(|x| x.as_f64().unwrap()).sum(),
                    x => x.as_f64().unwrap(),
                }
            })
            .sum();
        assert_eq!(total, 250.0);
    }
}
