//! Spawning the `logrelay` binary built for these tests, through the target's runner when cargo
//! runs the tests through one.
//!
//! When cross-testing (`cargo test --target aarch64-unknown-linux-gnu` on an x86_64 host with
//! `CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"`), cargo
//! starts each test binary through that runner, but a binary the test spawns itself is started by
//! the host kernel, which cannot execute it. [`logrelay`] prefixes the runner, as cargo does: the
//! value is split on whitespace, the first word is the program and the rest its first arguments.
//!
//! The runner is read from `CARGO_TARGET_<TRIPLE>_RUNNER` for the triple this test was compiled for
//! (architecture, OS and C library of the build: `aarch64-unknown-linux-gnu` →
//! `CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER`). A runner set only in a cargo configuration
//! file (`target.<triple>.runner`) is not seen: set it in the environment.

use std::ffi::OsString;
use std::process::{Command, Output};

/// A `Command` for the `logrelay` binary of this build, through the target's runner if one is set.
pub fn logrelay() -> Command {
    command(env!("CARGO_BIN_EXE_logrelay"))
}

/// The `logrelay` binary (through the target's runner) with the test AWS environment: requests go
/// to `endpoint`, in us-east-1, with moto's test credentials, no instance metadata, no profile and no
/// metric-filter file from the environment.
pub fn logrelay_against(endpoint: &str) -> Command {
    let mut c = logrelay();
    c.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("LOGRELAY_CONFIG_FILE");
    c
}

/// A `Command` for `program` (a binary built for the target), through the target's runner if one
/// is set.
pub fn command(program: &str) -> Command {
    match runner() {
        Some(words) => {
            let mut words = words.into_iter();
            // `runner` never returns an empty list.
            let mut c = Command::new(words.next().unwrap_or_default());
            c.args(words).arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// The runner's words (program, then arguments), or `None` when no runner is set for this target.
pub fn runner() -> Option<Vec<OsString>> {
    let value = std::env::var(runner_var()).ok()?;
    let words: Vec<OsString> = value.split_whitespace().map(OsString::from).collect();
    (!words.is_empty()).then_some(words)
}

/// `CARGO_TARGET_<TRIPLE>_RUNNER` for the triple this code was compiled for.
pub fn runner_var() -> String {
    format!(
        "CARGO_TARGET_{}_RUNNER",
        target_triple().to_uppercase().replace(['-', '.'], "_")
    )
}

/// The target triple of this build, from its architecture, OS and C library (Linux: `unknown`
/// vendor, as every Linux triple of rustup's tier 1 and 2 has).
pub fn target_triple() -> String {
    let arch = std::env::consts::ARCH;
    let os = std::env::consts::OS;
    let abi = if cfg!(target_env = "gnu") {
        "-gnu"
    } else if cfg!(target_env = "musl") {
        "-musl"
    } else {
        ""
    };
    let (vendor, os) = match os {
        "macos" => ("apple", "darwin"),
        other => ("unknown", other),
    };
    format!("{arch}-{vendor}-{os}{abi}")
}

/// Asserts that a run of a spawned binary exited with status 0, showing its stderr when not.
#[track_caller]
pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
