//! KinesisSink against a fault-injecting PutRecords server: partial failures, throttling, 5xx,
//! slow responses and connection resets, with the real aws-sdk-kinesis client.

use crate::common;

use common::fault_kinesis::{FaultConfig, FaultKinesis, RequestFault};
use logrelay::forward::{ForwardError, KinesisSink, Record, RecordSink, RetryPolicy};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const ARN: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/central";

fn records(n: usize) -> Vec<Record> {
    (0..n)
        .map(|i| Record {
            partition_key: format!("/aws/lambda/f/stream-{}", i % 7),
            data: format!("record {i:05} {}", "x".repeat(i % 300)).into_bytes(),
            events: 1,
        })
        .collect()
}

/// Fast retries so that tests do not wait long.
fn quick_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 40,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(20),
        attempt_timeout: Duration::from_secs(10),
        deadline_margin: Duration::from_millis(300),
        max_elapsed: Duration::from_secs(60),
    }
}

async fn sink(server: &FaultKinesis, policy: RetryPolicy) -> KinesisSink {
    let config = common::moto::sdk_config(&server.endpoint()).await;
    KinesisSink::new(aws_sdk_kinesis::Client::new(&config), ARN).with_retry_policy(policy)
}

/// Accepted data grouped by content: (distinct records, duplicates).
fn tally(server: &FaultKinesis) -> (HashMap<Vec<u8>, usize>, usize) {
    let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
    for a in server.accepted() {
        *seen.entry(a.data).or_default() += 1;
    }
    let dups = seen.values().map(|c| c - 1).sum();
    (seen, dups)
}

#[tokio::test]
async fn thirty_percent_entry_failures_lose_nothing() {
    let server = FaultKinesis::start(FaultConfig {
        seed: 7,
        entry_failure_rate: 0.3,
        ..FaultConfig::default()
    });
    let sink = sink(&server, quick_policy()).await;
    let input = records(2000);
    let report = sink.send(input.clone(), None).await.expect("all delivered");

    let (seen, dups) = tally(&server);
    let (entries_seen, entries_failed) = server.entries();
    println!(
        "30% entry failures: {} records, {} requests, {} entries retried, {} injected failures, {} duplicates",
        report.records, report.requests, report.retried_entries, entries_failed, dups
    );
    assert_eq!(report.records, input.len());
    assert_eq!(report.bytes, input.iter().map(Record::size).sum::<usize>());
    for r in &input {
        assert!(
            seen.contains_key(&r.data),
            "lost {:?}",
            String::from_utf8_lossy(&r.data[..11])
        );
    }
    assert_eq!(seen.len(), input.len());
    // Only failed entries are sent again: every entry the server saw is a first send or a retry of
    // an injected failure.
    assert!(entries_failed > 0);
    assert_eq!(report.retried_entries, entries_failed);
    assert_eq!(entries_seen, input.len() + entries_failed);
    assert_eq!(report.requests, server.requests());
    assert_eq!(report.put_records_calls, server.requests());
    // Partition keys travel with their data.
    for a in server.accepted() {
        let i: usize = std::str::from_utf8(&a.data[7..12])
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(a.partition_key, input[i].partition_key);
    }
}

/// The record number of a [`records`] entry (`record NNNNN ...`).
fn record_no(data: &[u8]) -> usize {
    std::str::from_utf8(&data[7..12]).unwrap().parse().unwrap()
}

#[tokio::test]
async fn failed_entries_are_sent_again_in_their_order() {
    // Kinesis keeps the order of the entries of one request (per shard); a resend of the failed
    // entries in another order would reorder a log stream's records even when every retry succeeds.
    let server = FaultKinesis::start(FaultConfig {
        seed: 11,
        entry_failure_rate: 0.5,
        ..FaultConfig::default()
    });
    let sink = sink(&server, quick_policy()).await;
    let input = records(1200);
    sink.send(input.clone(), None).await.expect("all delivered");

    let requests = server.received();
    let mut resends = 0;
    let mut seen_first = std::collections::HashSet::new();
    for (n, entries) in requests.iter().enumerate() {
        let numbers: Vec<usize> = entries.iter().map(|d| record_no(d)).collect();
        assert!(
            numbers.windows(2).all(|w| w[0] < w[1]),
            "request {n} sends its entries out of order: {numbers:?}"
        );
        if numbers.iter().any(|i| !seen_first.insert(*i)) && numbers.len() > 1 {
            resends += 1;
        }
    }
    // The property is only tested if some resend holds several entries.
    assert!(
        resends > 0,
        "no resend of several entries in {} requests",
        requests.len()
    );
    assert_eq!(seen_first.len(), input.len());
}

#[tokio::test]
async fn entries_failing_for_good_are_not_retried_and_reported_undelivered() {
    // A KMS error other than throttling does not heal within an invocation: the entry is given up
    // at once, the others are delivered, and the send reports the failure with its counts.
    let server = FaultKinesis::start(FaultConfig {
        seed: 3,
        entry_failure_rate: 0.2,
        entry_failure_code: Some("KMSAccessDeniedException"),
        ..FaultConfig::default()
    });
    let sink = sink(&server, quick_policy()).await;
    let input = records(1200);
    let err = sink.send(input.clone(), None).await.unwrap_err();
    let (entries_seen, entries_failed) = server.entries();
    let accepted = server.accepted().len();
    assert!(entries_failed > 0);
    assert_eq!(entries_seen, input.len(), "no entry is sent twice");
    assert_eq!(accepted + entries_failed, input.len());
    let (delivered, undelivered, last_error) = incomplete(err);
    assert_eq!((delivered, undelivered), (accepted, entries_failed));
    assert!(
        last_error.contains("KMSAccessDeniedException"),
        "{last_error}"
    );
}

#[tokio::test]
async fn entries_given_up_still_count_when_a_later_batch_stops() {
    // The first batch loses some entries for good; every later request is throttled until the
    // attempts run out. Undelivered: the given-up entries, the second batch, and the third (never
    // sent).
    let server = FaultKinesis::start(FaultConfig {
        seed: 5,
        entry_failure_rate: 0.2,
        entry_failure_code: Some("KMSAccessDeniedException"),
        request_faults: vec![RequestFault::None],
        default_fault: RequestFault::Throttle("ProvisionedThroughputExceededException"),
        ..FaultConfig::default()
    });
    let policy = RetryPolicy {
        max_attempts: 3,
        ..quick_policy()
    };
    let sink = sink(&server, policy).await;
    let err = sink.send(records(1200), None).await.unwrap_err();
    let (_, given_up) = server.entries();
    assert!(given_up > 0);
    let (delivered, undelivered, last_error) = incomplete(err);
    assert_eq!(delivered, 500 - given_up);
    assert_eq!(undelivered, given_up + 500 + 200);
    assert!(
        last_error.contains("gave up after 3 attempts"),
        "{last_error}"
    );
    assert_eq!(server.requests(), 1 + 3);
}

#[tokio::test]
async fn persistent_entry_failure_stops_before_the_deadline_with_counts() {
    let server = FaultKinesis::start(FaultConfig {
        entry_failure_rate: 1.0,
        ..FaultConfig::default()
    });
    let policy = RetryPolicy {
        max_attempts: u32::MAX,
        ..quick_policy()
    };
    let sink = sink(&server, policy).await;
    let deadline = Instant::now() + Duration::from_millis(1500);
    let err = sink.send(records(700), Some(deadline)).await.unwrap_err();
    let returned = Instant::now();
    println!("persistent failure: {err}; {} requests", server.requests());
    let (delivered, undelivered, last_error) = incomplete(err);
    assert_eq!((delivered, undelivered), (0, 700));
    assert!(last_error.contains("deadline"), "{last_error}");
    assert!(
        returned <= deadline,
        "returned {:?} after the deadline",
        returned - deadline
    );
    assert!(server.requests() > 1, "retried before giving up");
    assert!(server.accepted().is_empty());
}

#[tokio::test]
async fn a_backoff_that_would_pass_the_deadline_is_not_waited() {
    // The first retry would wait 2 to 4 s, past the deadline 1.5 s away: the send stops after the
    // first attempt instead of sleeping into the Lambda timeout.
    let server = FaultKinesis::start(FaultConfig {
        entry_failure_rate: 1.0,
        ..FaultConfig::default()
    });
    let policy = RetryPolicy {
        base_delay: Duration::from_secs(4),
        max_delay: Duration::from_secs(4),
        deadline_margin: Duration::from_millis(100),
        ..quick_policy()
    };
    let sink = sink(&server, policy).await;
    let deadline = Instant::now() + Duration::from_millis(1500);
    let err = sink.send(records(5), Some(deadline)).await.unwrap_err();
    assert!(
        Instant::now() < deadline,
        "returned after the deadline: {err}"
    );
    let (delivered, undelivered, last_error) = incomplete(err);
    assert_eq!((delivered, undelivered), (0, 5));
    assert!(
        last_error.starts_with("deadline reached after 1 attempts"),
        "{last_error}"
    );
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn throttling_after_the_first_batch_reports_what_was_delivered() {
    let server = FaultKinesis::start(FaultConfig {
        request_faults: vec![RequestFault::None],
        default_fault: RequestFault::Throttle("ProvisionedThroughputExceededException"),
        ..FaultConfig::default()
    });
    let policy = RetryPolicy {
        max_attempts: 5,
        ..quick_policy()
    };
    let sink = sink(&server, policy).await;
    let err = sink.send(records(1200), None).await.unwrap_err();
    println!("throttled: {err}");
    let (delivered, undelivered, last_error) = incomplete(err);
    assert_eq!((delivered, undelivered), (500, 700));
    assert!(
        last_error.contains("ProvisionedThroughputExceededException"),
        "{last_error}"
    );
    assert!(last_error.contains("5 attempts"), "{last_error}");
    assert_eq!(server.accepted().len(), 500);
    assert_eq!(server.requests(), 1 + 5);
}

#[tokio::test]
async fn slow_endpoint_near_the_deadline_is_cut_off_in_time() {
    let server = FaultKinesis::start(FaultConfig {
        default_fault: RequestFault::Slow(Duration::from_secs(5)),
        ..FaultConfig::default()
    });
    let sink = sink(&server, quick_policy()).await;
    let deadline = Instant::now() + Duration::from_millis(1200);
    let err = sink.send(records(50), Some(deadline)).await.unwrap_err();
    let returned = Instant::now();
    println!(
        "slow endpoint: {err}; the server stored {} records it never acknowledged",
        server.accepted().len()
    );
    let (delivered, undelivered, last_error) = incomplete(err);
    assert_eq!((delivered, undelivered), (0, 50));
    assert!(
        last_error.contains("timed out") || last_error.contains("deadline"),
        "{last_error}"
    );
    assert!(
        returned <= deadline,
        "returned {:?} after the deadline",
        returned - deadline
    );
}

#[tokio::test]
async fn connection_resets_throttles_and_5xx_are_retried() {
    let server = FaultKinesis::start(FaultConfig {
        request_faults: vec![
            RequestFault::Reset,
            RequestFault::Throttle("ProvisionedThroughputExceededException"),
            RequestFault::Reset,
            RequestFault::Throttle("ThrottlingException"),
            RequestFault::ServerError(500),
            RequestFault::ServerError(503),
        ],
        ..FaultConfig::default()
    });
    let sink = sink(&server, quick_policy()).await;
    let input = records(300);
    let report = sink
        .send(
            input.clone(),
            Some(Instant::now() + Duration::from_secs(30)),
        )
        .await
        .expect("delivered after retries");
    println!("resets/throttles/5xx: {report:?}");
    assert_eq!(report.records, 300);
    assert_eq!(report.requests, 7);
    assert_eq!(report.retried_entries, 6 * 300);
    let (seen, dups) = tally(&server);
    assert_eq!((seen.len(), dups), (300, 0));
}

#[tokio::test]
async fn non_retryable_error_stops_at_once() {
    let server = FaultKinesis::start(FaultConfig {
        default_fault: RequestFault::ClientError("ResourceNotFoundException"),
        ..FaultConfig::default()
    });
    let sink = sink(&server, quick_policy()).await;
    let err = sink.send(records(10), None).await.unwrap_err();
    let (delivered, undelivered, last_error) = incomplete(err);
    assert_eq!((delivered, undelivered), (0, 10));
    assert!(
        last_error.contains("ResourceNotFoundException"),
        "{last_error}"
    );
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn no_records_no_request() {
    let server = FaultKinesis::start(FaultConfig::default());
    let sink = sink(&server, quick_policy()).await;
    assert_eq!(sink.stream_arn(), ARN);
    let report = sink.send(Vec::new(), None).await.unwrap();
    assert_eq!(report, Default::default());
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn deadline_already_past_sends_nothing() {
    let server = FaultKinesis::start(FaultConfig::default());
    let sink = sink(&server, quick_policy()).await;
    let err = sink
        .send(records(3), Some(Instant::now()))
        .await
        .unwrap_err();
    let (delivered, undelivered, last_error) = incomplete(err);
    assert_eq!((delivered, undelivered), (0, 3));
    assert_eq!(last_error, "deadline reached before attempt 1");
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn persistent_connection_resets_end_incomplete_with_the_transport_error() {
    let server = FaultKinesis::start(FaultConfig {
        default_fault: RequestFault::Reset,
        ..FaultConfig::default()
    });
    let policy = RetryPolicy {
        max_attempts: 3,
        ..quick_policy()
    };
    let sink = sink(&server, policy).await;
    let err = sink.send(records(5), None).await.unwrap_err();
    println!("persistent resets: {err}");
    let (delivered, undelivered, last_error) = incomplete(err);
    assert_eq!((delivered, undelivered), (0, 5));
    assert!(
        last_error.starts_with("gave up after 3 attempts; PutRecords failed: dispatch failure"),
        "{last_error}"
    );
    assert!(
        last_error.contains("Connection reset by peer"),
        "{last_error}"
    );
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn lost_acknowledgement_gives_duplicates_not_losses() {
    // The first response comes too late: the server stored the batch, the client timed out and
    // sent it again. At-least-once: every record arrives, the first batch twice.
    let server = FaultKinesis::start(FaultConfig {
        request_faults: vec![RequestFault::Slow(Duration::from_millis(1500))],
        ..FaultConfig::default()
    });
    let policy = RetryPolicy {
        attempt_timeout: Duration::from_millis(300),
        ..quick_policy()
    };
    let sink = sink(&server, policy).await;
    let input = records(120);
    let report = sink
        .send(input.clone(), None)
        .await
        .expect("delivered on the second attempt");
    let (seen, dups) = tally(&server);
    println!(
        "lost acknowledgement: {report:?}; {} distinct records, {dups} duplicates",
        seen.len()
    );
    assert_eq!(report.records, 120);
    assert_eq!(report.requests, 2);
    assert_eq!(seen.len(), 120);
    assert_eq!(dups, 120);
}

/// The counts and the last error of an `Incomplete` send; any other error fails the test.
fn incomplete(err: ForwardError) -> (usize, usize, String) {
    match err {
        ForwardError::Incomplete {
            delivered,
            undelivered,
            last_error,
        } => (delivered, undelivered, last_error),
        other => panic!("expected Incomplete, got {other}"),
    }
}
