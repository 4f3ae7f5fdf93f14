//! `logrelay replay`: the Lambda pipeline on event files, with local sinks — the main job on a laptop.
//!
//! Each file holds one Lambda event (`{"awslogs":{"data":"..."}}`), as CloudWatch Logs sends it. The files
//! go through the same [`Relay`] as in Lambda; records go to a directory
//! (`--records-out`), to Kinesis (`--kinesis-stream-arn`, through the endpoints the AWS SDK is configured
//! for), or are only counted; metrics go to an EMF file (`--metrics-out`), to CloudWatch (`--metrics put`),
//! or nowhere. One JSON summary is printed on stdout. A file that cannot be decoded is reported by name on
//! stderr and makes the exit code 1, after the other files are processed.

use crate::config::{
    Config, ENV_ASSUME_ROLE_ARN, ENV_CONFIG_FILE, ENV_EXTERNAL_ID, ENV_FILTER_PATTERN,
    ENV_FORWARD_FORMAT, ENV_FORWARD_PATTERN, ENV_KINESIS_STREAM_ARN, ENV_MAX_DECOMPRESSED_BYTES,
    ENV_METRICS, ENV_METRIC_NAME, ENV_METRIC_NAMESPACE,
};
use crate::forward::AnyRecordSink;
use crate::metrics::cloudwatch::CloudWatchSink;
use crate::metrics::emf::EmfSink;
use crate::metrics::{AnyMetricSink, MetricBatch, NullMetricSink};
use crate::pipeline::{Pipeline, Relay};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// Metric-filter file (`aws logs describe-metric-filters` output, or a list of filters).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Pattern of the simple filter (default `ERROR`, metric `ErrorCount`); added to `--config` filters.
    #[arg(long, value_name = "PATTERN", allow_hyphen_values = true)]
    pub filter_pattern: Option<String>,
    /// Metric name of the simple filter.
    #[arg(long, value_name = "NAME")]
    pub metric_name: Option<String>,
    /// Namespace of the simple filter's metric.
    #[arg(long, value_name = "NAMESPACE")]
    pub metric_namespace: Option<String>,
    /// Record format.
    #[arg(long, value_name = "cwl|ndjson", default_value = "cwl")]
    pub forward_format: String,
    /// Pattern selecting the events to forward (default: all).
    #[arg(long, value_name = "PATTERN", allow_hyphen_values = true)]
    pub forward_pattern: Option<String>,
    /// Write each record to a file in this directory (`NNNNNN.gz` for cwl, `NNNNNN.ndjson` for ndjson).
    #[arg(long, value_name = "DIR")]
    pub records_out: Option<PathBuf>,
    /// Write the metrics as Embedded Metric Format lines to this file (`-` for stderr).
    #[arg(long, value_name = "FILE")]
    pub metrics_out: Option<PathBuf>,
    /// How metrics are emitted: `emf` (to --metrics-out), `put` (CloudWatch PutMetricData), `off`.
    #[arg(long, value_name = "emf|put|off", default_value = "emf")]
    pub metrics: String,
    /// Send the records to this Kinesis stream with PutRecords instead of a local sink.
    #[arg(long, value_name = "ARN")]
    pub kinesis_stream_arn: Option<String>,
    /// Assume this role for PutRecords (cross-account).
    #[arg(long, value_name = "ARN")]
    pub assume_role_arn: Option<String>,
    /// External ID for --assume-role-arn.
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
    /// Cap on one decompressed payload, in bytes.
    #[arg(long, value_name = "BYTES")]
    pub max_decompressed_bytes: Option<usize>,
    /// Lambda event files (`{"awslogs":{"data":"..."}}`).
    #[arg(value_name = "EVENT_FILE", required = true)]
    pub files: Vec<PathBuf>,
}

/// The summary printed on stdout.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Summary {
    /// Files decoded as payloads.
    pub payloads: usize,
    /// Of which control messages.
    pub control_messages: usize,
    /// Log events.
    pub events: usize,
    /// Events selected for forwarding.
    pub forwarded_events: usize,
    /// Records encoded (and delivered).
    pub records: usize,
    /// Bytes of record data.
    pub record_bytes: usize,
    /// AWS API calls: made, with real sinks (`--kinesis-stream-arn`, `--metrics put`); that the
    /// Lambda would make, with local sinks (counted by the sinks from the same batching code).
    pub api_calls: ApiCalls,
    /// Bytes of Embedded Metric Format lines (`--metrics emf`; counted also without
    /// `--metrics-out`): what the function's log group would ingest for the metrics.
    pub emf_bytes: usize,
    /// Sum of the emitted values per namespace and metric name (whole numbers print without `.0`).
    #[serde(serialize_with = "serialize_sums")]
    pub metrics: BTreeMap<String, BTreeMap<String, f64>>,
}

/// AWS API calls by operation, as the summary prints them.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct ApiCalls {
    /// Kinesis `PutRecords` calls (retries included when made).
    #[serde(rename = "PutRecords")]
    pub put_records: usize,
    /// CloudWatch `PutMetricData` calls.
    #[serde(rename = "PutMetricData")]
    pub put_metric_data: usize,
}

fn serialize_sums<S: serde::Serializer>(
    sums: &BTreeMap<String, BTreeMap<String, f64>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    /// Below 2^53 every whole f64 is an exact integer.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    let mut outer = serializer.serialize_map(Some(sums.len()))?;
    for (namespace, metrics) in sums {
        let inner: BTreeMap<&str, serde_json::Value> = metrics
            .iter()
            .map(|(name, &v)| {
                let value = if v.fract() == 0.0 && v.abs() < EXACT {
                    serde_json::Value::from(v as i64)
                } else {
                    serde_json::Value::from(v)
                };
                (name.as_str(), value)
            })
            .collect();
        outer.serialize_entry(namespace, &inner)?;
    }
    outer.end()
}

impl ReplayArgs {
    fn overrides(&self) -> Result<HashMap<&'static str, String>, String> {
        let mut m = HashMap::new();
        if let Some(c) = &self.config {
            m.insert(ENV_CONFIG_FILE, c.display().to_string());
        }
        if let Some(p) = &self.filter_pattern {
            m.insert(ENV_FILTER_PATTERN, p.clone());
        }
        if let Some(n) = &self.metric_name {
            m.insert(ENV_METRIC_NAME, n.clone());
        }
        if let Some(n) = &self.metric_namespace {
            m.insert(ENV_METRIC_NAMESPACE, n.clone());
        }
        m.insert(ENV_FORWARD_FORMAT, self.forward_format.clone());
        m.insert(
            ENV_FORWARD_PATTERN,
            self.forward_pattern.clone().unwrap_or_default(),
        );
        m.insert(ENV_METRICS, self.metrics.clone());
        m.insert(
            ENV_KINESIS_STREAM_ARN,
            self.kinesis_stream_arn.clone().unwrap_or_default(),
        );
        m.insert(
            ENV_ASSUME_ROLE_ARN,
            self.assume_role_arn.clone().unwrap_or_default(),
        );
        m.insert(
            ENV_EXTERNAL_ID,
            self.external_id.clone().unwrap_or_default(),
        );
        if let Some(b) = self.max_decompressed_bytes {
            m.insert(ENV_MAX_DECOMPRESSED_BYTES, b.to_string());
        }
        if self.kinesis_stream_arn.is_some() && self.records_out.is_some() {
            return Err("give --records-out or --kinesis-stream-arn, not both".into());
        }
        Ok(m)
    }

    /// The configuration: the flags over the `LOGRELAY_*` environment (so a replay runs what the Lambda
    /// would run with the same settings).
    pub fn load_config(&self) -> Result<Config, String> {
        let overrides = self.overrides()?;
        let mut config = Config::from_lookup(|name| {
            overrides
                .get(name)
                .cloned()
                .or_else(|| std::env::var(name).ok())
        })
        .map_err(|e| e.to_string())?;
        // `--config` with `--filter-pattern`: the simple filter is added to the file's filters.
        if self.config.is_some() && self.filter_pattern.is_some() {
            let simple = crate::config::simple_filter(
                self.filter_pattern.as_deref().unwrap_or_default(),
                self.metric_name
                    .as_deref()
                    .unwrap_or(crate::config::DEFAULT_METRIC_NAME),
                self.metric_namespace
                    .as_deref()
                    .unwrap_or(crate::config::DEFAULT_NAMESPACE),
            )
            .map_err(|e| e.to_string())?;
            config.filters.push(simple);
        }
        // The function's own log group is a Lambda notion; a replay processes every file it is given.
        config.own_log_group = None;
        Ok(config)
    }
}

/// Runs the subcommand.
pub fn run(args: &ReplayArgs) -> ExitCode {
    init_cli_tracing();
    let config = match args.load_config() {
        Ok(c) => Arc::new(c),
        Err(e) => {
            eprintln!("logrelay replay: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("logrelay replay: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(replay(args, config))
}

fn init_cli_tracing() {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_target(false)
        .try_init();
}

async fn replay(args: &ReplayArgs, config: Arc<Config>) -> ExitCode {
    let needs_aws = config.stream_arn.is_some() || args.metrics == "put";
    let sdk_config = if needs_aws {
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        if let Err(e) = crate::handler::check_endpoint(&sdk) {
            eprintln!("logrelay replay: {e}");
            return ExitCode::from(2);
        }
        Some(sdk)
    } else {
        None
    };
    let region = sdk_config
        .as_ref()
        .and_then(|c| c.region().map(|r| r.to_string()))
        .or_else(|| std::env::var("AWS_REGION").ok());

    let records = match (&config.stream_arn, &sdk_config, &args.records_out) {
        (Some(arn), Some(sdk), _) => {
            AnyRecordSink::kinesis(sdk, arn, config.assume_role.as_ref(), &config.batch_limits)
                .await
        }
        (_, _, Some(dir)) => {
            match AnyRecordSink::directory(dir, config.forward_format, &config.batch_limits) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("logrelay replay: --records-out {}: {e}", dir.display());
                    return ExitCode::from(2);
                }
            }
        }
        _ => AnyRecordSink::null(&config.batch_limits),
    };
    let metrics = match (args.metrics.as_str(), &sdk_config, &args.metrics_out) {
        ("put", Some(sdk), _) => {
            AnyMetricSink::CloudWatch(CloudWatchSink::new(aws_sdk_cloudwatch::Client::new(sdk)))
        }
        ("emf", _, Some(path)) => {
            let out: Box<dyn std::io::Write + Send> = if path.as_os_str() == "-" {
                Box::new(std::io::stderr())
            } else {
                match std::fs::File::create(path) {
                    Ok(f) => Box::new(std::io::BufWriter::new(f)),
                    Err(e) => {
                        eprintln!("logrelay replay: --metrics-out {}: {e}", path.display());
                        return ExitCode::from(2);
                    }
                }
            };
            AnyMetricSink::Emf(EmfSink::new(out))
        }
        // EMF lines without a file: rendered and counted (`emf_bytes`), written nowhere.
        ("emf", _, None) => AnyMetricSink::Emf(EmfSink::new(Box::new(std::io::sink()))),
        _ => AnyMetricSink::Off(NullMetricSink),
    };

    let pipeline = match Pipeline::new(config, region) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("logrelay replay: {e}");
            return ExitCode::from(2);
        }
    };
    let relay = Relay::new(pipeline, Some(records), metrics);
    let mut summary = Summary::default();
    let mut all_metrics = MetricBatch::new();
    let mut failed = false;
    // One buffer for every file: the event files of a replay are much alike in size, so it is
    // allocated once rather than once per file.
    let mut bytes = Vec::new();
    for file in &args.files {
        bytes.clear();
        if let Err(e) = std::fs::File::open(file).and_then(|mut f| f.read_to_end(&mut bytes)) {
            eprintln!("{}: cannot read: {e}", file.display());
            failed = true;
            continue;
        }
        match relay.handle_event(&bytes, None).await {
            Ok(report) => {
                summary.payloads += 1;
                summary.control_messages += usize::from(report.stats.control_message);
                summary.events += report.stats.events;
                summary.forwarded_events += report.stats.forwarded_events;
                summary.records += report.stats.records;
                summary.record_bytes += report.stats.record_bytes;
                if let Some(sent) = &report.sent {
                    summary.api_calls.put_records += sent.put_records_calls;
                }
                if let Some(emitted) = &report.emitted {
                    summary.api_calls.put_metric_data += emitted.put_metric_data_calls;
                    summary.emf_bytes += emitted.emf_bytes;
                }
                if let Some(e) = &report.metrics_error {
                    eprintln!("{}: metrics not emitted: {e}", file.display());
                    failed = true;
                }
                all_metrics.merge(report.metrics);
            }
            Err(e) => {
                eprintln!("{}: {e}", file.display());
                failed = true;
            }
        }
    }
    summary.metrics = all_metrics.sums();
    match serde_json::to_string(&summary) {
        Ok(s) => println!("{s}"),
        Err(e) => {
            eprintln!("logrelay replay: cannot print the summary: {e}");
            failed = true;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
