//! `logrelay test-metric-filter`: same interface and output as `aws logs test-metric-filter`.

use std::process::ExitCode;

/// Arguments of `test-metric-filter`.
#[derive(Debug, clap::Args)]
pub struct TestMetricFilterArgs {}

/// Runs the subcommand.
pub fn run(_args: &TestMetricFilterArgs) -> ExitCode {
    ExitCode::FAILURE
}
