//! `logrelay check-config`: load and validate the configuration exactly as a cold start does.
//!
//! Reads the `LOGRELAY_*` environment (and `--config`), compiles every filter, builds the AWS SDK
//! clients the function would build, and prints what it found. Exit status 0 when the configuration is
//! valid, 2 with the error otherwise — so a deployment can be checked before it is deployed, and the
//! start-up cost measured (`time logrelay check-config`).

use crate::config::{Config, LogGroupScope, MetricValue, ENV_CONFIG_FILE};
use crate::forward::AnyRecordSink;
use crate::metrics::cloudwatch::CloudWatchSink;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Arguments of `check-config`.
#[derive(Debug, clap::Args)]
pub struct CheckConfigArgs {
    /// Metric-filter file (overrides `LOGRELAY_CONFIG_FILE`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Skip building the AWS SDK clients (no credentials or region needed).
    #[arg(long)]
    pub no_clients: bool,
}

/// Runs the subcommand.
pub fn run(args: &CheckConfigArgs) -> ExitCode {
    let start = Instant::now();
    let file = args.config.as_ref().map(|p| p.display().to_string());
    let config = match Config::from_lookup(|name| {
        if name == ENV_CONFIG_FILE && file.is_some() {
            return file.clone();
        }
        std::env::var(name).ok()
    }) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("logrelay check-config: {e}");
            return ExitCode::from(2);
        }
    };
    let parsed = start.elapsed();
    let clients = if args.no_clients {
        None
    } else {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                eprintln!("logrelay check-config: cannot start the async runtime: {e}");
                return ExitCode::FAILURE;
            }
        };
        let built = runtime.block_on(async {
            let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            crate::handler::check_endpoint(&sdk)?;
            let records = match &config.stream_arn {
                Some(arn) => Some(
                    AnyRecordSink::kinesis(
                        &sdk,
                        arn,
                        config.assume_role.as_ref(),
                        &config.batch_limits,
                    )
                    .await,
                ),
                None => None,
            };
            let metrics = CloudWatchSink::new(aws_sdk_cloudwatch::Client::new(&sdk));
            Ok::<_, String>((records.is_some(), metrics))
        });
        match built {
            Ok((kinesis, _)) => Some(kinesis),
            Err(e) => {
                eprintln!("logrelay check-config: {e}");
                return ExitCode::from(2);
            }
        }
    };
    let total = start.elapsed();
    let filters: Vec<serde_json::Value> = config
        .filters
        .iter()
        .map(|f| {
            let scope = match &f.scope {
                LogGroupScope::All => "*".to_string(),
                LogGroupScope::Exact(g) => g.clone(),
                LogGroupScope::Prefix(p) => format!("{p}*"),
            };
            let value = match &f.transformation.value {
                MetricValue::Literal(v) => v.to_string(),
                MetricValue::Field { text, .. } => text.clone(),
            };
            serde_json::json!({
                "filterName": f.name,
                "filterPattern": f.pattern.source(),
                "logGroups": scope,
                "metric": format!("{}/{}", f.transformation.namespace, f.transformation.metric_name),
                "metricValue": value,
                "dimensions": f.transformation.dimensions.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let report = serde_json::json!({
        "valid": true,
        "filters": filters,
        "metrics": format!("{:?}", config.metrics).to_lowercase(),
        "forward": config.stream_arn.as_ref().map(|arn| serde_json::json!({
            "streamArn": arn,
            "format": config.forward_format.to_string(),
            "partitionKey": config.partition_key.to_string(),
            "pattern": config.forward_pattern.as_ref().map(|p| p.source()),
            "assumeRole": config.assume_role.as_ref().map(|r| r.role_arn.as_str()),
        })),
        "clientsBuilt": clients.is_some(),
        "startupMicros": {"config": parsed.as_micros() as u64, "total": total.as_micros() as u64},
    });
    println!("{report}");
    ExitCode::SUCCESS
}
