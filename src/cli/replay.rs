//! `logrelay replay`: the Lambda pipeline on event files, with local sinks.

use std::process::ExitCode;

/// Arguments of `replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {}

/// Runs the subcommand.
pub fn run(_args: &ReplayArgs) -> ExitCode {
    ExitCode::FAILURE
}
