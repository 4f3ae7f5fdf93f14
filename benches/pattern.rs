//! Per-event cost of the pattern engine: one filter of each kind on ~200-byte messages, and
//! 1 / 10 / 100 filters (a realistic mix, most not matching) on the same events.
//! Every benchmark checks its result before it is timed.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use logrelay::pattern::{FilterSet, Pattern};
use std::hint::black_box;

const TEXT: &str = "2024-05-01T12:00:00.123Z 4f1c2a9e-7b7d-4c4e-9a51-0d1b2c3d4e5f ERROR [main] com.example.OrderService - Failed to process the request for order 12345: upstream timeout after 3000 ms";
const JSON: &str = r#"{"timestamp":"2024-05-01T12:00:00.123Z","level":"ERROR","service":"orders","requestId":"4f1c2a9e-7b7d","latency":3012,"status":504,"user":{"id":"u-17","tier":"gold"},"path":"/api/v1/orders/12345"}"#;
const ACCESS: &str = r#"10.0.12.34 - frank [10/Oct/2000:13:25:15 -0700] "GET /api/v1/orders/12345?expand=items&currency=EUR HTTP/1.1" 504 1534 "https://example.com/checkout" "Mozilla/5.0 (X11; Linux x86_64)""#;

fn count(set: &FilterSet, msg: &str) -> usize {
    let mut s = set.scratch();
    let mut n = 0;
    set.eval(msg, &mut s, |_, _| n += 1);
    n
}

fn single(c: &mut Criterion) {
    let cases = [
        ("term", "\"Failed to process\" ERROR -DEBUG", TEXT),
        ("json", "{ $.level = \"ERROR\" && $.latency > 1000 }", JSON),
        (
            "space_delimited",
            "[ip, ident, user, timestamp, request = *orders*, status = 5*, bytes > 1000, ...]",
            ACCESS,
        ),
        ("regex", r"%timeout after \d+ ms$%", TEXT),
    ];
    let mut g = c.benchmark_group("single_filter");
    for (name, pattern, msg) in cases {
        let set = FilterSet::new([Pattern::parse(pattern).unwrap()]);
        assert_eq!(count(&set, msg), 1, "{name} must match before it is timed");
        let mut scratch = set.scratch();
        g.throughput(Throughput::Bytes(msg.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut n = 0;
                set.eval(black_box(msg), &mut scratch, |_, _| n += 1);
                n
            })
        });
    }
    g.finish();
}

/// A realistic mix: mostly term filters for other errors, some JSON and space-delimited filters
/// on other fields, a few regexes; filter 0 matches every message below.
fn mix(n: usize) -> Vec<Pattern> {
    let mut v = vec![Pattern::parse("?ERROR ?FATAL").unwrap()];
    let mut i = 0;
    while v.len() < n {
        let p = match i % 10 {
            0..=4 => format!("\"code E{i:04}\" -DEBUG"),
            5 => format!("?PANIC{i} ?\"out of memory {i}\""),
            6 => format!("{{ $.service = \"billing-{i}\" && $.status >= 500 }}"),
            7 => format!("{{ $.user.tier = \"platinum{i}\" || $.path = \"/admin/{i}*\" }}"),
            8 => format!("[ip, ident, user, timestamp, request = *admin{i}*, status, bytes, ...]"),
            _ => format!("%upstream-{i}-[a-z]+%"),
        };
        v.push(Pattern::parse(&p).unwrap());
        i += 1;
    }
    v
}

fn many(c: &mut Criterion) {
    let mut g = c.benchmark_group("filter_set");
    for n in [1, 10, 100] {
        let set = FilterSet::new(mix(n));
        assert_eq!(set.len(), n);
        for (name, msg) in [("text", TEXT), ("json", JSON), ("access", ACCESS)] {
            let expect = usize::from(name != "access");
            assert_eq!(count(&set, msg), expect, "{n} filters on {name}");
            let mut scratch = set.scratch();
            g.bench_function(format!("{n}_filters/{name}"), |b| {
                b.iter(|| {
                    let mut k = 0;
                    set.eval(black_box(msg), &mut scratch, |_, _| k += 1);
                    k
                })
            });
        }
    }
    g.finish();
}

fn parse(c: &mut Criterion) {
    let src =
        "{ ($.level = \"ERROR\" || $.level = \"FATAL\") && $.latency > 1000 && $.user.id = u-* }";
    assert!(Pattern::parse(src).is_ok());
    c.bench_function("parse/json", |b| b.iter(|| Pattern::parse(black_box(src))));
    // Regexes are compiled when a pattern is parsed (their errors have columns): start-up cost.
    let src = "%ERROR [0-9]{3}: time[a-z]+ after [0-9]+ ?ms|refused|reset by peer%";
    assert!(Pattern::parse(src).is_ok());
    c.bench_function("parse/regex", |b| b.iter(|| Pattern::parse(black_box(src))));
}

criterion_group!(benches, single, many, parse);
criterion_main!(benches);
