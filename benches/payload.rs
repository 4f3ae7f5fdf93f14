//! Payload decoding and record encoding: decode a ~500-event and a 10,000-event payload, cwl
//! pass-through, cwl re-encode (half the events selected), ndjson encode; and, as a peer, the same
//! Lambda events decoded by `aws_lambda_events`. Each case checks its result once before it is timed.

use base64::Engine as _;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use logrelay::forward::{BatchLimits, Encoder, Format};
use logrelay::payload::Decoder;
use std::hint::black_box;
use std::io::Write;
use std::time::Duration;

fn payload_gzip(n: usize) -> Vec<u8> {
    let events: Vec<String> = (0..n)
        .map(|i| {
            let msg = match i % 4 {
                0 => format!("ERROR request {i} failed: timeout after 30s"),
                1 => format!("{{\"level\":\"info\",\"latency\":{},\"path\":\"/api/{i}\",\"user\":\"u{}\"}}", i * 7 % 1000, i % 97),
                2 => format!("[WARN] retrying upstream call #{i} (attempt {}) \"quoted\"", i % 5),
                _ => format!("INFO 10.0.{}.{} - - [01/Jan/2024:00:00:00 +0000] \"GET /index.html HTTP/1.1\" 200 {}", i % 256, i % 200, i * 13),
            };
            format!(
                r#"{{"id":"{}","timestamp":{},"message":{}}}"#,
                37_000_000_000_000_000_000_000u128 + i as u128,
                1_700_000_000_000u64 + i as u64,
                serde_json::to_string(&msg).unwrap()
            )
        })
        .collect();
    let json = format!(
        r#"{{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/ecs/web","logStream":"web/nginx/0123456789abcdef0123456789abcdef","subscriptionFilters":["to-central"],"logEvents":[{}]}}"#,
        events.join(",")
    );
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(json.as_bytes()).unwrap();
    e.finish().unwrap()
}

fn lambda_event(gz: &[u8]) -> Vec<u8> {
    format!(
        r#"{{"awslogs":{{"data":"{}"}}}}"#,
        base64::engine::general_purpose::STANDARD.encode(gz)
    )
    .into_bytes()
}

fn bench(c: &mut Criterion) {
    for n in [500usize, 10_000] {
        let gz = payload_gzip(n);
        let event = lambda_event(&gz);
        let mut decoder = Decoder::default();
        let decompressed = {
            let d = decoder.decode_event(&event).unwrap();
            assert_eq!(d.data.log_events.len(), n);
            assert_eq!(d.gzip, &gz[..]);
            d.decompressed_len
        };
        println!(
            "{n} events: {} bytes gzip, {} decompressed, {} bytes Lambda event",
            gz.len(),
            decompressed,
            event.len()
        );
        let mut g = c.benchmark_group(format!("decode_{n}_events"));
        g.throughput(Throughput::Bytes(decompressed as u64));
        g.bench_function("decode_event", |b| {
            b.iter(|| {
                decoder
                    .decode_event(black_box(&event))
                    .map(|d| d.data.log_events.len())
                    .unwrap()
            })
        });
        // Peer: aws_lambda_events (reader-based, owned strings) on the same Lambda event.
        let theirs: aws_lambda_events::event::cloudwatch_logs::LogsEvent =
            serde_json::from_slice(&event).unwrap();
        assert_eq!(theirs.aws_logs.data.log_events.len(), n);
        g.bench_function("aws_lambda_events_peer", |b| {
            b.iter(|| {
                serde_json::from_slice::<aws_lambda_events::event::cloudwatch_logs::LogsEvent>(
                    black_box(&event),
                )
                .map(|e| e.aws_logs.data.log_events.len())
                .unwrap()
            })
        });
        g.bench_function("decode_gzip", |b| {
            b.iter(|| {
                decoder
                    .decode_gzip(black_box(&gz))
                    .map(|d| d.data.log_events.len())
                    .unwrap()
            })
        });
        g.finish();
    }

    let gz = payload_gzip(500);
    let mut decoder = Decoder::default();
    let decoded = decoder.decode_gzip(&gz).unwrap();
    let n = decoded.data.log_events.len();
    let half: Vec<bool> = (0..n).map(|i| i % 2 == 0).collect();
    let mut g = c.benchmark_group("encode_500_events");
    g.throughput(Throughput::Elements(n as u64));

    let mut cwl = Encoder::new(Format::Cwl, BatchLimits::default()).unwrap();
    let mut out = Vec::new();
    cwl.encode(&decoded, None, None, &mut out).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].data, gz);
    g.bench_function("cwl_pass_through", |b| {
        b.iter(|| {
            out.clear();
            cwl.encode(black_box(&decoded), None, None, &mut out)
                .unwrap()
        })
    });

    out.clear();
    cwl.encode(&decoded, Some(&half), None, &mut out).unwrap();
    assert_eq!(out.iter().map(|r| r.events).sum::<usize>(), n / 2);
    let mut check = Decoder::default();
    assert_eq!(
        check.decode_gzip(&out[0].data).unwrap().data.log_events[1].id,
        decoded.data.log_events[2].id
    );
    g.bench_function("cwl_reencode_half", |b| {
        b.iter(|| {
            out.clear();
            cwl.encode(black_box(&decoded), Some(&half), None, &mut out)
                .unwrap()
        })
    });

    let mut nd = Encoder::new(Format::Ndjson, BatchLimits::default()).unwrap();
    out.clear();
    nd.encode(&decoded, None, Some("us-east-1"), &mut out)
        .unwrap();
    let lines: usize = out
        .iter()
        .map(|r| r.data.iter().filter(|&&b| b == b'\n').count())
        .sum();
    assert_eq!(lines, n);
    let first: serde_json::Value =
        serde_json::from_slice(out[0].data.split(|&b| b == b'\n').next().unwrap()).unwrap();
    assert_eq!(first["ecs"]["container"], "nginx");
    g.bench_function("ndjson", |b| {
        b.iter(|| {
            out.clear();
            nd.encode(black_box(&decoded), None, Some("us-east-1"), &mut out)
                .unwrap()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    targets = bench
}
criterion_main!(benches);
