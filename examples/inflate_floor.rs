//! The inflate floor: the least work any CloudWatch Logs subscription Lambda must do per payload.
//!
//! For each Lambda event file (`{"awslogs":{"data":"<base64 gzip>"}}`) it parses the event JSON,
//! base64-decodes `awslogs.data` and inflates every gzip member with flate2 (zlib-rs backend), on
//! one thread, and nothing else: the decompressed payload JSON is counted, never parsed. A
//! forwarder that decodes payloads cannot be faster than this, so `bench/run` reports logrelay's
//! throughput as a fraction of it.
//!
//! Usage: `inflate_floor [--repeat N] [--split-copy] EVENT_FILE...`
//!
//! Prints one JSON line on stdout:
//! `{"payloads":N,"event_file_bytes":N,"compressed_bytes":N,"uncompressed_bytes":N,"seconds":F}`
//! where `uncompressed_bytes` is the total size of the decompressed payload JSON documents and
//! `seconds` the time spent in the loop (reading files included). With `--repeat N` the whole file
//! list is processed N times and the counts are those of one pass.
//!
//! `--split-copy` adds the least work of the benchmark's `error-ndjson` job beyond inflating, for a
//! forwarder that could trust the layout CloudWatch Logs writes instead of parsing JSON: check the
//! document is UTF-8, cut it at each `{"id":` (which cannot occur inside a JSON string), search each
//! event's text for `ERROR`, and copy each event after the owner/group/stream prefix into ndjson
//! records of at most 1 MiB, held until the payload is done, as logrelay holds them until they are
//! sent. No escape, number or string end is looked at. It adds `"events"`, `"error_events"` and
//! `"line_bytes"` to the line (for canonical events, the bytes logrelay writes).

// The floor is raw inflate by definition: it builds the gzip decoder that clippy.toml reserves for
// logrelay's capped decoder (this program is a benchmark baseline, not product code).
#![allow(clippy::disallowed_types)]

use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use base64::Engine as _;
use flate2::{Decompress, FlushDecompress, Status};
use serde::Deserialize;

/// The Lambda event CloudWatch Logs sends.
#[derive(Deserialize)]
struct LambdaEvent<'a> {
    #[serde(borrow)]
    awslogs: AwsLogs<'a>,
}

/// The `awslogs` member of the event.
#[derive(Deserialize)]
struct AwsLogs<'a> {
    #[serde(borrow)]
    data: Cow<'a, str>,
}

/// What went wrong with which file.
#[derive(Debug)]
struct FloorError {
    path: PathBuf,
    what: &'static str,
    source: Box<dyn Error>,
}

impl fmt::Display for FloorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.path.display(), self.what, self.source)
    }
}

impl Error for FloorError {}

/// Totals of one pass over the files.
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
struct Totals {
    payloads: u64,
    event_file_bytes: u64,
    compressed_bytes: u64,
    uncompressed_bytes: u64,
    /// With `--split-copy`: events, events whose text holds `ERROR`, ndjson bytes written.
    events: u64,
    error_events: u64,
    line_bytes: u64,
}

/// Buffers reused across payloads, as a warm Lambda would.
#[derive(Default)]
struct Buffers {
    event: Vec<u8>,
    compressed: Vec<u8>,
    inflated: Vec<u8>,
}

fn process(
    path: &Path,
    split_copy: bool,
    buffers: &mut Buffers,
    totals: &mut Totals,
) -> Result<(), FloorError> {
    let fail = |what: &'static str| {
        move |source: Box<dyn Error>| FloorError {
            path: path.to_path_buf(),
            what,
            source,
        }
    };
    buffers.event.clear();
    std::fs::File::open(path)
        .and_then(|mut file| file.read_to_end(&mut buffers.event))
        .map_err(|e| fail("cannot read the event file")(e.into()))?;
    let event: LambdaEvent<'_> = serde_json::from_slice(&buffers.event)
        .map_err(|e| fail("not a CloudWatch Logs Lambda event (awslogs.data)")(e.into()))?;
    buffers.compressed.clear();
    base64::engine::general_purpose::STANDARD
        .decode_vec(event.awslogs.data.as_bytes(), &mut buffers.compressed)
        .map_err(|e| fail("awslogs.data is not valid base64")(e.into()))?;
    buffers.inflated.clear();
    inflate_all(&buffers.compressed, &mut buffers.inflated)
        .map_err(|e| fail("awslogs.data is not valid gzip")(e))?;
    totals.payloads += 1;
    totals.event_file_bytes += buffers.event.len() as u64;
    totals.compressed_bytes += buffers.compressed.len() as u64;
    totals.uncompressed_bytes += buffers.inflated.len() as u64;
    if split_copy {
        split_and_copy(&buffers.inflated, totals)
            .map_err(|e| fail("not a payload in CloudWatch Logs' layout")(e.into()))?;
    }
    Ok(())
}

/// The record limit of a Kinesis record.
const RECORD_BYTES: usize = 1024 * 1024;

/// `--split-copy` on one decompressed payload (see the module documentation).
fn split_and_copy(doc: &[u8], totals: &mut Totals) -> Result<(), &'static str> {
    use memchr::memmem;
    let text = std::str::from_utf8(doc).map_err(|_| "not UTF-8")?;
    if text.starts_with("{\"messageType\":\"CONTROL_MESSAGE\"") {
        return Ok(());
    }
    let b = text.as_bytes();
    // The names, as written (this bound takes none with escapes), and the line's prefix: the
    // document's own `"owner":…,"logStream":"…"` text.
    let owner = name(text, "owner")?;
    let group = name(text, "logGroup")?;
    let stream = name(text, "logStream")?;
    let from = memmem::find(b, b"\"owner\":").ok_or("no owner")?;
    let to = memmem::find(b, b",\"subscriptionFilters\":").ok_or("no subscriptionFilters")?;
    let mut prefix = b"{".to_vec();
    prefix.extend_from_slice(b.get(from..to).ok_or("members out of order")?);
    prefix.push(b',');
    // What logrelay appends to every line (its enrichment), then the closing brace.
    let mut suffix = Vec::new();
    logrelay::enrich::Enrichment::from_names(owner, group, stream, None)
        .write_json_members(&mut suffix);
    suffix.extend_from_slice(b"}\n");
    let events = memmem::find(b, b"\"logEvents\":[").ok_or("no logEvents")?;
    // The events array ends with `]}` (closing the array and the document).
    let body = b
        .get(events..b.len().saturating_sub(2))
        .ok_or("members out of order")?;
    let error = memmem::Finder::new(b"ERROR");
    let mut records: Vec<Vec<u8>> = Vec::new();
    let mut record = Vec::with_capacity(RECORD_BYTES);
    let mut starts = memmem::find_iter(body, b"{\"id\":").peekable();
    while let Some(start) = starts.next() {
        // `"id":…,"message":"…"`: the event without its braces and the comma that follows it.
        let stop = starts.peek().map_or(body.len(), |&next| next - 1);
        let members = body.get(start + 1..stop - 1).ok_or("empty event")?;
        totals.events += 1;
        if error.find(members).is_some() {
            totals.error_events += 1;
        }
        let line = prefix.len() + members.len() + suffix.len();
        if record.len() + line > RECORD_BYTES {
            records.push(std::mem::replace(
                &mut record,
                Vec::with_capacity(RECORD_BYTES),
            ));
        }
        record.extend_from_slice(&prefix);
        record.extend_from_slice(members);
        record.extend_from_slice(&suffix);
    }
    records.push(record);
    totals.line_bytes += records.iter().map(|r| r.len() as u64).sum::<u64>();
    Ok(())
}

/// The content of the first string member `key` of `text`, when it has no escapes.
fn name<'t>(text: &'t str, key: &str) -> Result<&'t str, &'static str> {
    let open = format!("\"{key}\":\"");
    let start = text.find(&open).ok_or("a name is missing")? + open.len();
    let len = text[start..].find('"').ok_or("a name is not closed")?;
    let value = &text[start..start + len];
    if value.contains('\\') {
        return Err("a name has escapes");
    }
    Ok(value)
}

/// Inflates every gzip member of `gzip` into `out`, straight into its spare capacity (no zeroing
/// of the buffer first, no intermediate reader): the cheapest way flate2 offers.
fn inflate_all(gzip: &[u8], out: &mut Vec<u8>) -> Result<(), Box<dyn Error>> {
    let mut at = 0;
    while at < gzip.len() {
        let mut inflater = Decompress::new_gzip(15);
        loop {
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(64 * 1024));
            }
            let (in_before, out_before) = (inflater.total_in(), out.len());
            let rest = &gzip[at + in_before as usize..];
            match inflater.decompress_vec(rest, out, FlushDecompress::None)? {
                Status::StreamEnd => break,
                _ if inflater.total_in() == in_before && out.len() == out_before => {
                    return Err("truncated gzip member".into())
                }
                _ => {}
            }
        }
        at += inflater.total_in() as usize;
    }
    Ok(())
}

fn parse_args() -> Result<(u32, bool, Vec<PathBuf>), String> {
    let mut repeat = 1u32;
    let mut split_copy = false;
    let mut files = Vec::new();
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--repeat" {
            let value = args
                .next()
                .ok_or_else(|| "--repeat needs a number".to_string())?;
            repeat = value
                .to_str()
                .and_then(|v| v.parse().ok())
                .filter(|&n| n >= 1)
                .ok_or_else(|| format!("--repeat: not a positive integer: {value:?}"))?;
        } else if arg == "--split-copy" {
            split_copy = true;
        } else {
            files.push(PathBuf::from(arg));
        }
    }
    if files.is_empty() {
        return Err("usage: inflate_floor [--repeat N] [--split-copy] EVENT_FILE...".to_string());
    }
    Ok((repeat, split_copy, files))
}

fn run() -> Result<(), Box<dyn Error>> {
    let (repeat, split_copy, files) = parse_args()?;
    let mut buffers = Buffers::default();
    let mut first: Option<Totals> = None;
    let started = Instant::now();
    for _ in 0..repeat {
        let mut totals = Totals::default();
        for path in &files {
            process(path, split_copy, &mut buffers, &mut totals)?;
        }
        match first {
            None => first = Some(totals),
            Some(seen) if seen != totals => {
                return Err(format!("pass totals differ: {seen:?} then {totals:?}").into())
            }
            Some(_) => {}
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let totals = first.unwrap_or_default();
    let split = if split_copy {
        format!(
            ",\"events\":{},\"error_events\":{},\"line_bytes\":{}",
            totals.events, totals.error_events, totals.line_bytes
        )
    } else {
        String::new()
    };
    println!(
        "{{\"payloads\":{},\"event_file_bytes\":{},\"compressed_bytes\":{},\"uncompressed_bytes\":{}{split},\"seconds\":{:.6}}}",
        totals.payloads,
        totals.event_file_bytes,
        totals.compressed_bytes,
        totals.uncompressed_bytes,
        seconds
    );
    Ok(())
}

fn main() -> ExitCode {
    // logrelay's allocator settings, so that the two programs differ only in what they do with each
    // payload. They matter here too: by default each large buffer (128 KiB or more) is a mapping of
    // its own whose data start 16 bytes into a page, and the kernel copied the event files into such
    // a buffer at under a third of the speed it copies them into a heap buffer (9 ms more for the
    // 10k set, bench/NOTES.md entry 22).
    // SAFETY: first thing in main, before any other thread exists.
    unsafe { logrelay::keep_freed_memory() };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("inflate_floor: {error}");
            ExitCode::FAILURE
        }
    }
}
