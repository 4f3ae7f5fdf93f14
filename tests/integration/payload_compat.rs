//! Our decoder and `aws_lambda_events::cloudwatch_logs` read the same Lambda event alike.

use crate::common;

use aws_lambda_events::event::cloudwatch_logs::LogsEvent;
use logrelay::payload::{Decoder, LogsData};

fn compare(event: &str) {
    let theirs: LogsEvent =
        serde_json::from_str(event).expect("aws_lambda_events decodes the fixture");
    let mut decoder = Decoder::default();
    let ours = decoder
        .decode_event(event.as_bytes())
        .expect("we decode the fixture");
    let d: &LogsData<'_> = &ours.data;
    let t = &theirs.aws_logs.data;
    assert_eq!(d.message_type.as_str(), t.message_type);
    assert_eq!(d.owner, t.owner);
    assert_eq!(d.log_group, t.log_group);
    assert_eq!(d.log_stream, t.log_stream);
    assert_eq!(d.subscription_filters, t.subscription_filters);
    assert_eq!(d.log_events.len(), t.log_events.len());
    for (a, b) in d.log_events.iter().zip(&t.log_events) {
        assert_eq!(a.id.to_string(), b.id);
        assert_eq!(a.timestamp, b.timestamp);
        assert_eq!(a.message, b.message.as_str());
    }
}

#[test]
fn same_events_as_aws_lambda_events() {
    let json = common::payload_json(
        "123456789012",
        "/aws/lambda/orders",
        "2024/01/01/[$LATEST]abc",
        &common::events(500),
    );
    compare(&common::lambda_event(&common::gzip(json.as_bytes())));
}

#[test]
fn same_events_for_a_control_message() {
    let json = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1432826855000,"message":"CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]}"#;
    compare(&common::lambda_event(&common::gzip(json.as_bytes())));
}
