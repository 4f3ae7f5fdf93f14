//! The `logrelay` command line: `test-metric-filter` and `replay`.

pub mod check_config;
pub mod replay;
pub mod test_metric_filter;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// logrelay: CloudWatch Logs metric filters and cross-account forwarding, as a Lambda or offline.
#[derive(Debug, Parser)]
#[command(name = "logrelay", version, about)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Test a filter pattern against log messages, like `aws logs test-metric-filter`.
    TestMetricFilter(test_metric_filter::TestMetricFilterArgs),
    /// Load and validate the configuration as a cold start does, and print it.
    CheckConfig(check_config::CheckConfigArgs),
    /// Run the Lambda pipeline on Lambda event files with local sinks.
    Replay(Box<replay::ReplayArgs>),
}

/// Runs the command line.
pub fn run(cli: &Cli) -> ExitCode {
    match &cli.command {
        Command::TestMetricFilter(args) => test_metric_filter::run(args),
        Command::CheckConfig(args) => check_config::run(args),
        Command::Replay(args) => replay::run(args),
    }
}
