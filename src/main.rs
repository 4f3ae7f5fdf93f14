//! The `logrelay` binary: the Lambda function when started by the Lambda runtime
//! (`AWS_LAMBDA_RUNTIME_API` is set), the CLI otherwise.

// The Lambda future (runtime + SDK clients) nests deeper than the default limit of 128.
#![recursion_limit = "256"]

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // SAFETY: first thing in main, before any other thread exists.
    unsafe { logrelay::keep_freed_memory() };
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return logrelay::lambda::main();
    }
    logrelay::cli::run(&logrelay::cli::Cli::parse())
}
