//! logrelay: a CloudWatch Logs subscription Lambda.
//!
//! Data flows one way:
//! `payload (decode) → events → pattern FilterSet (match, extract) → metrics (aggregate, emit)`
//! and, beside the metrics, `→ forward (encode, batch, send)`.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod pattern;
