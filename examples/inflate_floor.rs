//! The inflate floor: the least work any CloudWatch Logs subscription Lambda must do per payload.
//!
//! For each Lambda event file (`{"awslogs":{"data":"<base64 gzip>"}}`) it parses the event JSON,
//! base64-decodes `awslogs.data` and inflates every gzip member with flate2 (zlib-rs backend), on
//! one thread, and nothing else: the decompressed payload JSON is counted, never parsed. A
//! forwarder that decodes payloads cannot be faster than this, so `bench/run` reports logrelay's
//! throughput as a fraction of it.
//!
//! Usage: `inflate_floor [--repeat N] EVENT_FILE...`
//!
//! Prints one JSON line on stdout:
//! `{"payloads":N,"event_file_bytes":N,"compressed_bytes":N,"uncompressed_bytes":N,"seconds":F}`
//! where `uncompressed_bytes` is the total size of the decompressed payload JSON documents and
//! `seconds` the time spent in the loop (reading files included). With `--repeat N` the whole file
//! list is processed N times and the counts are those of one pass.

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
}

/// Buffers reused across payloads, as a warm Lambda would.
#[derive(Default)]
struct Buffers {
    event: Vec<u8>,
    compressed: Vec<u8>,
    inflated: Vec<u8>,
}

fn process(path: &Path, buffers: &mut Buffers, totals: &mut Totals) -> Result<(), FloorError> {
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
    Ok(())
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

fn parse_args() -> Result<(u32, Vec<PathBuf>), String> {
    let mut repeat = 1u32;
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
        } else {
            files.push(PathBuf::from(arg));
        }
    }
    if files.is_empty() {
        return Err("usage: inflate_floor [--repeat N] EVENT_FILE...".to_string());
    }
    Ok((repeat, files))
}

fn run() -> Result<(), Box<dyn Error>> {
    let (repeat, files) = parse_args()?;
    let mut buffers = Buffers::default();
    let mut first: Option<Totals> = None;
    let started = Instant::now();
    for _ in 0..repeat {
        let mut totals = Totals::default();
        for path in &files {
            process(path, &mut buffers, &mut totals)?;
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
    println!(
        "{{\"payloads\":{},\"event_file_bytes\":{},\"compressed_bytes\":{},\"uncompressed_bytes\":{},\"seconds\":{:.6}}}",
        totals.payloads,
        totals.event_file_bytes,
        totals.compressed_bytes,
        totals.uncompressed_bytes,
        seconds
    );
    Ok(())
}

/// The allocator settings logrelay's `main` makes (blocks up to 64 MiB from the heap, freed memory
/// kept), so that the two programs differ only in what they do with each payload. They matter here
/// too: by default each large buffer (128 KiB or more) is a mapping of its own whose data start 16
/// bytes into a page, and the kernel copied the event files into such a buffer at under a third of the
/// speed it copies them into a heap buffer (9 ms more for the 10k set, bench/NOTES.md entry 22).
fn allocator_settings() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called first thing in main, before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 * 1024 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 256 * 1024 * 1024);
    }
}

fn main() -> ExitCode {
    allocator_settings();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("inflate_floor: {error}");
            ExitCode::FAILURE
        }
    }
}
