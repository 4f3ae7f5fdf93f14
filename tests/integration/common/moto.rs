//! A moto server for integration tests, and SDK configuration pointing at it.
//!
//! [`Moto::shared`] gives a handle on a moto server:
//! - if `LOGRELAY_TEST_AWS_ENDPOINT` is set (the test script starts one moto for the whole run),
//!   that server is used and nothing is started or stopped;
//! - else `moto_server` is started from the Python venv (`$LOGRELAY_VENV/bin/moto_server`, default
//!   `<crate root>/.venv/bin/moto_server`) on a free loopback port, the handle waits until
//!   `GET /moto-api/` answers, and the server is killed when the last handle of the test binary is
//!   dropped;
//! - if neither works the test fails, saying how to run the tests.
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
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
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

/// A moto server handle.
#[derive(Debug)]
pub struct Moto {
    endpoint: String,
    child: Option<Child>,
}

static SHARED: Mutex<Weak<Moto>> = Mutex::new(Weak::new());

impl Moto {
    /// The server shared by the tests of this binary (started on first use).
    pub fn shared() -> Arc<Moto> {
        let mut slot = SHARED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = slot.upgrade() {
            return m;
        }
        let m = Arc::new(Moto::start());
        *slot = Arc::downgrade(&m);
        m
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
                child: None,
            };
        }
        let venv = std::env::var_os(VENV_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv"));
        let exe = venv.join("bin").join("moto_server");
        if !exe.exists() {
            panic!("no moto server: {} does not exist; {HOW_TO}", exe.display());
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("cannot find a free loopback port: {e}"));
        let mut child = Command::new(&exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}; {HOW_TO}", exe.display()));
        let endpoint = format!("http://127.0.0.1:{port}");
        if let Err(e) = wait_ready(&endpoint, Duration::from_secs(60), Some(&mut child)) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("moto server at {endpoint} did not come up: {e}; {HOW_TO}");
        }
        Moto {
            endpoint,
            child: Some(child),
        }
    }

    /// The endpoint URL (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
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
                return Err(format!("moto_server exited with {status}"));
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
