//! Limits: AWS's own (with the source of each number) and the few we add to bound hostile input.

/// Maximum length of a filter pattern, in characters.
///
/// Source: CloudWatch Logs API Reference, `PutMetricFilter`, `PutSubscriptionFilter`,
/// `TestMetricFilter` and `MetricFilter`: `filterPattern` "Minimum length of 0. Maximum length of
/// 1024." AWS answers a longer pattern with `InvalidParameterException`.
pub const MAX_PATTERN_CHARS: usize = 1024;

/// Maximum number of regular expressions (`%…%`) in one JSON or space-delimited filter pattern.
///
/// Source: CloudWatch Logs User Guide, "Supported regular expressions (regex) syntax", quotas:
/// "there is a quota of two regular expression patterns within a single filter pattern"; repeated in
/// the API Reference for `PutMetricFilter` and `PutSubscriptionFilter`. A standalone regex pattern
/// holds exactly one. AWS documents no length limit for one regex beyond the pattern length above.
pub const MAX_REGEX_PER_PATTERN: usize = 2;

/// Maximum number of JSON wildcards (`[*]`, `.*`) in one selector.
///
/// Source: CloudWatch Logs User Guide, "Using filter patterns to match terms in JSON log events",
/// JSON wildcard quotas (one wildcard per selector). A second wildcard is rejected at parse time.
pub const MAX_WILDCARDS_PER_SELECTOR: usize = 1;

/// Maximum number of selectors with a JSON wildcard in one filter pattern.
///
/// Source: same quota section as [`MAX_WILDCARDS_PER_SELECTOR`] (three wildcard selectors per
/// filter pattern).
pub const MAX_WILDCARD_SELECTORS: usize = 3;

/// Maximum number of filter patterns containing a regex per log group, across metric and
/// subscription filters.
///
/// Source: same quota section as [`MAX_REGEX_PER_PATTERN`] ("a quota of five regular expression
/// patterns per log group"). Not enforced by the engine (it does not know log groups); exported for
/// configuration validation.
pub const MAX_REGEX_PATTERNS_PER_LOG_GROUP: usize = 5;

/// Number of messages `TestMetricFilter` accepts in one request (1 to 50).
///
/// Source: CloudWatch Logs API Reference, `TestMetricFilter`, `logEventMessages`: "Minimum number
/// of 1 item. Maximum number of 50 items."
pub const MAX_TEST_MESSAGES: usize = 50;

/// Maximum nesting depth of parentheses in a JSON or space-delimited pattern.
///
/// **Our own limit**, not AWS's: AWS documents none. It bounds the parser's recursion; 32 levels is
/// far more than any real pattern uses within [`MAX_PATTERN_CHARS`].
pub const MAX_NESTING_DEPTH: usize = 32;

/// Maximum nesting depth of a JSON log message (objects and arrays) that JSON patterns look into.
///
/// **Our own limit**, inherited from `serde_json`'s recursion limit (128). A deeper message is not
/// parsed and therefore matches no JSON pattern (it does not panic and does not overflow the stack).
pub const MAX_JSON_DEPTH: usize = 128;

/// Maximum compiled size of one regular expression, in bytes.
///
/// **Our own limit**, passed to the `regex` crate's `size_limit`, so that a pattern like
/// `%a{1000}{1000}%` is rejected at parse time instead of exhausting a 128 MB Lambda.
pub const MAX_REGEX_COMPILED_BYTES: usize = 1 << 20;
