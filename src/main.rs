//! The `logrelay` binary: the Lambda function when started by the Lambda runtime, the CLI otherwise.

use clap::Parser;
use logrelay::cli::{Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Command::TestMetricFilter(args) => logrelay::cli::test_metric_filter::run(args),
        Command::Replay(args) => logrelay::cli::replay::run(args),
    }
}
