//! `logrelay check-config`: load and validate the configuration exactly as a cold start does.
//!
//! Reads the `LOGRELAY_*` environment (and `--config`), compiles every filter, builds the AWS SDK
//! clients the function would build, and prints what it found. Exit status 0 when the configuration is
//! valid, 2 with the error otherwise — so a deployment can be checked before it is deployed, and the
//! start-up cost measured (`time logrelay check-config`).

use crate::app::{self, App, LocalSinks};
use crate::config::{Config, LogGroupScope, MetricValue, ENV_CONFIG_FILE};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
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
    let config = if args.no_clients {
        Arc::new(config)
    } else {
        // The cold start's own steps: the SDK configuration, its endpoint check, the clients and
        // sinks, the pipeline.
        let runtime = match app::runtime() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("logrelay check-config: {e}");
                return ExitCode::FAILURE;
            }
        };
        let built = runtime.block_on(async {
            let app = App::start(config, true).await?;
            app.relay(LocalSinks::lambda()).await?;
            Ok::<_, app::StartError>(app.config)
        });
        match built {
            Ok(config) => config,
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
                MetricValue::Field { text, .. } | MetricValue::Absent { text } => text.clone(),
            };
            let mut shown = serde_json::json!({
                "filterName": f.name,
                "filterPattern": f.pattern.source(),
                "logGroups": scope,
                "metric": format!("{}/{}", f.transformation.namespace, f.transformation.metric_name),
                "metricValue": value,
                "dimensions": f.transformation.dimensions.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
            });
            if let MetricValue::Absent { .. } = &f.transformation.value {
                shown["metricValueAbsent"] = true.into();
            }
            if let Some(sel) = &f.selection {
                shown["fieldSelectionCriteria"] = sel.source().into();
            }
            if !f.system_dimensions.is_empty() {
                shown["emitSystemFieldDimensions"] =
                    f.system_dimensions.iter().map(|d| d.name()).collect::<Vec<_>>().into();
            }
            shown
        })
        .collect();
    let report = serde_json::json!({
        "valid": true,
        "filters": filters,
        "metrics": format!("{:?}", config.metrics).to_lowercase(),
        "maxDecompressedBytes": config.max_decompressed_bytes,
        "forward": config.stream_arn.as_ref().map(|arn| serde_json::json!({
            "streamArn": arn,
            "format": config.forward_format.to_string(),
            "partitionKey": config.partition_key.to_string(),
            "pattern": config.forward_pattern.as_ref().map(|p| p.source()),
            "assumeRole": config.assume_role.as_ref().map(|r| r.role_arn.as_str()),
        })),
        "clientsBuilt": !args.no_clients,
        "startupMicros": {"config": parsed.as_micros() as u64, "total": total.as_micros() as u64},
    });
    println!("{report}");
    ExitCode::SUCCESS
}
