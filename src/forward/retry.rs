//! When to retry PutRecords, which entries, and how long to wait.
//!
//! The decision from one PutRecords response is [`classify_entries`]: which entries failed and
//! whether each may be retried. Whole-request errors go through [`is_retryable_request_error`].
//! [`RetryPolicy`] bounds attempts and time (jittered exponential backoff, stop before the deadline).

use std::time::{Duration, Instant};

/// Default number of attempts per batch (the first send included).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;
/// Default first backoff delay.
pub const DEFAULT_BASE_DELAY: Duration = Duration::from_millis(50);
/// Default longest backoff delay.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(2);
/// Default timeout of one PutRecords attempt (shortened to end before the deadline).
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time kept free before the deadline (the Lambda still has to report its result).
pub const DEFAULT_DEADLINE_MARGIN: Duration = Duration::from_millis(500);
/// Default bound on the time spent on one `send` when no deadline is given.
pub const DEFAULT_MAX_ELAPSED: Duration = Duration::from_secs(60);

/// Bounds on retrying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per batch, the first included.
    pub max_attempts: u32,
    /// Backoff before the first retry; doubles each retry.
    pub base_delay: Duration,
    /// Longest backoff.
    pub max_delay: Duration,
    /// Timeout of one attempt.
    pub attempt_timeout: Duration,
    /// Stop this long before the deadline.
    pub deadline_margin: Duration,
    /// Bound on one `send` when there is no deadline.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            base_delay: DEFAULT_BASE_DELAY,
            max_delay: DEFAULT_MAX_DELAY,
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            deadline_margin: DEFAULT_DEADLINE_MARGIN,
            max_elapsed: DEFAULT_MAX_ELAPSED,
        }
    }
}

impl RetryPolicy {
    /// The instant by which a `send` started at `start` must have stopped: the deadline minus the
    /// margin, or `start + max_elapsed` without a deadline.
    pub fn stop_at(&self, start: Instant, deadline: Option<Instant>) -> Instant {
        match deadline {
            Some(d) => d
                .checked_sub(self.deadline_margin)
                .unwrap_or(start)
                .max(start),
            None => start + self.max_elapsed,
        }
    }

    /// The backoff before retry number `retry` (1 for the first retry): "equal jitter", a random
    /// delay between half and all of `min(max_delay, base_delay * 2^(retry-1))`.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20))
            .min(self.max_delay);
        let half = exp / 2;
        let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(fastrand::u64(0..=nanos))
    }

    /// The timeout of an attempt starting `now` that must end by `stop`, or None when there is no time
    /// left.
    pub fn attempt_timeout(&self, now: Instant, stop: Instant) -> Option<Duration> {
        let left = stop.checked_duration_since(now)?;
        (!left.is_zero()).then(|| left.min(self.attempt_timeout))
    }
}

/// The result of one entry of a PutRecords response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryResult<'a> {
    /// `ErrorCode`, None for a delivered entry.
    pub error_code: Option<&'a str>,
    /// `ErrorMessage`.
    pub error_message: Option<&'a str>,
}

/// What to do after a PutRecords response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntriesDecision {
    /// Indices (in the request) of failed entries to send again, in order.
    pub retry: Vec<usize>,
    /// Indices of failed entries that must not be retried (they count as undelivered).
    pub give_up: Vec<usize>,
    /// A description of the last failure, e.g. `ProvisionedThroughputExceededException: Rate exceeded`.
    pub last_error: Option<String>,
}

/// Per-entry error codes worth retrying: the two PutRecords documents for partial failures, plus
/// KMS throttling.
pub fn is_retryable_entry_code(code: &str) -> bool {
    matches!(
        code,
        "ProvisionedThroughputExceededException" | "InternalFailure" | "KMSThrottlingException"
    ) || !code.starts_with("KMS")
}

/// Decides from the entries of a PutRecords response (HTTP 200) which of the `sent` entries failed and
/// whether to retry them. PutRecords returns one result per request entry, in order; a response with a
/// different number of results cannot be matched to entries, so every entry is retried (duplicates are
/// acceptable, losses are not). Unknown error codes are retried, except KMS errors other than
/// throttling (access denied, disabled or missing keys do not heal within an invocation).
pub fn classify_entries(sent: usize, results: &[EntryResult<'_>]) -> EntriesDecision {
    let mut d = EntriesDecision::default();
    if results.len() != sent {
        d.retry = (0..sent).collect();
        d.last_error = Some(format!(
            "PutRecords returned {} results for {sent} records; resending all",
            results.len()
        ));
        return d;
    }
    for (i, r) in results.iter().enumerate() {
        if let Some(code) = r.error_code {
            if is_retryable_entry_code(code) {
                d.retry.push(i);
            } else {
                d.give_up.push(i);
            }
            d.last_error = Some(match r.error_message {
                Some(m) => format!("{code}: {m}"),
                None => code.to_owned(),
            });
        }
    }
    d
}

/// Whether a whole-request failure (an error code and/or HTTP status) is worth retrying: throttling,
/// internal errors, any 5xx or 429 yes; access, validation, missing stream and KMS configuration
/// errors no; other 4xx no.
pub fn is_retryable_request_error(code: Option<&str>, status: Option<u16>) -> bool {
    if let Some(code) = code {
        match code {
            "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "Throttling"
            | "ThrottledException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "LimitExceededException"
            | "KMSThrottlingException"
            | "InternalFailure"
            | "InternalFailureException"
            | "InternalServerError"
            | "ServiceUnavailable"
            | "ServiceUnavailableException"
            | "RequestTimeout"
            | "RequestTimeoutException"
            | "ExpiredTokenException"
            | "ExpiredToken" => return true,
            "ResourceNotFoundException"
            | "AccessDeniedException"
            | "InvalidArgumentException"
            | "ValidationException"
            | "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "IncompleteSignature"
            | "MissingAuthenticationToken" => return false,
            c if c.starts_with("KMS") => return false,
            _ => {}
        }
    }
    match status {
        Some(s) => s >= 500 || s == 429,
        // No status and no known code: a transport-level failure.
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> EntryResult<'static> {
        EntryResult {
            error_code: None,
            error_message: None,
        }
    }
    fn err(code: &'static str) -> EntryResult<'static> {
        EntryResult {
            error_code: Some(code),
            error_message: Some("msg"),
        }
    }

    #[test]
    fn all_delivered() {
        let d = classify_entries(3, &[ok(), ok(), ok()]);
        assert!(d.retry.is_empty() && d.give_up.is_empty() && d.last_error.is_none());
    }

    #[test]
    fn failed_indices_in_order() {
        let d = classify_entries(
            5,
            &[
                ok(),
                err("ProvisionedThroughputExceededException"),
                ok(),
                err("InternalFailure"),
                err("KMSAccessDeniedException"),
            ],
        );
        assert_eq!(d.retry, vec![1, 3]);
        assert_eq!(d.give_up, vec![4]);
        assert_eq!(
            d.last_error.as_deref(),
            Some("KMSAccessDeniedException: msg")
        );
    }

    #[test]
    fn unknown_code_is_retried_kms_throttling_too() {
        let d = classify_entries(2, &[err("SomethingNew"), err("KMSThrottlingException")]);
        assert_eq!(d.retry, vec![0, 1]);
    }

    #[test]
    fn mismatched_result_count_resends_everything() {
        let d = classify_entries(3, &[ok()]);
        assert_eq!(d.retry, vec![0, 1, 2]);
        assert!(d.last_error.unwrap().contains("1 results for 3"));
    }

    #[test]
    fn request_errors() {
        assert!(is_retryable_request_error(
            Some("ProvisionedThroughputExceededException"),
            Some(400)
        ));
        assert!(is_retryable_request_error(
            Some("ThrottlingException"),
            Some(400)
        ));
        assert!(is_retryable_request_error(None, Some(503)));
        assert!(is_retryable_request_error(Some("Whatever"), Some(500)));
        assert!(is_retryable_request_error(None, None));
        assert!(!is_retryable_request_error(
            Some("ResourceNotFoundException"),
            Some(400)
        ));
        assert!(!is_retryable_request_error(
            Some("AccessDeniedException"),
            Some(400)
        ));
        assert!(!is_retryable_request_error(
            Some("KMSDisabledException"),
            Some(400)
        ));
        assert!(!is_retryable_request_error(Some("Whatever"), Some(400)));
    }

    #[test]
    fn backoff_grows_with_jitter_within_bounds() {
        let p = RetryPolicy::default();
        for retry in 1..30 {
            let exp = (p.base_delay * 2u32.saturating_pow(retry - 1).min(1 << 20)).min(p.max_delay);
            let b = p.backoff(retry);
            assert!(b >= exp / 2 && b <= exp, "retry {retry}: {b:?} vs {exp:?}");
        }
    }

    #[test]
    fn stop_and_attempt_timeout_respect_the_deadline() {
        let p = RetryPolicy {
            deadline_margin: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        let start = Instant::now();
        let stop = p.stop_at(start, Some(start + Duration::from_secs(3)));
        assert_eq!(stop, start + Duration::from_secs(2));
        assert_eq!(p.stop_at(start, Some(start)), start);
        assert_eq!(p.stop_at(start, None), start + p.max_elapsed);
        assert_eq!(p.attempt_timeout(start, stop), Some(Duration::from_secs(2)));
        assert_eq!(p.attempt_timeout(stop, stop), None);
        assert_eq!(
            p.attempt_timeout(start, start + Duration::from_secs(100)),
            Some(p.attempt_timeout)
        );
    }
}
