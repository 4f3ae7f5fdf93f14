//! Start-up, written once: configuration → async runtime, AWS SDK configuration and clients,
//! sinks → [`Relay`].
//!
//! The Lambda function ([`crate::lambda`]), `replay` and `check-config` all start through here, so
//! that what `replay` runs and what `check-config` checks is what the Lambda builds. They differ only
//! in where records go when the configuration names no Kinesis stream, and where EMF lines go
//! ([`LocalSinks`]).

use crate::config::{Config, ConfigError, MetricsMode, Mode};
use crate::forward::{AnyRecordSink, ForwardError, StreamArnError};
use crate::metrics::cloudwatch::CloudWatchSink;
use crate::metrics::emf::EmfSink;
use crate::metrics::{AnyMetricSink, NullMetricSink};
use crate::pipeline::{BatchReport, EventsRegion, InvocationReport, Pipeline, Relay, RelayError};
use std::sync::Arc;

/// The relay as every entry point runs it.
pub type AppRelay = Relay<AnyRecordSink, AnyMetricSink>;

/// Why start-up failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The async runtime could not be created.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The AWS endpoint override would send requests in clear text.
    #[error("{0}")]
    Endpoint(String),
    /// The encoders could not be built for the configured limits.
    #[error(transparent)]
    Pipeline(#[from] ForwardError),
    /// The stream ARN cannot be used (malformed, or in another partition).
    #[error(transparent)]
    Stream(#[from] StreamArnError),
}

/// A current-thread async runtime: one invocation runs at a time in a Lambda execution environment.
pub fn runtime() -> Result<tokio::runtime::Runtime, StartError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(StartError::Runtime)
}

/// Whether the configuration needs AWS: a Kinesis stream to forward to, or `PutMetricData`.
pub fn needs_aws(config: &Config) -> bool {
    config.stream_arn.is_some() || config.metrics == MetricsMode::Put
}

/// The AWS SDK configuration from the default provider chain, refusing an endpoint override that
/// is not HTTPS (see [`check_endpoint`]).
pub async fn sdk_config() -> Result<aws_config::SdkConfig, StartError> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    check_endpoint(&sdk).map_err(StartError::Endpoint)?;
    Ok(sdk)
}

/// Refuses an endpoint override that would send AWS requests (and credentials) in clear text: only
/// `https://` endpoints, or plain `http://` to a loopback address (local emulators, tests), are allowed.
/// Without an override the SDK resolves AWS's own HTTPS endpoints.
pub fn check_endpoint(sdk_config: &aws_config::SdkConfig) -> Result<(), String> {
    let Some(url) = sdk_config.endpoint_url() else {
        return Ok(());
    };
    if url.starts_with("https://") {
        return Ok(());
    }
    if let Some(rest) = url.strip_prefix("http://") {
        let authority = rest.split('/').next().unwrap_or_default();
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
        };
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if loopback {
            return Ok(());
        }
    }
    Err(format!(
        "AWS endpoint {url:?} is not HTTPS; only loopback emulators may use plain HTTP"
    ))
}

/// The AWS region the function runs in (for the ndjson enrichment): the SDK's, or `AWS_REGION`
/// when no SDK configuration was loaded (or it has no region).
pub fn region(sdk: Option<&aws_config::SdkConfig>) -> Option<String> {
    sdk.and_then(|sdk| sdk.region().map(|r| r.to_string()))
        .or_else(|| std::env::var("AWS_REGION").ok())
}

/// The sinks an entry point provides itself.
pub struct LocalSinks {
    /// Where records go when the configuration names no Kinesis stream; `None` disables
    /// forwarding.
    pub records: Option<AnyRecordSink>,
    /// Where EMF lines go in `emf` mode; `None` emits no metrics.
    pub emf: Option<EmfSink>,
}

impl LocalSinks {
    /// The Lambda's: no forwarding without a stream, EMF on stdout (where Lambda sends it to
    /// CloudWatch Logs, which extracts the metrics).
    pub fn lambda() -> Self {
        LocalSinks {
            records: None,
            emf: Some(EmfSink::stdout()),
        }
    }
}

/// The record and metric sinks for a configuration: Kinesis when it names a stream and
/// `PutMetricData` in `put` mode, with clients built once from `sdk`; the local sinks otherwise.
pub async fn build_sinks(
    config: &Config,
    sdk: Option<&aws_config::SdkConfig>,
    local: LocalSinks,
) -> Result<(Option<AnyRecordSink>, AnyMetricSink), StreamArnError> {
    let records = match (config.mode, &config.stream_arn, sdk) {
        // The hub reads the central stream: it never forwards (the configuration refuses a stream).
        (Mode::Hub, _, _) => None,
        (Mode::Source, Some(arn), Some(sdk)) => Some(
            AnyRecordSink::kinesis(sdk, arn, config.assume_role.as_ref(), &config.batch_limits)
                .await?,
        ),
        (Mode::Source, _, _) => local.records,
    };
    let metrics = match (config.metrics, sdk, local.emf) {
        (MetricsMode::Put, Some(sdk), _) => AnyMetricSink::CloudWatch(cloudwatch_sink(sdk)),
        (MetricsMode::Emf, _, Some(emf)) => AnyMetricSink::Emf(emf),
        _ => AnyMetricSink::Off(NullMetricSink),
    };
    Ok((records, metrics))
}

/// The `PutMetricData` sink, with its client built from `sdk`.
pub fn cloudwatch_sink(sdk: &aws_config::SdkConfig) -> CloudWatchSink {
    CloudWatchSink::new(aws_sdk_cloudwatch::Client::new(sdk))
}

/// Everything built at start-up, before the first payload.
pub struct App {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The AWS SDK configuration, when loaded.
    pub sdk: Option<aws_config::SdkConfig>,
}

impl App {
    /// Starts from a validated configuration, loading the AWS SDK configuration when `load_sdk`.
    pub async fn start(config: Config, load_sdk: bool) -> Result<App, StartError> {
        let sdk = if load_sdk {
            Some(sdk_config().await?)
        } else {
            None
        };
        Ok(App {
            config: Arc::new(config),
            sdk,
        })
    }

    /// The relay: the pipeline over the sinks of [`build_sinks`].
    pub async fn relay(&self, local: LocalSinks) -> Result<AppRelay, StartError> {
        let (records, metrics) = build_sinks(&self.config, self.sdk.as_ref(), local).await?;
        let region = region(self.sdk.as_ref());
        // The events' Region: the function's own at a source function, which reads its own
        // Region's subscriptions; unknown in the hub, which reads the events of every Region that
        // writes to its stream.
        let events_region = match (self.config.mode, &region) {
            (Mode::Source, Some(r)) => EventsRegion::Known(r.clone()),
            (Mode::Source, None) | (Mode::Hub, _) => EventsRegion::Unknown,
        };
        let pipeline = Pipeline::new(self.config.clone(), region, events_region)?;
        Ok(Relay::new(pipeline, records, metrics))
    }
}

/// What one Lambda event amounted to, by mode.
#[derive(Debug)]
pub enum Handled {
    /// A subscription payload ([`Mode::Source`]).
    Payload(InvocationReport),
    /// A Kinesis batch ([`Mode::Hub`]).
    Batch(BatchReport),
}

/// Handles one Lambda event as the configured mode reads it: a subscription event in
/// [`Mode::Source`], a Kinesis event in [`Mode::Hub`]. The Lambda handler and `replay` both come
/// through here.
pub async fn handle_event(
    relay: &AppRelay,
    event_json: &[u8],
    deadline: Option<std::time::Instant>,
) -> Result<Handled, RelayError> {
    match relay.pipeline().config().mode {
        Mode::Source => relay
            .handle_event(event_json, deadline)
            .await
            .map(Handled::Payload),
        Mode::Hub => relay
            .handle_kinesis_event(event_json, deadline)
            .await
            .map(Handled::Batch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_endpoint(url: &str) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder().endpoint_url(url).build()
    }

    #[test]
    fn only_https_or_loopback_endpoints_are_accepted() {
        assert!(check_endpoint(&aws_config::SdkConfig::builder().build()).is_ok());
        for ok in [
            "https://kinesis.eu-west-1.amazonaws.com",
            "http://127.0.0.1:5000",
            "http://localhost:4566/",
            "http://[::1]:9000",
        ] {
            assert!(check_endpoint(&with_endpoint(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.5:5000",
            "http://kinesis.example.com",
            "ftp://x",
        ] {
            let e = check_endpoint(&with_endpoint(bad)).unwrap_err();
            assert!(e.contains("not HTTPS"), "{e}");
        }
    }
}
