//! A fault-injecting Kinesis PutRecords server on a loopback port, for testing retries with the real
//! `aws-sdk-kinesis` client (moto never reports failed entries).
//!
//! It speaks enough of the Kinesis JSON protocol (`POST /`, `X-Amz-Target:
//! Kinesis_20131202.PutRecords`, `application/x-amz-json-1.1`, HTTP/1.1 with keep-alive and
//! `Content-Length` bodies) for the SDK. Per request it applies a [`RequestFault`] (from
//! [`FaultConfig::request_faults`] by request number, else [`FaultConfig::default_fault`]); requests
//! that get through have each entry fail with probability [`FaultConfig::entry_failure_rate`]
//! (seeded, alternating `ProvisionedThroughputExceededException` and `InternalFailure`). Every
//! accepted entry is recorded, in order ([`FaultKinesis::accepted`]).
//!
//! Two knobs make it a load-test endpoint: [`FaultConfig::latency`] delays every response (a
//! realistic round trip, which a Lambda pays for in wall time), and [`FaultConfig::key_limit`]
//! enforces Kinesis's per-shard write limit per partition key (a key maps to one shard: 1 MB/s or
//! 1,000 records/s, Kinesis Data Streams Developer Guide, "Quotas and limits"), failing each entry
//! over the limit with `ProvisionedThroughputExceededException` as Kinesis does. The limit is counted
//! per key in one-second windows; keys that would share a shard in Kinesis do not share a window here.
//!
//! ```ignore
//! use common::fault_kinesis::{FaultConfig, FaultKinesis};
//! let server = FaultKinesis::start(FaultConfig { entry_failure_rate: 0.3, ..FaultConfig::default() });
//! let endpoint = server.endpoint(); // "http://127.0.0.1:PORT"
//! ```
//!
//! Threads, not tokio: the server runs beside whatever runtime the test uses, and stops on drop.

use base64::Engine as _;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What happens to one whole request.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestFault {
    /// Processed normally (entries may still fail at `entry_failure_rate`).
    None,
    /// HTTP 400 with this error type, e.g. `ProvisionedThroughputExceededException` or
    /// `ThrottlingException`; nothing accepted.
    Throttle(&'static str),
    /// This 5xx status with `InternalFailure` / `ServiceUnavailable`; nothing accepted.
    ServerError(u16),
    /// HTTP 400 with a non-retryable error type, e.g. `ResourceNotFoundException`.
    ClientError(&'static str),
    /// The entries are accepted (and recorded), then the response is delayed by this long: what a
    /// client that times out sees as a failure although the data landed.
    Slow(Duration),
    /// The connection is reset (RST) when the request arrives, before it is read; nothing accepted.
    Reset,
}

/// How the server misbehaves.
#[derive(Debug, Clone)]
pub struct FaultConfig {
    /// Seed of the entry-failure randomness.
    pub seed: u64,
    /// Probability that an entry of a processed request fails (0.0 – 1.0).
    pub entry_failure_rate: f64,
    /// The error code of those failures; None alternates `ProvisionedThroughputExceededException` and
    /// `InternalFailure` (both retryable).
    pub entry_failure_code: Option<&'static str>,
    /// Faults for the first requests, by request number (0-based).
    pub request_faults: Vec<RequestFault>,
    /// Fault for every later request.
    pub default_fault: RequestFault,
    /// Delay before every response.
    pub latency: Duration,
    /// Write limit per partition key, if any.
    pub key_limit: Option<KeyLimit>,
}

/// A write limit per partition key and second (Kinesis: 1,048,576 bytes or 1,000 records per shard;
/// a test may scale it down).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyLimit {
    /// Bytes (data + partition key) per key per second.
    pub bytes_per_second: usize,
    /// Records per key per second.
    pub records_per_second: usize,
}

impl KeyLimit {
    /// Kinesis's own per-shard write limit.
    pub const SHARD: KeyLimit = KeyLimit {
        bytes_per_second: 1 << 20,
        records_per_second: 1000,
    };
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            seed: 42,
            entry_failure_rate: 0.0,
            entry_failure_code: None,
            request_faults: Vec::new(),
            default_fault: RequestFault::None,
            latency: Duration::ZERO,
            key_limit: None,
        }
    }
}

/// One accepted entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// Its partition key.
    pub partition_key: String,
    /// Its data (base64-decoded).
    pub data: Vec<u8>,
}

/// Use of one key's limit in the current one-second window.
#[derive(Debug)]
struct Window {
    start: Instant,
    bytes: usize,
    records: usize,
}

#[derive(Debug, Default)]
struct State {
    accepted: Vec<Accepted>,
    requests: usize,
    entries_seen: usize,
    entries_failed: usize,
    entries_throttled: usize,
    /// The entries' data of every processed PutRecords request, in request and entry order.
    received: Vec<Vec<Vec<u8>>>,
    rng_calls: u64,
    windows: HashMap<String, Window>,
}

/// A running fault server; stops when dropped.
pub struct FaultKinesis {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FaultKinesis {
    /// Starts a server on a free loopback port.
    pub fn start(config: FaultConfig) -> FaultKinesis {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let config = Arc::new(config);
        let thread = {
            let (state, stop) = (state.clone(), stop.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (state, config, stop) = (state.clone(), config.clone(), stop.clone());
                    std::thread::spawn(move || serve(conn, &state, &config, &stop));
                }
            })
        };
        FaultKinesis {
            addr,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// The endpoint URL for the SDK (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every accepted entry, in acceptance order.
    pub fn accepted(&self) -> Vec<Accepted> {
        self.state.lock().unwrap().accepted.clone()
    }

    /// Requests received (including faulted ones).
    pub fn requests(&self) -> usize {
        self.state.lock().unwrap().requests
    }

    /// Entries received in processed requests, and how many of them were failed on purpose.
    pub fn entries(&self) -> (usize, usize) {
        let s = self.state.lock().unwrap();
        (s.entries_seen, s.entries_failed)
    }

    /// The entries' data of every processed PutRecords request (faulted requests are not read), in
    /// the order the requests arrived and the entries stood in each.
    pub fn received(&self) -> Vec<Vec<Vec<u8>>> {
        self.state.lock().unwrap().received.clone()
    }

    /// Entries failed because their key was over [`FaultConfig::key_limit`].
    pub fn throttled(&self) -> usize {
        self.state.lock().unwrap().entries_throttled
    }
}

impl Drop for FaultKinesis {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// splitmix64: a tiny seeded generator, so the failure pattern depends only on the seed and the
/// order of entries.
fn splitmix(seed: u64, n: u64) -> u64 {
    let mut z = seed.wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Request {
    target: String,
    body: Vec<u8>,
}

/// Reads the request line and headers; returns (target header, content length), None at EOF.
fn read_head(reader: &mut BufReader<TcpStream>) -> Option<(String, usize)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut target = String::new();
    let mut len = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("x-amz-target") {
                target = v.to_owned();
            } else if k.eq_ignore_ascii_case("content-length") {
                len = v.parse().ok()?;
            }
        }
    }
    Some((target, len))
}

fn respond(stream: &mut TcpStream, status: u16, body: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nx-amzn-RequestId: fault-kinesis\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}

fn error_body(code: &str, message: &str) -> String {
    serde_json::json!({ "__type": code, "message": message }).to_string()
}

fn serve(stream: TcpStream, state: &Mutex<State>, config: &FaultConfig, stop: &AtomicBool) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while !stop.load(Ordering::SeqCst) {
        // Wait for the next request without consuming it, so that a reset leaves it unread.
        if reader.buffer().is_empty() && !matches!(reader.get_ref().peek(&mut [0u8; 1]), Ok(1..)) {
            return;
        }
        let request_no = {
            let mut s = state.lock().unwrap();
            s.requests += 1;
            s.requests - 1
        };
        let fault = config
            .request_faults
            .get(request_no)
            .unwrap_or(&config.default_fault)
            .clone();
        if fault == RequestFault::Reset {
            // Closing a socket with unread received data makes the kernel send RST.
            drop(reader);
            drop(writer);
            return;
        }
        let Some((target, len)) = read_head(&mut reader) else {
            return;
        };
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let req = Request { target, body };
        if !config.latency.is_zero() {
            std::thread::sleep(config.latency);
        }
        match fault {
            RequestFault::Throttle(code) => {
                respond(
                    &mut writer,
                    400,
                    &error_body(code, "Rate exceeded for stream"),
                );
                continue;
            }
            RequestFault::ClientError(code) => {
                respond(&mut writer, 400, &error_body(code, "injected client error"));
                continue;
            }
            RequestFault::ServerError(status) => {
                let code = if status == 503 {
                    "ServiceUnavailable"
                } else {
                    "InternalFailure"
                };
                respond(
                    &mut writer,
                    status,
                    &error_body(code, "injected server error"),
                );
                continue;
            }
            _ => {}
        }
        let (status, body) = put_records(&req, state, config);
        if let RequestFault::Slow(d) = fault {
            std::thread::sleep(d);
        }
        respond(&mut writer, status, &body);
    }
}

fn put_records(req: &Request, state: &Mutex<State>, config: &FaultConfig) -> (u16, String) {
    if req.target != "Kinesis_20131202.PutRecords" {
        return (
            400,
            error_body(
                "UnknownOperationException",
                &format!("fault server only serves PutRecords, got {:?}", req.target),
            ),
        );
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&req.body) else {
        return (
            400,
            error_body("SerializationException", "body is not JSON"),
        );
    };
    let Some(records) = json["Records"].as_array() else {
        return (400, error_body("ValidationException", "Records missing"));
    };
    if json["StreamARN"].as_str().is_none() && json["StreamName"].as_str().is_none() {
        return (
            400,
            error_body("ValidationException", "StreamARN or StreamName missing"),
        );
    }
    let mut s = state.lock().unwrap();
    s.received.push(Vec::with_capacity(records.len()));
    let mut results = Vec::with_capacity(records.len());
    let mut failed = 0;
    for r in records {
        let data = r["Data"]
            .as_str()
            .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok());
        let key = r["PartitionKey"].as_str();
        let (Some(data), Some(key)) = (data, key) else {
            return (
                400,
                error_body("ValidationException", "entry without Data or PartitionKey"),
            );
        };
        s.entries_seen += 1;
        if let Some(request) = s.received.last_mut() {
            request.push(data.clone());
        }
        s.rng_calls += 1;
        let roll = (splitmix(config.seed, s.rng_calls) >> 11) as f64 / (1u64 << 53) as f64;
        if let Some(limit) = config.key_limit {
            let now = Instant::now();
            let size = data.len() + key.len();
            let over = {
                let w = s.windows.entry(key.to_owned()).or_insert(Window {
                    start: now,
                    bytes: 0,
                    records: 0,
                });
                if now.duration_since(w.start) >= Duration::from_secs(1) {
                    *w = Window {
                        start: now,
                        bytes: 0,
                        records: 0,
                    };
                }
                if w.bytes + size > limit.bytes_per_second
                    || w.records + 1 > limit.records_per_second
                {
                    Some((w.bytes, w.records))
                } else {
                    w.bytes += size;
                    w.records += 1;
                    None
                }
            };
            if let Some((bytes, records)) = over {
                failed += 1;
                s.entries_throttled += 1;
                results.push(serde_json::json!({
                    "ErrorCode": "ProvisionedThroughputExceededException",
                    "ErrorMessage": format!(
                        "Rate exceeded for shard of partition key {key:?}: {bytes} bytes and {records} records in this second"
                    ),
                }));
                continue;
            }
        }
        if roll < config.entry_failure_rate {
            failed += 1;
            s.entries_failed += 1;
            let code = if let Some(code) = config.entry_failure_code {
                code
            } else if s.rng_calls.is_multiple_of(2) {
                "ProvisionedThroughputExceededException"
            } else {
                "InternalFailure"
            };
            results.push(
                serde_json::json!({ "ErrorCode": code, "ErrorMessage": "injected entry failure" }),
            );
        } else {
            let seq = s.accepted.len();
            s.accepted.push(Accepted {
                partition_key: key.to_owned(),
                data,
            });
            results.push(serde_json::json!({
                "SequenceNumber": format!("{:056}", seq),
                "ShardId": "shardId-000000000000"
            }));
        }
    }
    let body = serde_json::json!({ "FailedRecordCount": failed, "Records": results });
    (200, body.to_string())
}
