//! The record sinks logrelay ships, behind one type chosen at start-up (Lambda or `replay`).

use super::{
    stream_client, AssumeRole, BatchLimits, DirSink, Format, ForwardError, KinesisSink, NullSink,
    Record, RecordSink, SendReport, StreamArn, StreamArnError,
};
use std::path::Path;
use std::time::Instant;

/// Kinesis, a directory, or a counting null sink.
#[derive(Debug)]
pub enum AnyRecordSink {
    /// PutRecords to a stream, as the named role when one is assumed (errors name it).
    Kinesis(KinesisSink, Option<String>),
    /// One file per record.
    Directory(DirSink),
    /// Counts only.
    Null(NullSink),
}

impl AnyRecordSink {
    /// PutRecords to `stream_arn`, as `assume_role` when given, with a client built from `sdk_config`
    /// for the stream's Region; an invalid ARN or a stream in another partition is refused.
    pub async fn kinesis(
        sdk_config: &aws_config::SdkConfig,
        stream_arn: &str,
        assume_role: Option<&AssumeRole>,
        limits: &BatchLimits,
    ) -> Result<Self, StreamArnError> {
        let stream = StreamArn::parse(stream_arn)?;
        let client = stream_client(sdk_config, &stream, assume_role).await?;
        Ok(AnyRecordSink::Kinesis(
            KinesisSink::new(client, stream_arn).with_limits(*limits),
            assume_role.map(|r| r.role_arn.clone()),
        ))
    }

    /// Files in `dir`, named for `format`; PutRecords calls counted within `limits`.
    pub fn directory(
        dir: &Path,
        format: Format,
        limits: &BatchLimits,
    ) -> Result<Self, std::io::Error> {
        std::fs::create_dir_all(dir)?;
        Ok(AnyRecordSink::Directory(
            DirSink::new(dir, format).with_limits(*limits),
        ))
    }

    /// Counts records, bytes and the PutRecords calls within `limits`.
    pub fn null(limits: &BatchLimits) -> Self {
        AnyRecordSink::Null(NullSink::default().with_limits(*limits))
    }
}

impl AnyRecordSink {
    /// PutRecords calls made so far, failed ones included ([`KinesisSink::calls_made`]); `None` for
    /// the local sinks, which make none (their [`SendReport`]s count the calls Kinesis would take).
    pub fn calls_made(&self) -> Option<usize> {
        match self {
            AnyRecordSink::Kinesis(s, _) => Some(s.calls_made()),
            AnyRecordSink::Directory(_) | AnyRecordSink::Null(_) => None,
        }
    }
}

impl RecordSink for AnyRecordSink {
    async fn send(
        &self,
        records: Vec<Record>,
        deadline: Option<Instant>,
    ) -> Result<SendReport, ForwardError> {
        match self {
            AnyRecordSink::Kinesis(s, role) => {
                s.send(records, deadline)
                    .await
                    .map_err(|e| match (role, e) {
                        (
                            Some(role),
                            ForwardError::Incomplete {
                                delivered,
                                undelivered,
                                last_error,
                            },
                        ) => ForwardError::Incomplete {
                            delivered,
                            undelivered,
                            last_error: format!("{last_error} (writing as assumed role {role})"),
                        },
                        (_, e) => e,
                    })
            }
            AnyRecordSink::Directory(s) => s.send(records, deadline).await,
            AnyRecordSink::Null(s) => s.send(records, deadline).await,
        }
    }
}
