//! moto as an independent producer of subscription payloads: a CloudWatch Logs subscription filter
//! to a Kinesis stream makes `PutLogEvents` write a real gzip payload to the stream; our
//! `Decoder::decode_gzip` must read it.

use crate::common;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use common::moto::{sdk_config, unique_name, Moto, DEFAULT_ACCOUNT};
use logrelay::forward::{BatchLimits, Encoder, Format};
use logrelay::payload::{Decoder, EventId, MessageType};

#[tokio::test]
async fn moto_subscription_payload_decodes_to_the_put_events() {
    let moto = Moto::shared();
    let config = sdk_config(moto.endpoint()).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let kinesis = aws_sdk_kinesis::Client::new(&config);

    let stream_name = unique_name("producer");
    let arn = common::create_stream(&kinesis, &stream_name, 1).await;
    let group = format!("/aws/lambda/{}", unique_name("fn"));
    let log_stream = "2024/01/01/[$LATEST]0123456789abcdef";
    logs.create_log_group()
        .log_group_name(&group)
        .send()
        .await
        .expect("CreateLogGroup");
    logs.create_log_stream()
        .log_group_name(&group)
        .log_stream_name(log_stream)
        .send()
        .await
        .expect("CreateLogStream");
    logs.put_subscription_filter()
        .log_group_name(&group)
        .filter_name("to-central")
        .filter_pattern("")
        .destination_arn(&arn)
        .role_arn(format!(
            "arn:aws:iam::{DEFAULT_ACCOUNT}:role/cwl-to-kinesis"
        ))
        .send()
        .await
        .expect("PutSubscriptionFilter");

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let messages = [
        "ERROR something failed".to_string(),
        r#"{"level":"warn","latency":12.5,"msg":"quote \" and unicode é✓"}"#.to_string(),
        "tab\tand\nnewline".to_string(),
        "x".repeat(10_000),
    ];
    let events: Vec<InputLogEvent> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            InputLogEvent::builder()
                .timestamp(now + i as i64)
                .message(m)
                .build()
                .unwrap()
        })
        .collect();
    logs.put_log_events()
        .log_group_name(&group)
        .log_stream_name(log_stream)
        .set_log_events(Some(events))
        .send()
        .await
        .expect("PutLogEvents");

    let records = common::read_all(&kinesis, &stream_name).await;
    assert_eq!(
        records.len(),
        1,
        "moto writes one record per PutLogEvents call"
    );
    let data = &records[0].1;
    let mut decoder = Decoder::default();
    let decoded = decoder.decode_gzip(data).expect("moto's payload decodes");
    let d = &decoded.data;
    assert_eq!(d.message_type, MessageType::DataMessage);
    assert_eq!(d.owner, DEFAULT_ACCOUNT);
    assert_eq!(d.log_group, group);
    assert_eq!(d.log_stream, log_stream);
    assert_eq!(d.subscription_filters, vec!["to-central"]);
    assert_eq!(d.log_events.len(), messages.len());
    for (i, (e, m)) in d.log_events.iter().zip(&messages).enumerate() {
        assert_eq!(e.message, m.as_str());
        assert_eq!(e.timestamp, now + i as i64);
        // moto sends an integer id, AWS a string of digits: both are kept as received.
        match &e.id {
            EventId::Int(_) => {}
            EventId::Str(s) => assert!(s.bytes().all(|b| b.is_ascii_digit()), "{s}"),
        }
    }
    println!(
        "moto payload: {} gzip bytes, {} decompressed, id {:?}",
        decoded.gzip.len(),
        decoded.decompressed_len,
        d.log_events[0].id
    );

    // Forwarding it unfiltered passes moto's bytes through untouched; re-encoding a selection keeps
    // the ids as received (integers stay integers).
    let mut encoder = Encoder::new(Format::Cwl, BatchLimits::default()).unwrap();
    let mut out = Vec::new();
    encoder.encode(&decoded, None, None, &mut out).unwrap();
    assert_eq!(&out[0].data, data);
    let sel = [false, true, false, true];
    encoder
        .encode(&decoded, Some(&sel), None, &mut out)
        .unwrap();
    let original_ids = [
        d.log_events[1].id.clone().to_string(),
        d.log_events[3].id.clone().to_string(),
    ];
    let int_ids = matches!(d.log_events[0].id, EventId::Int(_));
    let mut d2 = Decoder::default();
    let again = d2.decode_gzip(&out[1].data).unwrap();
    let ids: Vec<String> = again
        .data
        .log_events
        .iter()
        .map(|e| e.id.to_string())
        .collect();
    assert_eq!(ids, original_ids);
    assert_eq!(
        matches!(again.data.log_events[0].id, EventId::Int(_)),
        int_ids
    );
}
