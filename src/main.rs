//! The `logrelay` binary: the Lambda function when started by the Lambda runtime
//! (`AWS_LAMBDA_RUNTIME_API` is set), the CLI otherwise.

// The Lambda future (runtime + SDK clients) nests deeper than the default limit of 128.
#![recursion_limit = "256"]

use clap::Parser;
use logrelay::cli::{Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    // SAFETY: first thing in main, before any other thread exists.
    unsafe { logrelay::keep_freed_memory() };
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return run_lambda();
    }
    let cli = Cli::parse();
    match &cli.command {
        Command::TestMetricFilter(args) => logrelay::cli::test_metric_filter::run(args),
        Command::CheckConfig(args) => logrelay::cli::check_config::run(args),
        Command::Replay(args) => logrelay::cli::replay::run(args),
    }
}

fn run_lambda() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(logrelay::handler::run_lambda()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
