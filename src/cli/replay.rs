//! `logrelay replay`: the Lambda pipeline on event files, with local sinks — the main job on a laptop.
//!
//! Each file holds one Lambda event, as the Lambda receives it: a subscription event
//! (`{"awslogs":{"data":"..."}}`) as CloudWatch Logs sends it, or with `--mode hub` a Kinesis event
//! (`{"Records":[{"kinesis":{...}}]}`) as the hub's event source mapping sends it. The files go
//! through the same [`Relay`](crate::pipeline::Relay) as in Lambda ([`app::handle_event`]); records go to a directory
//! (`--records-out`), to Kinesis (`--kinesis-stream-arn`, through the endpoints the AWS SDK is configured
//! for), or are only counted; metrics go to an EMF file (`--metrics-out`), to CloudWatch (`--metrics put`),
//! or nowhere. One JSON summary is printed on stdout. A file that cannot be decoded is reported by name on
//! stderr and makes the exit code 1, after the other files are processed.

use crate::app::{self, App, Handled, LocalSinks};
use crate::config::{
    Config, ForwardFormat, MetricsMode, Mode, ENV_ASSUME_ROLE_ARN, ENV_CONFIG_FILE,
    ENV_EXTERNAL_ID, ENV_FILTER_PATTERN, ENV_FORWARD_FORMAT, ENV_FORWARD_PATTERN,
    ENV_KINESIS_STREAM_ARN, ENV_MAX_DECOMPRESSED_BYTES, ENV_METRICS, ENV_METRIC_NAME,
    ENV_METRIC_NAMESPACE, ENV_MODE,
};
use crate::forward::AnyRecordSink;
use crate::metrics::emf::EmfSink;
use crate::metrics::MetricBatch;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// What the event files are: `source`, subscription events; `hub`, Kinesis events of the
    /// central stream (metrics only, nothing is forwarded). As `LOGRELAY_MODE` in Lambda.
    #[arg(long, value_name = "source|hub")]
    pub mode: Option<Mode>,
    /// Metric-filter file (`aws logs describe-metric-filters` output, or a list of filters).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Pattern of the simple filter (default `ERROR`, metric `ErrorCount`); `--config` replaces the
    /// simple filter, as `LOGRELAY_CONFIG_FILE` does in Lambda.
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
    pub forward_format: ForwardFormat,
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
    pub metrics: MetricsMode,
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
    /// Lambda event files: `{"awslogs":{"data":"..."}}`, or with `--mode hub`
    /// `{"Records":[{"kinesis":{...}}]}`.
    #[arg(value_name = "EVENT_FILE", required = true)]
    pub files: Vec<PathBuf>,
}

/// The summary printed on stdout.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Summary {
    /// Files decoded as payloads (in hub mode: payloads in the Kinesis records evaluated).
    pub payloads: usize,
    /// Kinesis records read (hub mode; not printed when zero).
    #[serde(skip_serializing_if = "is_zero")]
    pub kinesis_records: usize,
    /// Kinesis records reported as failed: from the first that does not decode to the end of its
    /// batch (hub mode; not printed when zero).
    #[serde(skip_serializing_if = "is_zero")]
    pub failed_records: usize,
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
    /// AWS API calls: made, with real sinks (`--kinesis-stream-arn`, `--metrics put`), every attempt
    /// counted whether it succeeded or not, also those of files that failed; that the Lambda would
    /// make without a failure, with local sinks (counted by the sinks from the same batching code).
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
    /// Kinesis `PutRecords` calls (retries and failed calls included when made).
    #[serde(rename = "PutRecords")]
    pub put_records: usize,
    /// CloudWatch `PutMetricData` calls (failed calls included when made).
    #[serde(rename = "PutMetricData")]
    pub put_metric_data: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
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

/// A flag of `replay` that stands in for a `LOGRELAY_*` variable.
struct FlagSetting {
    /// The variable the Lambda reads.
    var: &'static str,
    /// The flag, as error messages name it.
    flag: &'static str,
    /// The flag's value; `Some("")` hides the environment's value without giving one.
    value: Option<String>,
}

impl ReplayArgs {
    /// The flags that stand in for `LOGRELAY_*` variables, with their values.
    fn flag_settings(&self) -> [FlagSetting; 10] {
        let flag = |var, flag, value| FlagSetting { var, flag, value };
        // Given, even empty: an empty value means "none" and hides the environment's.
        let always = |v: &Option<String>| Some(v.clone().unwrap_or_default());
        [
            flag(ENV_MODE, "--mode", self.mode.map(|m| m.to_string())),
            flag(
                ENV_CONFIG_FILE,
                "--config",
                self.config.as_ref().map(|c| c.display().to_string()),
            ),
            flag(
                ENV_FILTER_PATTERN,
                "--filter-pattern",
                self.filter_pattern.clone(),
            ),
            flag(ENV_METRIC_NAME, "--metric-name", self.metric_name.clone()),
            flag(
                ENV_METRIC_NAMESPACE,
                "--metric-namespace",
                self.metric_namespace.clone(),
            ),
            flag(
                ENV_FORWARD_PATTERN,
                "--forward-pattern",
                always(&self.forward_pattern),
            ),
            flag(
                ENV_KINESIS_STREAM_ARN,
                "--kinesis-stream-arn",
                always(&self.kinesis_stream_arn),
            ),
            flag(
                ENV_ASSUME_ROLE_ARN,
                "--assume-role-arn",
                always(&self.assume_role_arn),
            ),
            flag(ENV_EXTERNAL_ID, "--external-id", always(&self.external_id)),
            flag(
                ENV_MAX_DECOMPRESSED_BYTES,
                "--max-decompressed-bytes",
                self.max_decompressed_bytes.map(|b| b.to_string()),
            ),
        ]
    }

    /// The configuration, read by the Lambda's own code ([`Config::from_lookup`]) with the flags
    /// standing in for the `LOGRELAY_*` environment, so that a replay runs what the Lambda would
    /// run with the same settings — `--config` replaces the simple filter of `--filter-pattern`, as
    /// `LOGRELAY_CONFIG_FILE` replaces that of `LOGRELAY_FILTER_PATTERN`. `--metrics` and
    /// `--forward-format` always have a value, so the environment's are not read. An error names
    /// the flag when a flag gave the value, the variable otherwise.
    pub fn load_config(&self) -> Result<Config, String> {
        if self.kinesis_stream_arn.is_some() && self.records_out.is_some() {
            return Err("give --records-out or --kinesis-stream-arn, not both".into());
        }
        if self.mode == Some(Mode::Hub) && self.records_out.is_some() {
            return Err(
                "--records-out with --mode hub: the hub forwards nothing (it reads the central stream)"
                    .into(),
            );
        }
        if self.config.is_some() && self.filter_pattern.is_some() {
            tracing::warn!(
                "--filter-pattern is ignored: the filters of --config replace the simple filter \
                 (as {ENV_CONFIG_FILE} does in Lambda)"
            );
        }
        let flags = self.flag_settings();
        let flag_for = |var: &str| flags.iter().find(|f| f.var == var);
        let mut config = Config::from_lookup(|name| match name {
            // The metrics mode decides which names are valid (emf), so the loader sees the flag's.
            ENV_METRICS => Some(self.metrics.as_str().to_string()),
            ENV_FORWARD_FORMAT => None,
            _ => match flag_for(name) {
                Some(FlagSetting { value: Some(v), .. }) => Some(v.clone()),
                _ => std::env::var(name).ok(),
            },
        })
        .map_err(|e| {
            e.named_by(|var| {
                flag_for(var)
                    .filter(|f| f.value.as_deref().is_some_and(|v| !v.is_empty()))
                    .map(|f| f.flag)
            })
            .to_string()
        })?;
        config.metrics = self.metrics;
        config.forward_format = self.forward_format;
        // The function's own log group is a Lambda notion; a replay processes every file it is given.
        config.own_log_group = None;
        Ok(config)
    }
}

/// Runs the subcommand.
pub fn run(args: &ReplayArgs) -> ExitCode {
    init_cli_tracing();
    let config = match args.load_config() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("logrelay replay: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match app::runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("logrelay replay: {e}");
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

/// The sinks of a replay when the configuration names no stream: `--records-out` or a counter;
/// in `emf` mode, EMF to `--metrics-out` (`-`: stderr), or rendered and only counted without it.
fn local_sinks(args: &ReplayArgs, config: &Config) -> Result<LocalSinks, String> {
    let records = match &args.records_out {
        Some(dir) => AnyRecordSink::directory(dir, config.forward_format, &config.batch_limits)
            .map_err(|e| format!("--records-out {}: {e}", dir.display()))?,
        None => AnyRecordSink::null(&config.batch_limits),
    };
    let emf = match args
        .metrics_out
        .as_ref()
        .filter(|_| config.metrics == MetricsMode::Emf)
    {
        Some(path) if path.as_os_str() == "-" => Some(EmfSink::new(Box::new(std::io::stderr()))),
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| format!("--metrics-out {}: {e}", path.display()))?;
            Some(EmfSink::new(Box::new(std::io::BufWriter::new(file))))
        }
        // EMF lines without a file: rendered and counted (`emf_bytes`), written nowhere.
        None => Some(EmfSink::new(Box::new(std::io::sink()))),
    };
    Ok(LocalSinks {
        records: Some(records),
        emf,
    })
}

async fn replay(args: &ReplayArgs, config: Config) -> ExitCode {
    let load_sdk = app::needs_aws(&config);
    let app = match App::start(config, load_sdk).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("logrelay replay: {e}");
            return ExitCode::from(2);
        }
    };
    let relay = match local_sinks(args, &app.config) {
        Ok(local) => app.relay(local).await.map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    let relay = match relay {
        Ok(relay) => relay,
        Err(e) => {
            eprintln!("logrelay replay: {e}");
            return ExitCode::from(2);
        }
    };
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
        match app::handle_event(&relay, &bytes, None).await {
            Ok(Handled::Payload(report)) => {
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
            Ok(Handled::Batch(report)) => {
                summary.kinesis_records += report.records;
                summary.failed_records += report.batch_item_failures.len();
                summary.payloads += report.payloads;
                summary.control_messages += report.control_messages;
                summary.events += report.stats.events;
                if let Some(emitted) = &report.emitted {
                    summary.api_calls.put_metric_data += emitted.put_metric_data_calls;
                    summary.emf_bytes += emitted.emf_bytes;
                }
                if let Some(f) = &report.failure {
                    eprintln!(
                        "{}: record {} (sequence number {}): {}",
                        file.display(),
                        f.index,
                        f.sequence_number,
                        f.error
                    );
                    failed = true;
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
    // Real sinks count every call they made, those of failed files too, whose reports are lost.
    if let Some(calls) = relay.record_sink().and_then(AnyRecordSink::calls_made) {
        summary.api_calls.put_records = calls;
    }
    summary.api_calls.put_metric_data = relay.metric_sink().calls_made();
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
