//! Forwarding through the real aws-sdk-kinesis client to a moto Kinesis stream, addressed by ARN,
//! read back with GetShardIterator (by stream name) + GetRecords.

use crate::common;

use common::moto::{sdk_config, unique_name, Moto};
use logrelay::forward::{
    kinesis_client, AssumeRole, BatchLimits, Encoder, Format, KinesisSink, RecordSink,
};
use logrelay::payload::Decoder;
use std::time::{Duration, Instant};

/// (id, timestamp, message) of every event in `records` decoded as cwl payloads.
fn cwl_events(records: &[(String, Vec<u8>)]) -> Vec<(String, i64, String)> {
    let mut d = Decoder::default();
    let mut out = Vec::new();
    for (_, data) in records {
        let dec = d
            .decode_gzip(data)
            .expect("record decodes as a subscription payload");
        for e in &dec.data.log_events {
            out.push((e.id.to_string(), e.timestamp, e.message.to_string()));
        }
    }
    out
}

fn expected(
    events: &[common::FixtureEvent],
    keep: impl Fn(usize) -> bool,
) -> Vec<(String, i64, String)> {
    events
        .iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(_, (id, ts, m))| (id.trim_matches('"').to_owned(), *ts, m.clone()))
        .collect()
}

#[tokio::test]
async fn cwl_unfiltered_is_byte_identical_and_filtered_decodes_to_the_selection() {
    let moto = Moto::shared();
    let config = sdk_config(moto.endpoint()).await;
    let client = aws_sdk_kinesis::Client::new(&config);
    let name = unique_name("cwl");
    let arn = create_stream(&client, &name).await;

    let events = common::events(300);
    let gz = common::gzip(
        common::payload_json(
            "123456789012",
            "/aws/lambda/orders",
            "2024/01/01/[$LATEST]abc",
            &events,
        )
        .as_bytes(),
    );
    let mut decoder = Decoder::default();
    let decoded = decoder.decode_gzip(&gz).unwrap();

    let mut encoder = Encoder::new(Format::Cwl, BatchLimits::default()).unwrap();
    let mut records = Vec::new();
    encoder.encode(&decoded, None, None, &mut records).unwrap();
    let selected: Vec<bool> = (0..events.len()).map(|i| i % 3 == 0).collect();
    encoder
        .encode(&decoded, Some(&selected), None, &mut records)
        .unwrap();
    assert_eq!(records.len(), 2);

    let sink = KinesisSink::new(client.clone(), &arn);
    let report = sink
        .send(records, Some(Instant::now() + Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(
        (report.records, report.requests, report.retried_entries),
        (2, 1, 0)
    );

    let got = common::read_all(&client, &name).await;
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0].1, gz,
        "unfiltered cwl record must be the received gzip, byte for byte"
    );
    assert_eq!(got[0].0, "/aws/lambda/orders/2024/01/01/[$LATEST]abc");
    assert_eq!(cwl_events(&got[..1]), expected(&events, |_| true));
    assert_eq!(cwl_events(&got[1..]), expected(&events, |i| i % 3 == 0));
}

#[tokio::test]
async fn many_records_over_several_requests_arrive_in_order() {
    let moto = Moto::shared();
    let config = sdk_config(moto.endpoint()).await;
    let client = aws_sdk_kinesis::Client::new(&config);
    let name = unique_name("many");
    let arn = create_stream(&client, &name).await;

    // ndjson with a small record limit: many records, more than one PutRecords request.
    let events = common::events(1200);
    let gz = common::gzip(
        common::payload_json(
            "123456789012",
            "/ecs/web",
            "web/nginx/0123456789abcdef0123456789abcdef",
            &events,
        )
        .as_bytes(),
    );
    let mut decoder = Decoder::default();
    let decoded = decoder.decode_gzip(&gz).unwrap();
    let limits = BatchLimits {
        max_records: 500,
        max_batch_bytes: 5 * 1024 * 1024,
        max_record_bytes: 600,
    };
    let mut encoder = Encoder::new(Format::Ndjson, limits).unwrap();
    let mut records = Vec::new();
    encoder
        .encode(&decoded, None, Some("us-east-1"), &mut records)
        .unwrap();
    let n = records.len();
    assert!(n > 500, "{n} records");

    let sink = KinesisSink::new(client.clone(), &arn).with_limits(limits);
    let report = sink.send(records, None).await.unwrap();
    assert_eq!(report.records, n);
    assert_eq!(report.requests, n.div_ceil(500));

    let got = common::read_all(&client, &name).await;
    assert_eq!(got.len(), n);
    let lines: Vec<serde_json::Value> = got
        .iter()
        .flat_map(|(_, d)| {
            std::str::from_utf8(d)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(lines.len(), events.len());
    for (line, (id, ts, msg)) in lines.iter().zip(&events) {
        assert_eq!(line["id"], id.trim_matches('"'));
        assert_eq!(line["timestamp"], *ts);
        assert_eq!(line["message"], msg.as_str());
        assert_eq!(line["ecs"]["container"], "nginx");
        assert_eq!(line["region"], "us-east-1");
    }
}

#[tokio::test]
async fn assume_role_delivers_into_the_central_account() {
    let moto = Moto::shared();
    let config = sdk_config(moto.endpoint()).await;
    let central_account = "222233334444";
    let role = AssumeRole {
        role_arn: format!("arn:aws:iam::{central_account}:role/logrelay-central-writer"),
        external_id: Some("logrelay-test-external-id".into()),
        session_name: "logrelay-test".into(),
    };

    // The central account's stream, created with credentials of that account.
    let central = kinesis_client(&config, Some(&role)).await;
    let name = unique_name("central");
    let arn = create_stream(&central, &name).await;
    assert!(
        arn.contains(&format!(":{central_account}:stream/")),
        "{arn}"
    );

    // The source account's own credentials do not see it: the delivery really crosses accounts.
    let source = aws_sdk_kinesis::Client::new(&config);
    assert!(source
        .describe_stream_summary()
        .stream_name(&name)
        .send()
        .await
        .is_err());

    let events = common::events(20);
    let gz = common::gzip(
        common::payload_json(
            common::moto::DEFAULT_ACCOUNT,
            "/aws/lambda/app",
            "s",
            &events,
        )
        .as_bytes(),
    );
    let mut decoder = Decoder::default();
    let decoded = decoder.decode_gzip(&gz).unwrap();
    let mut records = Vec::new();
    Encoder::new(Format::Cwl, BatchLimits::default())
        .unwrap()
        .encode(&decoded, None, None, &mut records)
        .unwrap();

    let sink = KinesisSink::new(central.clone(), &arn);
    let report = sink
        .send(records, Some(Instant::now() + Duration::from_secs(30)))
        .await
        .unwrap();
    assert_eq!(report.records, 1);

    let got = common::read_all(&central, &name).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1, gz);
}

async fn create_stream(client: &aws_sdk_kinesis::Client, name: &str) -> String {
    common::create_stream(client, name, 1).await
}
