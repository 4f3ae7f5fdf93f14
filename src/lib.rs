//! logrelay: a CloudWatch Logs subscription Lambda.
//!
//! Data flows one way:
//!
//! ```text
//! payload (decode) → events → pattern FilterSet (match, extract) → metrics (aggregate, emit)
//!                                                        ↘ forward (encode, batch, send)
//! ```
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod cli;
pub mod config;
pub mod enrich;
pub mod forward;
pub mod handler;
pub mod metrics;
pub mod pattern;
pub mod payload;
pub mod pipeline;
