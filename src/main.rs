//! The `logrelay` binary: the Lambda function when started by the Lambda runtime
//! (`AWS_LAMBDA_RUNTIME_API` is set), the CLI otherwise.

// The Lambda future (runtime + SDK clients) nests deeper than the default limit of 128.
#![recursion_limit = "256"]

use clap::Parser;
use logrelay::cli::{Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    keep_freed_memory();
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

/// Every payload allocates megabytes (decode buffers, events, records) and frees them at the end. By
/// default glibc hands large freed blocks back to the kernel (mmap'd blocks at once, the heap top past
/// 128 KiB), so the next payload pays again in page faults: a third of the CPU time of an ndjson replay
/// went to the kernel (see bench/NOTES.md, "Tuning log"). Keeping freed memory for reuse bounds the
/// resident size by the largest payload's working set instead.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        /// Blocks below this come from the heap (reused) rather than from their own mapping.
        const MMAP_THRESHOLD: libc::c_int = 64 * 1024 * 1024;
        /// Free memory at the heap top is returned to the kernel only past this.
        const TRIM_THRESHOLD: libc::c_int = 256 * 1024 * 1024;
        // SAFETY: mallopt only sets allocator parameters; it is called once, first thing in main,
        // before any other thread exists. A failure (return 0) leaves glibc's defaults, which is fine.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    }
}
