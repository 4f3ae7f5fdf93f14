//! Many relays at once against the fault-injecting Kinesis endpoint with Kinesis's per-key write
//! limit (scaled down) and a response latency: every event ends up accepted by the endpoint or in
//! the failure queue of a payload whose invocations failed with counts, never silently lost; every
//! invocation returns by its deadline; the time to drain is printed, not asserted.
//!
//! Each relay is one Lambda execution environment: its own pipeline, decoder and SDK client,
//! handling its payloads one after the other. A failed invocation is tried again twice, as Lambda
//! does for an asynchronous invocation (without Lambda's 1 and 2 minute waits), and a payload that
//! fails all three times is counted as parked in the failure queue.
//!
//! `load_at_the_size_given_by_the_environment` (ignored) is the full-size run of `bench/load`.

use crate::common;

use common::fault_kinesis::{FaultConfig, FaultKinesis, KeyLimit};
use logrelay::config::Config;
use logrelay::forward::{ForwardError, KinesisSink};
use logrelay::metrics::NullMetricSink;
use logrelay::pipeline::{EventsRegion, Pipeline, Relay, RelayError};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ARN: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/central";
/// Attempts per payload: the first invocation and Lambda's two retries.
const ATTEMPTS: usize = 3;

/// The size and shape of one load run.
#[derive(Debug, Clone)]
struct Load {
    relays: usize,
    payloads_per_relay: usize,
    events_per_payload: usize,
    /// Log streams the payloads come from (one partition key each with `stream` keys).
    streams: usize,
    key_limit: KeyLimit,
    latency: Duration,
    deadline: Duration,
    format: &'static str,
    partition_key: &'static str,
    max_record_bytes: usize,
}

/// What a run did.
#[derive(Debug, Default)]
struct Outcome {
    events: usize,
    invocations: usize,
    failed_invocations: usize,
    parked_payloads: usize,
    /// Records the relays reported delivered, over every invocation (a retried payload's records
    /// delivered by a failed attempt count again when the retry delivers them again).
    delivered: usize,
    undelivered: usize,
    retried_entries: usize,
    late: Vec<Duration>,
    durations: Vec<Duration>,
    drain: Duration,
    accepted: usize,
    throttled: usize,
    requests: usize,
    missing_events: Vec<String>,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
        })
        .unwrap_or(default)
}

/// The payloads of one relay: `(event ids, Lambda event JSON)`, ids unique over the run.
fn payloads(load: &Load, relay: usize) -> Vec<(Vec<String>, String)> {
    (0..load.payloads_per_relay)
        .map(|p| {
            let n = relay * load.payloads_per_relay + p;
            let events: Vec<common::FixtureEvent> = common::events(load.events_per_payload)
                .into_iter()
                .enumerate()
                .map(|(i, (_, ts, m))| {
                    let id =
                        38_000_000_000_000_000_000_000u128 + (n as u128) * 1_000_000 + i as u128;
                    (format!("\"{id}\""), ts, m)
                })
                .collect();
            let ids = events
                .iter()
                .map(|(id, _, _)| id.trim_matches('"').to_owned())
                .collect();
            let stream = format!("2026/12/01/[$LATEST]stream{:03}", n % load.streams);
            let json = common::payload_json("123456789012", "/ecs/orders", &stream, &events);
            (ids, common::lambda_event(&common::gzip(json.as_bytes())))
        })
        .collect()
}

fn relay_config(load: &Load) -> Config {
    let vars: HashMap<&str, String> = HashMap::from([
        ("LOGRELAY_KINESIS_STREAM_ARN", ARN.to_owned()),
        ("LOGRELAY_FORWARD_FORMAT", load.format.to_owned()),
        ("LOGRELAY_PARTITION_KEY", load.partition_key.to_owned()),
        ("LOGRELAY_METRICS", "off".to_owned()),
        (
            "LOGRELAY_KINESIS_MAX_RECORD_BYTES",
            load.max_record_bytes.to_string(),
        ),
    ]);
    Config::from_lookup(|k| vars.get(k).cloned()).expect("valid load-test configuration")
}

/// The event ids in the records the endpoint accepted.
fn accepted_ids(server: &FaultKinesis, format: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    let mut decoder = logrelay::payload::Decoder::default();
    for a in server.accepted() {
        if format == "ndjson" {
            for line in a.data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let v: serde_json::Value = serde_json::from_slice(line).expect("ndjson line");
                ids.insert(v["id"].as_str().expect("string id").to_owned());
            }
        } else {
            let d = decoder.decode_gzip(&a.data).expect("cwl record");
            ids.extend(d.data.log_events.iter().map(|e| e.id.to_string()));
        }
    }
    ids
}

async fn run(load: &Load) -> Outcome {
    let server = FaultKinesis::start(FaultConfig {
        latency: load.latency,
        key_limit: Some(load.key_limit),
        ..FaultConfig::default()
    });
    let sdk = common::moto::sdk_config(&server.endpoint()).await;
    let config = Arc::new(relay_config(load));
    // Relays and payloads are made before the clock starts: the time to drain is the relays' alone.
    let relays: Vec<_> = (0..load.relays)
        .map(|r| {
            let pipeline = Pipeline::new(
                config.clone(),
                Some("us-east-1".into()),
                EventsRegion::Known("us-east-1".into()),
            )
            .expect("pipeline");
            let sink = KinesisSink::new(aws_sdk_kinesis::Client::new(&sdk), ARN)
                .with_limits(config.batch_limits);
            (
                Relay::new(pipeline, Some(sink), NullMetricSink),
                payloads(load, r),
            )
        })
        .collect();
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (relay, work) in relays {
        let deadline_after = load.deadline;
        tasks.spawn(async move {
            let mut out = Outcome::default();
            let mut all_ids = Vec::new();
            let mut parked = Vec::new();
            for (ids, event) in work {
                out.events += ids.len();
                let mut delivered_once = false;
                for _ in 0..ATTEMPTS {
                    let t = Instant::now();
                    let deadline = t + deadline_after;
                    let result = relay.handle_event(event.as_bytes(), Some(deadline)).await;
                    let returned = Instant::now();
                    out.invocations += 1;
                    out.durations.push(returned - t);
                    if returned > deadline {
                        out.late.push(returned - deadline);
                    }
                    match result {
                        Ok(report) => {
                            let sent = report.sent.expect("records were sent");
                            out.delivered += sent.records;
                            out.retried_entries += sent.retried_entries;
                            delivered_once = true;
                            break;
                        }
                        Err(RelayError::Forward(ForwardError::Incomplete {
                            delivered,
                            undelivered,
                            ..
                        })) => {
                            assert!(undelivered > 0, "an incomplete send names what is missing");
                            out.failed_invocations += 1;
                            out.delivered += delivered;
                            out.undelivered += undelivered;
                        }
                        Err(e) => panic!("unexpected relay error: {e}"),
                    }
                }
                if delivered_once {
                    all_ids.push(ids);
                } else {
                    parked.push(ids);
                }
            }
            out.parked_payloads = parked.len();
            (out, all_ids)
        });
    }
    let mut total = Outcome::default();
    let mut must_have = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (o, ids) = joined.expect("relay task");
        total.events += o.events;
        total.invocations += o.invocations;
        total.failed_invocations += o.failed_invocations;
        total.parked_payloads += o.parked_payloads;
        total.delivered += o.delivered;
        total.undelivered += o.undelivered;
        total.retried_entries += o.retried_entries;
        total.late.extend(o.late);
        total.durations.extend(o.durations);
        must_have.extend(ids);
    }
    total.drain = start.elapsed();
    total.accepted = server.accepted().len();
    total.throttled = server.throttled();
    total.requests = server.requests();
    let accepted = accepted_ids(&server, load.format);
    total.missing_events = must_have
        .into_iter()
        .flatten()
        .filter(|id| !accepted.contains(id))
        .collect();
    total
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report(load: &Load, o: &Outcome) -> String {
    let mut d = o.durations.clone();
    d.sort();
    serde_json::json!({
        "relays": load.relays,
        "payloads": load.relays * load.payloads_per_relay,
        "events": o.events,
        "format": load.format,
        "partition_key": load.partition_key,
        "streams": load.streams,
        "key_limit_bytes_per_s": load.key_limit.bytes_per_second,
        "key_limit_records_per_s": load.key_limit.records_per_second,
        "latency_ms": load.latency.as_millis() as u64,
        "deadline_ms": load.deadline.as_millis() as u64,
        "drain_ms": o.drain.as_millis() as u64,
        "invocations": o.invocations,
        "failed_invocations": o.failed_invocations,
        "parked_payloads": o.parked_payloads,
        "put_records_requests": o.requests,
        "records_accepted": o.accepted,
        "records_reported_delivered": o.delivered,
        "entries_throttled": o.throttled,
        "entries_retried": o.retried_entries,
        "invocation_ms_p50": percentile(&d, 0.5).as_millis() as u64,
        "invocation_ms_p99": percentile(&d, 0.99).as_millis() as u64,
        "invocation_ms_max": d.last().copied().unwrap_or_default().as_millis() as u64,
    })
    .to_string()
}

/// The checks of every run: nothing lost, nothing reported delivered that did not land, no
/// invocation late.
fn check(o: &Outcome) {
    assert!(
        o.missing_events.is_empty(),
        "{} events of delivered payloads never reached the endpoint, e.g. {:?}",
        o.missing_events.len(),
        &o.missing_events[..o.missing_events.len().min(5)]
    );
    // Every record reported delivered was accepted by the endpoint (the reverse would be a
    // phantom). A record the endpoint accepted while its attempt was cut off by the deadline is
    // reported undelivered, so accepted records beyond the delivered ones come only from failed
    // invocations, at most as many as they reported undelivered (each such record is sent again:
    // a duplicate, never a loss); without a failed invocation the two counts are equal.
    assert!(
        o.delivered <= o.accepted,
        "{} records reported delivered, but the endpoint accepted only {}",
        o.delivered,
        o.accepted
    );
    assert!(
        o.accepted - o.delivered <= o.undelivered,
        "the endpoint accepted {} records, {} more than reported delivered, but only {} were \
         reported undelivered",
        o.accepted,
        o.accepted - o.delivered,
        o.undelivered
    );
    if o.failed_invocations == 0 {
        assert_eq!(o.accepted, o.delivered, "no invocation failed");
    }
    assert!(
        o.late.is_empty(),
        "{} invocations returned after their deadline, by up to {:?}",
        o.late.len(),
        o.late.iter().max()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_relays_lose_nothing_under_per_key_throttling() {
    let load = Load {
        relays: 64,
        payloads_per_relay: 2,
        events_per_payload: 100,
        // Eight hot streams, eight relays' payloads each, against a per-key limit scaled down
        // 8× from Kinesis's: the endpoint throttles, the relays retry.
        streams: 8,
        key_limit: KeyLimit {
            bytes_per_second: 128 * 1024,
            records_per_second: 125,
        },
        latency: Duration::from_millis(5),
        deadline: Duration::from_secs(4),
        format: "ndjson",
        partition_key: "stream",
        max_record_bytes: 8 * 1024,
    };
    let o = run(&load).await;
    println!("{}", report(&load, &o));
    check(&o);
    assert_eq!(o.events, 64 * 2 * 100);
    assert!(o.throttled > 0, "the per-key limit must bind in this test");
    assert!(o.retried_entries > 0 || o.failed_invocations > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_id_keys_spread_one_hot_stream() {
    // One log stream only: with `stream` keys every record of the run goes to one key; with
    // `event-id` keys they spread and the same load is throttled less.
    let base = Load {
        relays: 16,
        payloads_per_relay: 1,
        events_per_payload: 100,
        streams: 1,
        key_limit: KeyLimit {
            bytes_per_second: 64 * 1024,
            records_per_second: 60,
        },
        latency: Duration::from_millis(2),
        deadline: Duration::from_secs(3),
        format: "ndjson",
        partition_key: "stream",
        max_record_bytes: 8 * 1024,
    };
    let by_stream = run(&base).await;
    println!("{}", report(&base, &by_stream));
    check(&by_stream);
    let spread = Load {
        partition_key: "event-id",
        ..base
    };
    let by_event = run(&spread).await;
    println!("{}", report(&spread, &by_event));
    check(&by_event);
    assert!(
        by_event.throttled < by_stream.throttled,
        "event-id keys: {} throttled entries, stream keys: {}",
        by_event.throttled,
        by_stream.throttled
    );
}

/// The full-size run: `bench/load` sets `LOAD_*` and reads the JSON line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "full size; run by bench/load"]
async fn load_at_the_size_given_by_the_environment() {
    let format = match std::env::var("LOAD_FORMAT").as_deref() {
        Ok("cwl") => "cwl",
        _ => "ndjson",
    };
    let partition_key = match std::env::var("LOAD_PARTITION_KEY").as_deref() {
        Ok("event-id") => "event-id",
        _ => "stream",
    };
    let load = Load {
        relays: env_usize("LOAD_RELAYS", 64),
        payloads_per_relay: env_usize("LOAD_PAYLOADS_PER_RELAY", 10),
        events_per_payload: env_usize("LOAD_EVENTS_PER_PAYLOAD", 500),
        streams: env_usize("LOAD_STREAMS", 64),
        key_limit: KeyLimit {
            bytes_per_second: env_usize("LOAD_KEY_BYTES_PER_S", KeyLimit::SHARD.bytes_per_second),
            records_per_second: env_usize(
                "LOAD_KEY_RECORDS_PER_S",
                KeyLimit::SHARD.records_per_second,
            ),
        },
        latency: Duration::from_millis(env_usize("LOAD_LATENCY_MS", 20) as u64),
        deadline: Duration::from_millis(env_usize("LOAD_DEADLINE_MS", 60_000) as u64),
        format,
        partition_key,
        max_record_bytes: env_usize("LOAD_MAX_RECORD_BYTES", 1 << 20),
    };
    let o = run(&load).await;
    println!("LOAD_RESULT {}", report(&load, &o));
    check(&o);
}
