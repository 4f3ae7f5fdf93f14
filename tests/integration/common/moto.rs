//! A moto server for integration tests, and SDK configuration pointing at it.
//!
//! [`Moto::shared`] gives the moto server of this test binary:
//! - if `LOGRELAY_TEST_AWS_ENDPOINT` is set (the test script starts one moto for the whole run),
//!   that server is used and nothing is started or stopped;
//! - else `moto_server` is started once, on first use, from the Python venv
//!   (`$LOGRELAY_VENV/bin/moto_server`, default `<crate root>/.venv/bin/moto_server`, else the first
//!   on `PATH`) on a free loopback port, and runs until the test binary exits;
//! - if neither works the test fails, saying how to run the tests.
//!
//! A server started here is watched through a pipe: it is stopped when its [`Moto`] is dropped or
//! when the test process ends in any way (the pipe closes even on a crash or `SIGKILL`), so no test
//! can stop the server under another one, and no server outlives the run. Its output goes to a
//! temporary log file whose end is shown when it does not come up.
//!
//! Tests share one server per test binary and never reset it: give every test its own resource
//! names ([`unique_name`]).
//!
//! ```ignore
//! let moto = common::moto::Moto::shared();
//! let config = common::moto::sdk_config(moto.endpoint()).await;
//! let kinesis = aws_sdk_kinesis::Client::new(&config);
//! ```

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_kinesis::config::Credentials;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Environment variable naming an already running endpoint (e.g. `http://127.0.0.1:5000`).
pub const ENDPOINT_ENV: &str = "LOGRELAY_TEST_AWS_ENDPOINT";
/// Environment variable naming the Python venv holding `moto_server`.
pub const VENV_ENV: &str = "LOGRELAY_VENV";
/// Region used in tests.
pub const REGION: &str = "us-east-1";
/// Account moto acts in for the static test credentials.
pub const DEFAULT_ACCOUNT: &str = "123456789012";

const HOW_TO: &str =
    "run the tests with the README test command (it creates .venv with moto[server] and \
starts one moto for the run), or set LOGRELAY_TEST_AWS_ENDPOINT to a running moto server, or \
LOGRELAY_VENV to a venv with moto[server] installed";

/// A moto server: one named by `LOGRELAY_TEST_AWS_ENDPOINT`, or one started here.
#[derive(Debug)]
pub struct Moto {
    endpoint: String,
    server: Option<Server>,
}

/// A `moto_server` started here, under a shell that stops it when the write end of its stdin pipe
/// closes: when this is dropped, or when the test process ends.
#[derive(Debug)]
struct Server {
    watchdog: Child,
    stdin: Option<ChildStdin>,
}

/// Starts `moto_server` ($0) on port $1 with its stdin and output redirected, then waits for it; a
/// background reader of the original stdin (fd 3) stops it when that pipe closes. The shell exits
/// when moto does, so an early exit (a taken port, a broken venv) is seen at once.
const WATCHDOG: &str = r#"exec 3<&0
"$0" -H 127.0.0.1 -p "$1" </dev/null >"$2" 2>&1 &
pid=$!
(read -r _ <&3; kill "$pid" 2>/dev/null) &
wait "$pid""#;

static SHARED: OnceLock<Moto> = OnceLock::new();

impl Moto {
    /// The server shared by the tests of this binary (started on first use, stopped when the test
    /// binary exits).
    pub fn shared() -> &'static Moto {
        SHARED.get_or_init(Moto::start)
    }

    /// Uses `LOGRELAY_TEST_AWS_ENDPOINT`, or starts a server of its own.
    pub fn start() -> Moto {
        if let Ok(endpoint) = std::env::var(ENDPOINT_ENV) {
            let endpoint = endpoint.trim_end_matches('/').to_owned();
            if let Err(e) = wait_ready(&endpoint, Duration::from_secs(10), None) {
                panic!("{ENDPOINT_ENV}={endpoint} does not answer: {e}; {HOW_TO}");
            }
            return Moto {
                endpoint,
                server: None,
            };
        }
        Moto::spawn(&[])
    }

    /// Starts a server of its own even when `LOGRELAY_TEST_AWS_ENDPOINT` names one, with these
    /// extra environment variables (e.g. moto's request recorder). It stops when dropped.
    pub fn spawn(env: &[(&str, &str)]) -> Moto {
        let exe = moto_server_exe();
        // A free port can be taken between finding it and moto binding it; then moto exits at
        // once and another port is tried.
        let mut failures = Vec::new();
        for _ in 0..3 {
            match Server::start(&exe, env) {
                Ok(m) => return m,
                Err(e) => failures.push(e),
            }
        }
        panic!(
            "moto server did not come up:\n{}\n{HOW_TO}",
            failures.join("\n")
        );
    }

    /// The endpoint URL (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Server {
    fn start(exe: &Path, env: &[(&str, &str)]) -> Result<Moto, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("cannot find a free loopback port: {e}"))?;
        let log = tempfile::Builder::new()
            .prefix("logrelay-test-moto-")
            .suffix(".log")
            .tempfile()
            .map_err(|e| format!("cannot create a log file for moto: {e}"))?;
        let mut watchdog = Command::new("sh")
            .args(["-c", WATCHDOG])
            .arg(exe)
            .arg(port.to_string())
            .arg(log.path())
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {} under sh: {e}", exe.display()))?;
        // From here on, dropping `server` stops moto.
        let stdin = watchdog.stdin.take();
        let mut server = Server { watchdog, stdin };
        let endpoint = format!("http://127.0.0.1:{port}");
        match wait_ready(
            &endpoint,
            Duration::from_secs(60),
            Some(&mut server.watchdog),
        ) {
            // The log is only read here; moto keeps writing to it unlinked.
            Ok(()) => Ok(Moto {
                endpoint,
                server: Some(server),
            }),
            Err(e) => Err(format!(
                "{endpoint}: {e}; the end of its log:\n{}",
                log_tail(log.path())
            )),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Closing the pipe makes the shell stop moto and exit.
        drop(self.stdin.take());
        let _ = self.watchdog.wait();
    }
}

/// `$LOGRELAY_VENV/bin/moto_server`, `<crate root>/.venv/bin/moto_server`, or the first on `PATH`.
fn moto_server_exe() -> PathBuf {
    let venv = std::env::var_os(VENV_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv"));
    let in_venv = venv.join("bin").join("moto_server");
    if in_venv.exists() {
        return in_venv;
    }
    // The test command puts its venv's bin on PATH.
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("moto_server"))
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "no moto server: {} does not exist and none is on PATH; {HOW_TO}",
                in_venv.display()
            )
        })
}

/// The last lines of a log file, for a failure message.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| format!("(unreadable: {e})"));
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Polls `GET /moto-api/` until it answers with an HTTP status line.
fn wait_ready(
    endpoint: &str,
    timeout: Duration,
    mut child: Option<&mut Child>,
) -> Result<(), String> {
    let addr = endpoint
        .strip_prefix("http://")
        .ok_or_else(|| format!("endpoint {endpoint} is not http://host:port"))?
        .to_owned();
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < timeout {
        if let Some(c) = child.as_deref_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                return Err(format!("moto_server exited ({status})"));
            }
        }
        match get(&addr, "/moto-api/") {
            Ok(status) if status.starts_with("HTTP/1.") => return Ok(()),
            Ok(other) => last = format!("unexpected answer {other:?}"),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("no answer within {timeout:?} ({last})"))
}

fn get(addr: &str, path: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n])
        .lines()
        .next()
        .unwrap_or("")
        .to_owned())
}

/// SDK configuration for tests: region us-east-1, static test credentials (moto's account
/// 123456789012), the given endpoint for every service.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "logrelay-tests",
        ))
        .endpoint_url(endpoint)
        .load()
        .await
}

/// A name unique to this process and call, e.g. `unique_name("fwd")` → `fwd-4242-3-1a2b3c`.
pub fn unique_name(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{}-{nanos:x}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
