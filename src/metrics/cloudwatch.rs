//! CloudWatch `PutMetricData`: one invocation's metrics in as few requests as the API allows.
//!
//! Limits (CloudWatch API reference, `PutMetricData`): at most [`MAX_DATUMS_PER_REQUEST`] metric datums and
//! [`MAX_REQUEST_BYTES`] per request, at most [`MAX_VALUES_PER_DATUM`] distinct values per datum
//! (`Values`/`Counts`), one namespace per request, timestamps no older than two weeks and no more than two
//! hours ahead. A metric with more distinct values than fit one datum is sent as several datums with the same
//! name, dimensions and timestamp; CloudWatch aggregates them.

use super::{EmitReport, MetricBatch, MetricKey, MetricSink, MetricsError, ValueCounts};
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use aws_smithy_types::DateTime;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Datums per `PutMetricData` request (API reference: "up to 1000 different metrics").
pub const MAX_DATUMS_PER_REQUEST: usize = 1000;
/// Distinct values per datum (API reference, `MetricDatum.Values`: "up to 150").
pub const MAX_VALUES_PER_DATUM: usize = 150;
/// Request size (API reference: "Each PutMetricData request is limited to 1 MB").
pub const MAX_REQUEST_BYTES: usize = 1_000_000;
/// Oldest accepted timestamp (API reference, `MetricDatum.Timestamp`: "up to two weeks before").
pub const MAX_AGE_MS: i64 = 14 * 24 * 3_600_000;
/// Latest accepted timestamp ("up to two hours after the current date").
pub const MAX_AHEAD_MS: i64 = 2 * 3_600_000;
/// Time kept in hand before the deadline when starting a request.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(300);

/// Sends metrics with `PutMetricData`.
#[derive(Debug, Clone)]
pub struct CloudWatchSink {
    client: aws_sdk_cloudwatch::Client,
    /// PutMetricData calls made, failed ones included, over the sink's life (shared by its clones).
    calls: Arc<AtomicUsize>,
}

impl CloudWatchSink {
    /// A sink over a client built once at start-up.
    pub fn new(client: aws_sdk_cloudwatch::Client) -> Self {
        CloudWatchSink {
            client,
            calls: Arc::default(),
        }
    }

    /// PutMetricData calls made by this sink (and its clones) so far, every call counted whether it
    /// succeeded or not (an [`EmitReport`] is lost when emitting fails).
    pub fn calls_made(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }
}

/// One request's worth of datums for one namespace.
#[derive(Debug, Default, PartialEq)]
pub struct RequestPlan {
    /// The namespace.
    pub namespace: String,
    /// The datums.
    pub datums: Vec<MetricDatum>,
}

/// Whether CloudWatch accepts a datapoint timestamped `ms` at `now_ms`.
pub fn timestamp_accepted(ms: i64, now_ms: i64) -> bool {
    ms >= now_ms - MAX_AGE_MS && ms <= now_ms + MAX_AHEAD_MS
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A conservative estimate of a datum's size in the Query-protocol request body.
fn estimated_bytes(key: &MetricKey, values: usize) -> usize {
    // Parameter names such as `MetricData.member.1000.Values.member.150=` plus a value: ~60 bytes; strings
    // may triple when URL-encoded.
    let dims: usize = key
        .dimensions
        .iter()
        .map(|(n, v)| 80 + 3 * (n.len() + v.len()))
        .sum();
    200 + 3 * key.name.len() + dims + values * 2 * 60
}

fn datum(key: &MetricKey, chunk: &[(f64, u64)]) -> MetricDatum {
    let dimensions: Vec<Dimension> = key
        .dimensions
        .iter()
        .map(|(n, v)| Dimension::builder().name(n.as_ref()).value(v).build())
        .collect();
    MetricDatum::builder()
        .metric_name(key.name.as_ref())
        .set_dimensions((!dimensions.is_empty()).then_some(dimensions))
        .timestamp(DateTime::from_millis(key.minute_ms))
        .set_values(Some(chunk.iter().map(|(v, _)| *v).collect()))
        .set_counts(Some(chunk.iter().map(|(_, c)| *c as f64).collect()))
        .set_unit(key.unit.as_deref().map(StandardUnit::from))
        .build()
}

/// Splits a batch into requests within the API limits. Datapoints CloudWatch would reject for their
/// timestamp are returned apart, so the caller can log them.
pub fn plan(batch: &MetricBatch, now_ms: i64) -> (Vec<RequestPlan>, Vec<(MetricKey, ValueCounts)>) {
    let mut requests: Vec<RequestPlan> = Vec::new();
    let mut rejected = Vec::new();
    let mut bytes = 0usize;
    for (key, values) in batch.sorted() {
        if !timestamp_accepted(key.minute_ms, now_ms) {
            rejected.push((key.clone(), values.clone()));
            continue;
        }
        for chunk in values.entries().chunks(MAX_VALUES_PER_DATUM) {
            let size = estimated_bytes(key, chunk.len());
            let start_new = match requests.last() {
                None => true,
                Some(r) => {
                    r.namespace != key.namespace.as_ref()
                        || r.datums.len() >= MAX_DATUMS_PER_REQUEST
                        || bytes + size > MAX_REQUEST_BYTES
                }
            };
            if start_new {
                requests.push(RequestPlan {
                    namespace: key.namespace.to_string(),
                    datums: Vec::new(),
                });
                bytes = 0;
            }
            if let Some(r) = requests.last_mut() {
                r.datums.push(datum(key, chunk));
                bytes += size;
            }
        }
    }
    (requests, rejected)
}

impl MetricSink for CloudWatchSink {
    async fn emit(
        &self,
        batch: &MetricBatch,
        deadline: Option<Instant>,
    ) -> Result<EmitReport, MetricsError> {
        let (requests, rejected) = plan(batch, now_ms());
        if !rejected.is_empty() {
            tracing::warn!(
                metrics = rejected.len(),
                "datapoints older than two weeks or more than two hours ahead are not accepted by CloudWatch; not sent"
            );
        }
        let total: usize = requests.iter().map(|r| r.datums.len()).sum();
        let mut report = EmitReport::default();
        for r in requests {
            let n = r.datums.len();
            let call = self
                .client
                .put_metric_data()
                .namespace(&r.namespace)
                .set_metric_data(Some(r.datums))
                .send();
            let result = match deadline {
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left <= DEADLINE_MARGIN {
                        return Err(MetricsError::Deadline {
                            delivered: report.datums,
                            undelivered: total - report.datums,
                        });
                    }
                    self.calls.fetch_add(1, Ordering::Relaxed);
                    match tokio::time::timeout(left - DEADLINE_MARGIN, call).await {
                        Ok(r) => r.map_err(|e| aws_sdk_cloudwatch::Error::from(e).to_string()),
                        Err(_) => {
                            return Err(MetricsError::Deadline {
                                delivered: report.datums,
                                undelivered: total - report.datums,
                            })
                        }
                    }
                }
                None => {
                    self.calls.fetch_add(1, Ordering::Relaxed);
                    call.await
                        .map_err(|e| aws_sdk_cloudwatch::Error::from(e).to_string())
                }
            };
            if let Err(message) = result {
                return Err(MetricsError::Put {
                    namespace: r.namespace,
                    delivered: report.datums,
                    total,
                    message,
                });
            }
            report.datums += n;
            report.requests += 1;
            report.put_metric_data_calls += 1;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn key(ns: &str, name: &str, minute_ms: i64) -> MetricKey {
        MetricKey {
            namespace: Arc::from(ns),
            name: Arc::from(name),
            dimensions: vec![],
            unit: Some(Arc::from("Count")),
            minute_ms,
        }
    }

    #[test]
    fn more_than_150_values_become_several_datums() {
        let now = 1_700_000_000_000;
        let mut b = MetricBatch::new();
        for i in 0..400 {
            b.add(key("N", "Latency", now), i as f64);
        }
        let (reqs, rejected) = plan(&b, now);
        assert!(rejected.is_empty());
        assert_eq!(reqs.len(), 1);
        let lens: Vec<usize> = reqs[0].datums.iter().map(|d| d.values().len()).collect();
        assert_eq!(lens, vec![150, 150, 100]);
        let count: f64 = reqs[0].datums.iter().flat_map(|d| d.counts()).sum();
        assert_eq!(count, 400.0);
    }

    #[test]
    fn requests_hold_at_most_1000_datums_and_one_namespace() {
        let now = 1_700_000_000_000;
        let mut b = MetricBatch::new();
        for i in 0..2500 {
            b.add(key("A", &format!("m{i:05}"), now), 1.0);
        }
        b.add(key("B", "x", now), 1.0);
        let (reqs, _) = plan(&b, now);
        let sizes: Vec<(String, usize)> = reqs
            .iter()
            .map(|r| (r.namespace.clone(), r.datums.len()))
            .collect();
        assert_eq!(
            sizes,
            vec![
                ("A".into(), 1000),
                ("A".into(), 1000),
                ("A".into(), 500),
                ("B".into(), 1)
            ]
        );
    }

    #[test]
    fn requests_stay_under_one_megabyte() {
        let now = 1_700_000_000_000;
        let mut b = MetricBatch::new();
        for i in 0..1000 {
            for v in 0..150 {
                b.add(key("A", &format!("m{i:04}"), now), v as f64);
            }
        }
        let (reqs, _) = plan(&b, now);
        assert!(reqs.len() > 1);
        for r in &reqs {
            let est: usize = r
                .datums
                .iter()
                .map(|d| 200 + 3 * d.metric_name().unwrap_or("").len() + d.values().len() * 120)
                .sum();
            assert!(est <= MAX_REQUEST_BYTES, "{est}");
        }
    }

    #[test]
    fn stale_and_future_timestamps_are_set_apart() {
        let now = 1_700_000_000_000;
        let mut b = MetricBatch::new();
        b.add(key("N", "old", now - MAX_AGE_MS - 60_000), 1.0);
        b.add(key("N", "future", now + MAX_AHEAD_MS + 60_000), 1.0);
        b.add(key("N", "ok", now), 1.0);
        let (reqs, rejected) = plan(&b, now);
        assert_eq!(rejected.len(), 2);
        assert_eq!(reqs[0].datums.len(), 1);
        assert_eq!(reqs[0].datums[0].metric_name(), Some("ok"));
    }

    /// Records the body size of every request a client is about to send, and stops it there:
    /// the requests are the SDK's own serialization, nothing goes on the network.
    #[derive(Debug, Clone, Default)]
    struct BodySizes(Arc<std::sync::Mutex<Vec<usize>>>);

    impl aws_sdk_cloudwatch::config::Intercept for BodySizes {
        fn name(&self) -> &'static str {
            "BodySizes"
        }

        fn read_before_transmit(
            &self,
            context: &aws_sdk_cloudwatch::config::interceptors::BeforeTransmitInterceptorContextRef<
                '_,
            >,
            _: &aws_sdk_cloudwatch::config::RuntimeComponents,
            _: &mut aws_sdk_cloudwatch::config::ConfigBag,
        ) -> Result<(), aws_sdk_cloudwatch::error::BoxError> {
            let len = context.request().body().bytes().map_or(0, <[u8]>::len);
            self.0.lock().unwrap().push(len);
            Err("not sent: only the request's size is measured".into())
        }
    }

    /// The planned requests of `batch` as the SDK would send them: (datums, body bytes) each.
    /// Uncompressed: the SDK gzips PutMetricData bodies by default, which only makes them smaller,
    /// and the size estimate does not count on it (`AWS_DISABLE_REQUEST_COMPRESSION` turns it off).
    async fn request_sizes(batch: &MetricBatch, now: i64) -> Vec<(usize, usize)> {
        use aws_sdk_cloudwatch::config::{BehaviorVersion, Credentials, Region};
        let sizes = BodySizes::default();
        let conf = aws_sdk_cloudwatch::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKID", "secret", None, None, "test"))
            .endpoint_url("http://127.0.0.1:9")
            .disable_request_compression(true)
            .interceptor(sizes.clone())
            .build();
        let client = aws_sdk_cloudwatch::Client::from_conf(conf);
        let (reqs, _) = plan(batch, now);
        let mut out = Vec::new();
        for r in reqs {
            let datums = r.datums.len();
            let sent = client
                .put_metric_data()
                .namespace(&r.namespace)
                .set_metric_data(Some(r.datums))
                .send()
                .await;
            assert!(sent.is_err(), "the interceptor stops every request");
            let bytes = sizes.0.lock().unwrap().drain(..).max().unwrap_or(0);
            out.push((datums, bytes));
        }
        out
    }

    fn key_with(name: String, dims: &[(&str, String)], minute_ms: i64) -> MetricKey {
        MetricKey {
            namespace: Arc::from("App/Orders"),
            name: Arc::from(name),
            dimensions: dims
                .iter()
                .map(|(n, v)| (Arc::from(*n), v.clone()))
                .collect(),
            unit: Some(Arc::from("Milliseconds")),
            minute_ms,
        }
    }

    #[tokio::test]
    async fn every_request_body_stays_within_one_megabyte() {
        // Names and dimension values made only of characters that URL-encoding triples, so that
        // each part of a datum is as large as the estimate allows for it: the requests are as
        // close to the limit as the plan lets them be.
        let now = 1_700_000_000_000;
        let mut b = MetricBatch::new();
        for i in 0..1000 {
            let name = format!("{i:04}{}", "/".repeat(246));
            let dims = [
                ("R", ":".repeat(300)),
                ("H", format!("{i}{}", "/".repeat(296))),
                ("S", "=".repeat(300)),
            ];
            for v in [0.125, 2.5] {
                b.add(key_with(name.clone(), &dims, now), v);
            }
        }
        let sizes = request_sizes(&b, now).await;
        assert!(sizes.len() > 1, "{sizes:?}");
        assert_eq!(sizes.iter().map(|(d, _)| d).sum::<usize>(), 1000);
        for (datums, bytes) in &sizes {
            assert!(
                *bytes <= MAX_REQUEST_BYTES,
                "{datums} datums, {bytes} bytes: {sizes:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_thousand_small_datums_take_one_request() {
        // PutMetricData calls are billed: datums that fit one request are not split.
        let now = 1_700_000_000_000;
        let mut b = MetricBatch::new();
        for i in 0..1000 {
            let dims = [("Route", format!("/orders/{i:052}"))];
            b.add(key_with(format!("Latency{i:04}"), &dims, now), 12.5);
        }
        let sizes = request_sizes(&b, now).await;
        assert_eq!(sizes.len(), 1, "{sizes:?}");
        assert_eq!(sizes[0].0, 1000);
        assert!(sizes[0].1 <= MAX_REQUEST_BYTES, "{sizes:?}");
    }

    /// A loopback PutMetricData endpoint that answers the first `answered` requests with success
    /// and never answers the ones after them (the connection stays open, as a stalled service's).
    fn endpoint_answering(answered: usize) -> String {
        use std::io::{BufRead, BufReader, Read, Write};
        use std::sync::atomic::AtomicUsize;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(AtomicUsize::new(0));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let seen = seen.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut writer = stream;
                    loop {
                        let mut len = 0;
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            let line = line.trim_end();
                            if line.is_empty() {
                                break;
                            }
                            if let Some((name, value)) = line.split_once(':') {
                                if name.eq_ignore_ascii_case("content-length") {
                                    len = value.trim().parse().unwrap_or(0);
                                }
                            }
                        }
                        let mut body = vec![0; len];
                        if reader.read_exact(&mut body).is_err() {
                            return;
                        }
                        if seen.fetch_add(1, Ordering::SeqCst) >= answered {
                            std::thread::sleep(Duration::from_secs(30));
                            return;
                        }
                        let body = "<PutMetricDataResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">\
                            <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></PutMetricDataResponse>";
                        let _ = write!(
                            writer,
                            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                    }
                });
            }
        });
        url
    }

    fn sink_at(url: &str) -> CloudWatchSink {
        use aws_sdk_cloudwatch::config::{BehaviorVersion, Credentials, Region};
        let conf = aws_sdk_cloudwatch::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKID", "secret", None, None, "test"))
            .endpoint_url(url)
            .build();
        CloudWatchSink::new(aws_sdk_cloudwatch::Client::from_conf(conf))
    }

    /// Two metrics in two namespaces (two requests, `A` first), timestamped now.
    fn two_namespaces() -> MetricBatch {
        let minute = now_ms().div_euclid(60_000) * 60_000;
        let mut b = MetricBatch::new();
        b.add(key("A", "Errors", minute), 1.0);
        b.add(key("B", "Errors", minute), 1.0);
        b
    }

    #[tokio::test]
    async fn every_request_is_reported() {
        let sink = sink_at(&endpoint_answering(usize::MAX));
        let report = sink.emit(&two_namespaces(), None).await.unwrap();
        assert_eq!(
            report,
            EmitReport {
                datums: 2,
                requests: 2,
                put_metric_data_calls: 2,
                emf_bytes: 0,
            }
        );
        assert_eq!(sink.calls_made(), 2);
    }

    #[tokio::test]
    async fn a_stalled_request_ends_before_the_deadline_with_what_was_delivered() {
        // The first request is answered, the second never: the sink gives up on it
        // DEADLINE_MARGIN before the deadline, and says one datum went and one did not.
        let sink = sink_at(&endpoint_answering(1));
        let start = Instant::now();
        let deadline = start + Duration::from_secs(2);
        let err = sink
            .emit(&two_namespaces(), Some(deadline))
            .await
            .unwrap_err();
        let elapsed = start.elapsed();
        assert!(
            matches!(
                err,
                MetricsError::Deadline {
                    delivered: 1,
                    undelivered: 1
                }
            ),
            "{err:?}"
        );
        assert!(!err.nothing_published());
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
        assert_eq!(sink.calls_made(), 2);
    }

    #[tokio::test]
    async fn no_request_starts_within_the_margin_of_the_deadline() {
        let sink = sink_at(&endpoint_answering(usize::MAX));
        let deadline = Instant::now() + DEADLINE_MARGIN / 2;
        let err = sink
            .emit(&two_namespaces(), Some(deadline))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                MetricsError::Deadline {
                    delivered: 0,
                    undelivered: 2
                }
            ),
            "{err:?}"
        );
        assert!(err.nothing_published());
        assert_eq!(sink.calls_made(), 0);
    }

    #[test]
    fn timestamps_from_two_weeks_back_to_two_hours_ahead_are_accepted() {
        // The bounds of the PutMetricData API reference, in plain milliseconds: a replay of
        // logs a few days old still publishes its metrics.
        let now = 1_700_000_000_000;
        let hour = 3_600_000;
        let day = 24 * hour;
        for ms in [
            now - 14 * day,
            now - 13 * day,
            now - hour,
            now,
            now + 90 * 60_000,
            now + 2 * hour,
        ] {
            assert!(timestamp_accepted(ms, now), "{}", ms - now);
        }
        for ms in [
            now - 14 * day - 1,
            now - 15 * day,
            now + 2 * hour + 1,
            now + day,
        ] {
            assert!(!timestamp_accepted(ms, now), "{}", ms - now);
        }
    }
}
