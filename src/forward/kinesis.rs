//! Delivery to a Kinesis data stream with PutRecords, addressed by stream ARN.
//!
//! [`KinesisSink`] batches records within [`BatchLimits`], sends each batch, and on a partial
//! failure (HTTP 200 with `FailedRecordCount > 0`) sends again only the failed entries, in their
//! order. Whole-request failures (throttling, 5xx, timeouts, connection errors) are retried too, with
//! jittered exponential backoff; every attempt runs under a timeout, and retrying stops before the
//! deadline minus a margin ([`RetryPolicy`]). What could not be delivered is reported as
//! [`ForwardError::Incomplete`], never as delivered.
//!
//! The SDK's own retries are turned off for PutRecords (whatever the client's configuration): the SDK
//! would resend whole requests (including entries already accepted) on its own schedule, which knows
//! neither the Lambda deadline nor partial failures. One retry loop, ours, keeps the bound.
//!
//! Cross-account: the sink only needs a client allowed to write to the stream ARN, either through a
//! resource-based policy on the central stream (the function's own credentials) or through an assumed
//! role in the central account ([`kinesis_client`] with an [`AssumeRole`]).
//!
//! Cross-Region: a Kinesis stream is only reachable through the endpoint of its own Region, so the
//! client (and the STS client of an assumed role) is built for the Region named in the stream ARN
//! ([`StreamArn`], [`stream_sdk_config`]), not for the Region the function runs in. A stream in
//! another partition (aws-cn, aws-us-gov, ...) cannot be reached with the function's credentials at
//! all: that is refused at start-up ([`StreamArnError::OtherPartition`]).

use super::batch::plan_batches;
use super::retry::{classify_entries, is_retryable_request_error, EntryResult};
use super::{BatchLimits, ForwardError, Record, RecordSink, RetryPolicy, SendReport};
use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_sdk_kinesis::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A Kinesis stream ARN, `arn:PARTITION:kinesis:REGION:ACCOUNT:stream/NAME`, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamArn {
    arn: String,
    partition: String,
    region: String,
    account: String,
    name: String,
}

/// Why a stream ARN cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamArnError {
    /// Not of the form `arn:PARTITION:kinesis:REGION:ACCOUNT:stream/NAME`.
    #[error("{arn:?} is not a Kinesis stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME): {reason}")]
    Malformed {
        /// The ARN as given.
        arn: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The stream is in another partition than the Region the function runs in: no credentials of
    /// one partition are valid in another, so no client could reach it.
    #[error(
        "stream {arn} is in partition {stream_partition}, but this function runs in Region {region} \
         (partition {own_partition}); a stream can only be written from its own partition"
    )]
    OtherPartition {
        /// The stream ARN.
        arn: String,
        /// The stream's partition.
        stream_partition: String,
        /// The function's Region.
        region: String,
        /// The partition of the function's Region.
        own_partition: &'static str,
    },
}

impl StreamArn {
    /// Parses and checks a stream ARN: the partition must be the one its Region belongs to, the account
    /// 12 digits, the name 1 to 128 characters of `[a-zA-Z0-9_.-]` (Kinesis API reference, StreamName).
    pub fn parse(arn: &str) -> Result<Self, StreamArnError> {
        let bad = |reason: &str| StreamArnError::Malformed {
            arn: arn.to_owned(),
            reason: reason.to_owned(),
        };
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let ["arn", partition, "kinesis", region, account, resource] = parts.as_slice() else {
            return Err(bad(
                "expected 6 colon-separated parts, the third \"kinesis\"",
            ));
        };
        if !partition.starts_with("aws") {
            return Err(bad("the partition must be aws, aws-cn, aws-us-gov, ..."));
        }
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(bad("the Region must be a Region name such as eu-west-1"));
        }
        if partition_of_region(region) != *partition {
            return Err(bad(&format!(
                "Region {region} belongs to partition {}, not {partition}",
                partition_of_region(region)
            )));
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("the account must be 12 digits"));
        }
        let Some(name) = resource.strip_prefix("stream/") else {
            return Err(bad("the resource must be stream/NAME"));
        };
        if name.is_empty()
            || name.len() > 128
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        {
            return Err(bad(
                "the stream name must be 1-128 characters of a-z, A-Z, 0-9, _ . -",
            ));
        }
        Ok(StreamArn {
            arn: arn.to_owned(),
            partition: (*partition).to_owned(),
            region: (*region).to_owned(),
            account: (*account).to_owned(),
            name: name.to_owned(),
        })
    }

    /// The whole ARN.
    pub fn as_str(&self) -> &str {
        &self.arn
    }

    /// The partition (`aws`, `aws-cn`, ...).
    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// The Region the stream lives in.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The account that owns the stream.
    pub fn account(&self) -> &str {
        &self.account
    }

    /// The stream name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Refuses a stream in another partition than `own_region`'s (when the Region is known).
    pub fn check_partition(&self, own_region: Option<&str>) -> Result<(), StreamArnError> {
        match own_region {
            Some(region) if partition_of_region(region) != self.partition => {
                Err(StreamArnError::OtherPartition {
                    arn: self.arn.clone(),
                    stream_partition: self.partition.clone(),
                    region: region.to_owned(),
                    own_partition: partition_of_region(region),
                })
            }
            _ => Ok(()),
        }
    }
}

impl FromStr for StreamArn {
    type Err = StreamArnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StreamArn::parse(s)
    }
}

impl fmt::Display for StreamArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

/// The partition a Region belongs to, by the Region-name patterns of the partitions the AWS SDKs'
/// endpoint rules list (`partitions.json`: `cn-*` is aws-cn, `us-gov-*` aws-us-gov, `us-iso-*` aws-iso,
/// `us-isob-*` aws-iso-b, `eu-isoe-*` aws-iso-e, `us-isof-*` aws-iso-f, `eusc-*` aws-eusc; the rest aws).
pub fn partition_of_region(region: &str) -> &'static str {
    const PREFIXES: [(&str, &str); 7] = [
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("us-iso-", "aws-iso"),
        ("eu-isoe-", "aws-iso-e"),
        ("eusc-", "aws-eusc"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("aws", |(_, partition)| partition)
}

/// `sdk_config` with its Region set to the stream's, after refusing a stream in another partition than
/// `sdk_config`'s Region. Everything else (credentials, endpoint override, retry settings) is kept, so
/// clients built from it, and the STS client of an assumed role, talk to the stream's Region.
pub fn stream_sdk_config(
    sdk_config: &SdkConfig,
    stream: &StreamArn,
) -> Result<SdkConfig, StreamArnError> {
    stream.check_partition(sdk_config.region().map(|r| r.as_ref()))?;
    Ok(sdk_config
        .to_builder()
        .region(aws_config::Region::new(stream.region().to_owned()))
        .build())
}

/// A role to assume for cross-account delivery.
#[derive(Clone, PartialEq, Eq)]
pub struct AssumeRole {
    /// ARN of the role in the central account.
    pub role_arn: String,
    /// External ID the role's trust policy requires (never logged: `Debug` redacts it).
    pub external_id: Option<String>,
    /// Role session name (shows in the central account's CloudTrail).
    pub session_name: String,
}

impl fmt::Debug for AssumeRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssumeRole")
            .field("role_arn", &self.role_arn)
            .field(
                "external_id",
                &self.external_id.as_ref().map(|_| "<redacted>"),
            )
            .field("session_name", &self.session_name)
            .finish()
    }
}

/// A Kinesis client for `stream`'s Region ([`stream_sdk_config`]), acting as `assume_role` when given;
/// a stream in another partition is refused.
pub async fn stream_client(
    sdk_config: &SdkConfig,
    stream: &StreamArn,
    assume_role: Option<&AssumeRole>,
) -> Result<aws_sdk_kinesis::Client, StreamArnError> {
    let regional = stream_sdk_config(sdk_config, stream)?;
    if sdk_config.region().map(|r| r.as_ref()) != Some(stream.region()) {
        tracing::debug!(
            stream_region = stream.region(),
            "Kinesis client built for the stream's Region"
        );
    }
    Ok(kinesis_client(&regional, assume_role).await)
}

/// A Kinesis client from `sdk_config` (in its Region), acting as `assume_role` when given (aws-config's
/// `AssumeRoleProvider`, which uses `sdk_config`'s credentials, region and endpoint to call STS, and
/// refreshes the credentials before they expire).
pub async fn kinesis_client(
    sdk_config: &SdkConfig,
    assume_role: Option<&AssumeRole>,
) -> aws_sdk_kinesis::Client {
    let Some(role) = assume_role else {
        return aws_sdk_kinesis::Client::new(sdk_config);
    };
    let mut builder = aws_config::sts::AssumeRoleProvider::builder(role.role_arn.clone())
        .session_name(role.session_name.clone())
        .configure(sdk_config);
    if let Some(id) = &role.external_id {
        builder = builder.external_id(id.clone());
    }
    let provider = builder.build().await;
    tracing::debug!(role_arn = %role.role_arn, "Kinesis client assumes a role");
    let conf = aws_sdk_kinesis::config::Builder::from(sdk_config)
        .credentials_provider(provider)
        .build();
    aws_sdk_kinesis::Client::from_conf(conf)
}

/// Delivers records to one Kinesis stream with PutRecords.
#[derive(Debug, Clone)]
pub struct KinesisSink {
    client: aws_sdk_kinesis::Client,
    stream_arn: String,
    limits: BatchLimits,
    policy: RetryPolicy,
    /// PutRecords calls made, failed ones included, over the sink's life (shared by its clones).
    calls: Arc<AtomicUsize>,
}

impl KinesisSink {
    /// A sink writing to `stream_arn` with default limits and retry policy.
    pub fn new(client: aws_sdk_kinesis::Client, stream_arn: impl Into<String>) -> Self {
        KinesisSink {
            client,
            stream_arn: stream_arn.into(),
            limits: BatchLimits::default(),
            policy: RetryPolicy::default(),
            calls: Arc::default(),
        }
    }

    /// PutRecords calls made by this sink (and its clones) so far, every attempt counted whether it
    /// succeeded or not, also those of invocations that failed (whose [`SendReport`] is lost).
    pub fn calls_made(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// Sets the batch limits (validated at `send`).
    pub fn with_limits(mut self, limits: BatchLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the retry policy.
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The stream ARN.
    pub fn stream_arn(&self) -> &str {
        &self.stream_arn
    }

    async fn put(
        &self,
        entries: Vec<PutRecordsRequestEntry>,
        timeout: std::time::Duration,
    ) -> Result<aws_sdk_kinesis::operation::put_records::PutRecordsOutput, (bool, String)> {
        let call = self
            .client
            .put_records()
            .stream_arn(&self.stream_arn)
            .set_records(Some(entries))
            .customize()
            .config_override(
                aws_sdk_kinesis::config::Builder::default().retry_config(RetryConfig::disabled()),
            )
            .send();
        match tokio::time::timeout(timeout, call).await {
            Err(_) => Err((
                true,
                format!("PutRecords attempt timed out after {timeout:?}"),
            )),
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => {
                let (retryable, what) = match &e {
                    SdkError::ConstructionFailure(_) => {
                        (false, DisplayErrorContext(&e).to_string())
                    }
                    SdkError::DispatchFailure(d) => {
                        (!d.is_user(), DisplayErrorContext(&e).to_string())
                    }
                    SdkError::ServiceError(s) => {
                        let status = s.raw().status().as_u16();
                        (
                            is_retryable_request_error(e.code(), Some(status)),
                            format!(
                                "{}: {} (HTTP {status})",
                                e.code().unwrap_or("unknown error"),
                                e.message().unwrap_or("no message")
                            ),
                        )
                    }
                    SdkError::ResponseError(r) => {
                        let status = r.raw().status().as_u16();
                        (
                            is_retryable_request_error(None, Some(status)),
                            format!(
                                "unreadable response (HTTP {status}): {}",
                                DisplayErrorContext(&e)
                            ),
                        )
                    }
                    _ => (true, DisplayErrorContext(&e).to_string()),
                };
                Err((retryable, format!("PutRecords failed: {what}")))
            }
        }
    }
}

impl RecordSink for KinesisSink {
    async fn send(
        &self,
        records: Vec<Record>,
        deadline: Option<Instant>,
    ) -> Result<SendReport, ForwardError> {
        let start = Instant::now();
        let stop = self.policy.stop_at(start, deadline);
        let ranges = plan_batches(&records, &self.limits)?;
        let total = records.len();
        let mut report = SendReport::default();
        let sizes: Vec<usize> = records.iter().map(Record::size).collect();
        let mut entries = Vec::with_capacity(records.len());
        for (index, r) in records.into_iter().enumerate() {
            let entry = PutRecordsRequestEntry::builder()
                .partition_key(r.partition_key)
                .data(Blob::new(r.data))
                .build()
                .map_err(|e| ForwardError::InvalidRecord {
                    index,
                    reason: e.to_string(),
                })?;
            entries.push(entry);
        }
        let mut given_up = 0usize;
        let mut last_error = String::new();
        for (batch_no, range) in ranges.iter().enumerate() {
            // Indices (into `entries`) still to deliver, in order.
            let mut pending: Vec<usize> = range.clone().collect();
            let mut attempt = 0u32;
            let mut stopped = false;
            while !pending.is_empty() {
                attempt += 1;
                let Some(timeout) = self.policy.attempt_timeout(Instant::now(), stop) else {
                    last_error = explain(
                        format!("deadline reached before attempt {attempt}"),
                        &last_error,
                    );
                    stopped = true;
                    break;
                };
                if attempt > 1 {
                    report.retried_entries += pending.len();
                }
                report.requests += 1;
                report.put_records_calls += 1;
                self.calls.fetch_add(1, Ordering::Relaxed);
                let batch: Vec<PutRecordsRequestEntry> =
                    pending.iter().map(|&i| entries[i].clone()).collect();
                match self.put(batch, timeout).await {
                    Ok(out) => {
                        let results: Vec<EntryResult<'_>> = out
                            .records()
                            .iter()
                            .map(|r| EntryResult {
                                error_code: r.error_code(),
                                error_message: r.error_message(),
                            })
                            .collect();
                        let decision = classify_entries(pending.len(), &results);
                        let failed = decision.retry.len() + decision.give_up.len();
                        if results.len() == pending.len() {
                            for (j, &i) in pending.iter().enumerate() {
                                if results[j].error_code.is_none() {
                                    report.records += 1;
                                    report.bytes += sizes[i];
                                }
                            }
                        }
                        if let Some(e) = decision.last_error {
                            last_error = e;
                        }
                        given_up += decision.give_up.len();
                        if failed > 0 {
                            tracing::debug!(
                                batch = batch_no,
                                attempt,
                                failed,
                                sent = pending.len(),
                                "PutRecords partial failure"
                            );
                        }
                        pending = decision.retry.iter().map(|&j| pending[j]).collect();
                    }
                    Err((retryable, e)) => {
                        tracing::debug!(batch = batch_no, attempt, retryable, error = %e, "PutRecords request failed");
                        last_error = e;
                        if !retryable {
                            stopped = true;
                            break;
                        }
                    }
                }
                if pending.is_empty() {
                    break;
                }
                if attempt >= self.policy.max_attempts {
                    last_error = explain(format!("gave up after {attempt} attempts"), &last_error);
                    stopped = true;
                    break;
                }
                let delay = self.policy.backoff(attempt);
                if Instant::now() + delay >= stop {
                    last_error = explain(
                        format!("deadline reached after {attempt} attempts"),
                        &last_error,
                    );
                    stopped = true;
                    break;
                }
                tokio::time::sleep(delay).await;
            }
            if stopped {
                let later: usize = ranges[batch_no + 1..].iter().map(|r| r.len()).sum();
                let undelivered = pending.len() + given_up + later;
                tracing::warn!(delivered = report.records, undelivered, requests = report.requests, error = %last_error, "Kinesis delivery incomplete");
                return Err(ForwardError::Incomplete {
                    delivered: report.records,
                    undelivered,
                    last_error,
                });
            }
        }
        if given_up > 0 {
            return Err(ForwardError::Incomplete {
                delivered: report.records,
                undelivered: given_up,
                last_error,
            });
        }
        debug_assert_eq!(report.records, total);
        Ok(report)
    }
}

/// `why; last error` (or `why` alone before any error).
fn explain(why: String, last_error: &str) -> String {
    if last_error.is_empty() {
        why
    } else {
        format!("{why}; {last_error}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_arn_is_taken_apart() {
        let arn =
            StreamArn::parse("arn:aws:kinesis:eu-west-1:999988887777:stream/logrelay-central")
                .unwrap();
        assert_eq!(
            (arn.partition(), arn.region(), arn.account(), arn.name()),
            ("aws", "eu-west-1", "999988887777", "logrelay-central")
        );
        let china: StreamArn = "arn:aws-cn:kinesis:cn-north-1:999988887777:stream/s"
            .parse()
            .unwrap();
        assert_eq!(china.partition(), "aws-cn");
        assert_eq!(
            china.to_string(),
            "arn:aws-cn:kinesis:cn-north-1:999988887777:stream/s"
        );
    }

    #[test]
    fn malformed_stream_arns_say_what_is_wrong() {
        for (arn, why) in [
            (
                "arn:aws:kinesis:eu-west-1:999988887777:stream/",
                "stream name",
            ),
            (
                "arn:aws:kinesis:eu-west-1:99998888777:stream/s",
                "12 digits",
            ),
            ("arn:aws:sqs:eu-west-1:999988887777:stream/s", "kinesis"),
            (
                "arn:aws:kinesis:eu-west-1:999988887777:deliverystream/s",
                "stream/NAME",
            ),
            ("arn:aws:kinesis:EU-WEST-1:999988887777:stream/s", "Region"),
            (
                "arn:aws:kinesis:cn-north-1:999988887777:stream/s",
                "partition aws-cn, not aws",
            ),
            (
                "arn:aws:kinesis:eu-west-1:999988887777:stream/a b",
                "stream name",
            ),
            ("not an arn", "6 colon-separated"),
        ] {
            let e = StreamArn::parse(arn).unwrap_err();
            let text = e.to_string();
            assert!(
                matches!(e, StreamArnError::Malformed { .. }),
                "{arn}: {e:?}"
            );
            assert!(text.contains(why) && text.contains(arn), "{arn}: {text}");
        }
    }

    #[test]
    fn stream_arn_limits_hold_at_their_bounds() {
        // 128 characters is the longest stream name (Kinesis API reference, StreamName).
        let longest = format!(
            "arn:aws:kinesis:eu-west-1:999988887777:stream/{}",
            "n".repeat(128)
        );
        assert_eq!(StreamArn::parse(&longest).unwrap().name().len(), 128);
        for (arn, why) in [
            (
                format!(
                    "arn:aws:kinesis:eu-west-1:999988887777:stream/{}",
                    "n".repeat(129)
                ),
                "stream name",
            ),
            (
                "arn:aws:kinesis::999988887777:stream/s".to_owned(),
                "Region",
            ),
            (
                "arn:aws:kinesis:eu-west-1:99998888777x:stream/s".to_owned(),
                "12 digits",
            ),
        ] {
            let text = StreamArn::parse(&arn).unwrap_err().to_string();
            assert!(text.contains(why), "{arn}: {text}");
        }
    }

    #[test]
    fn regions_map_to_their_partitions() {
        for (region, partition) in [
            ("us-east-1", "aws"),
            ("eu-west-1", "aws"),
            ("ap-southeast-5", "aws"),
            ("cn-northwest-1", "aws-cn"),
            ("us-gov-west-1", "aws-us-gov"),
            ("us-iso-east-1", "aws-iso"),
            ("us-isob-east-1", "aws-iso-b"),
            ("eu-isoe-west-1", "aws-iso-e"),
            ("us-isof-south-1", "aws-iso-f"),
            ("eusc-de-east-1", "aws-eusc"),
        ] {
            assert_eq!(partition_of_region(region), partition, "{region}");
        }
    }

    #[test]
    fn the_client_config_takes_the_streams_region_and_keeps_the_rest() {
        let sdk = SdkConfig::builder()
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:5000")
            .build();
        let stream =
            StreamArn::parse("arn:aws:kinesis:eu-west-1:999988887777:stream/central").unwrap();
        let regional = stream_sdk_config(&sdk, &stream).unwrap();
        assert_eq!(regional.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(regional.endpoint_url(), Some("http://127.0.0.1:5000"));
        // No Region configured (a CLI without AWS_REGION): the stream's Region is used.
        let bare = stream_sdk_config(&SdkConfig::builder().build(), &stream).unwrap();
        assert_eq!(bare.region().map(|r| r.as_ref()), Some("eu-west-1"));
    }

    #[test]
    fn a_stream_in_another_partition_is_refused() {
        let sdk = SdkConfig::builder()
            .region(aws_config::Region::new("eu-central-1"))
            .build();
        let gov =
            StreamArn::parse("arn:aws-us-gov:kinesis:us-gov-west-1:999988887777:stream/s").unwrap();
        let e = stream_sdk_config(&sdk, &gov).unwrap_err();
        assert_eq!(
            e,
            StreamArnError::OtherPartition {
                arn: gov.as_str().to_owned(),
                stream_partition: "aws-us-gov".into(),
                region: "eu-central-1".into(),
                own_partition: "aws",
            }
        );
        let text = e.to_string();
        assert!(
            text.contains("aws-us-gov") && text.contains("eu-central-1"),
            "{text}"
        );
    }

    #[test]
    fn debug_redacts_the_external_id() {
        let r = AssumeRole {
            role_arn: "arn:aws:iam::111122223333:role/writer".into(),
            external_id: Some("s3cr3t-external-id".into()),
            session_name: "logrelay".into(),
        };
        let s = format!("{r:?}");
        assert!(!s.contains("s3cr3t"), "{s}");
        assert!(s.contains("<redacted>") && s.contains("role/writer"), "{s}");
    }
}
