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

use super::batch::plan_batches;
use super::retry::{classify_entries, is_retryable_request_error, EntryResult};
use super::{BatchLimits, ForwardError, Record, RecordSink, RetryPolicy, SendReport};
use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_sdk_kinesis::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;
use std::fmt;
use std::time::Instant;

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

/// A Kinesis client from `sdk_config`, acting as `assume_role` when given (aws-config's
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
}

impl KinesisSink {
    /// A sink writing to `stream_arn` with default limits and retry policy.
    pub fn new(client: aws_sdk_kinesis::Client, stream_arn: impl Into<String>) -> Self {
        KinesisSink {
            client,
            stream_arn: stream_arn.into(),
            limits: BatchLimits::default(),
            policy: RetryPolicy::default(),
        }
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
