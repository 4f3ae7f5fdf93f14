//! The integration tests, one binary with a module per area (linking the AWS SDK once, not once per
//! file). One area: `cargo test --test integration pattern_aws_docs::`. The AWS-backed areas
//! (`*_moto`) need a moto server (see `common::moto`).

mod common;

mod cli_test_metric_filter;
mod forward_encode_props;
mod forward_faults;
mod forward_load;
mod forward_moto;
mod hub;
mod lambda_handle;
mod pattern_alloc;
mod pattern_aws_docs;
mod pattern_errors;
mod pattern_props;
mod payload_bad_input;
mod payload_compat;
mod payload_memory_cap;
mod payload_moto_producer;
mod pipeline_moto;
mod replay_cli;
mod replay_faults;
mod replay_moto;
mod replay_system_fields;
