//! Bad input to the payload decoder: every case is a clear error naming what and where, or a
//! documented behaviour; never a panic.

use crate::common;

use logrelay::payload::{Decoder, MessageType, PayloadError, DEFAULT_MAX_DECOMPRESSED_BYTES};
use proptest::prelude::*;

fn valid_gz() -> Vec<u8> {
    common::gzip(common::payload_json("123456789012", "g", "s", &common::events(20)).as_bytes())
}

fn gz_err(bytes: &[u8]) -> PayloadError {
    Decoder::default()
        .decode_gzip(bytes)
        .map(|_| ())
        .unwrap_err()
}

fn json_err(json: &str) -> PayloadError {
    gz_err(&common::gzip(json.as_bytes()))
}

fn event_err(event: &str) -> PayloadError {
    Decoder::default()
        .decode_event(event.as_bytes())
        .map(|_| ())
        .unwrap_err()
}

#[test]
fn envelope_errors() {
    let e = event_err(r#"{"records":[]}"#);
    assert!(matches!(e, PayloadError::Envelope { line: 1, .. }), "{e:?}");
    assert!(e.to_string().contains("missing field `awslogs`"), "{e}");
    let e = event_err(r#"{"awslogs":{}}"#);
    assert!(e.to_string().contains("missing field `data`"), "{e}");
    let e = event_err("xyz");
    assert!(
        matches!(
            e,
            PayloadError::Envelope {
                line: 1,
                column: 1,
                ..
            }
        ),
        "{e:?}"
    );
    let e = event_err(r#"{"awslogs":{"data":42}}"#);
    assert!(e.to_string().contains("invalid type"), "{e}");
}

#[test]
fn invalid_base64_names_the_offset() {
    let e = event_err(r#"{"awslogs":{"data":"H4sI*AAA"}}"#);
    assert_eq!(
        e,
        PayloadError::Base64 {
            offset: 4,
            reason: "invalid character 0x2a".into()
        }
    );
    assert_eq!(
        e.to_string(),
        "invalid base64 in awslogs.data at offset 4: invalid character 0x2a"
    );
    let e = event_err(r#"{"awslogs":{"data":"H4sIA"}}"#);
    assert!(matches!(e, PayloadError::Base64 { .. }), "{e:?}");
}

#[test]
fn base64_with_escaped_slashes_and_missing_padding_is_accepted() {
    let gz = valid_gz();
    let b64 = common::lambda_event(&gz);
    let escaped = b64.replace('/', "\\/");
    let mut d = Decoder::default();
    assert_eq!(
        d.decode_event(escaped.as_bytes())
            .unwrap()
            .data
            .log_events
            .len(),
        20
    );
    let unpadded = b64.replace('=', "");
    assert_eq!(
        d.decode_event(unpadded.as_bytes())
            .unwrap()
            .data
            .log_events
            .len(),
        20
    );
}

#[test]
fn empty_data() {
    assert_eq!(
        event_err(r#"{"awslogs":{"data":""}}"#),
        PayloadError::EmptyGzip
    );
    assert_eq!(gz_err(b""), PayloadError::EmptyGzip);
}

#[test]
fn truncated_gzip() {
    let gz = valid_gz();
    for cut in [3, 10, gz.len() / 2, gz.len() - 4, gz.len() - 1] {
        let e = gz_err(&gz[..cut]);
        assert_eq!(
            e,
            PayloadError::GzipTruncated {
                member: 1,
                offset: 0
            },
            "cut at {cut}"
        );
    }
    let mut two = gz.clone();
    two.extend_from_slice(&gz[..gz.len() / 2]);
    let e = gz_err(&two);
    assert_eq!(
        e,
        PayloadError::GzipTruncated {
            member: 2,
            offset: gz.len()
        }
    );
    assert!(
        e.to_string()
            .contains(&format!("member 2 (starting at byte {})", gz.len())),
        "{e}"
    );
}

#[test]
fn corrupt_gzip() {
    let e = gz_err(b"hello, not gzip at all");
    assert!(
        matches!(
            e,
            PayloadError::GzipCorrupt {
                member: 1,
                offset: 0,
                ..
            }
        ),
        "{e:?}"
    );
    // A flipped bit in the CRC-32 trailer.
    let mut gz = valid_gz();
    let n = gz.len();
    gz[n - 8] ^= 1;
    let e = gz_err(&gz);
    assert!(
        matches!(e, PayloadError::GzipCorrupt { member: 1, .. }),
        "{e:?}"
    );
    // A length trailer (ISIZE) that lies, e.g. claiming 4 GiB: refused, not believed.
    let mut gz = valid_gz();
    let n = gz.len();
    gz[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    let e = gz_err(&gz);
    assert!(
        matches!(
            e,
            PayloadError::GzipCorrupt {
                member: 1,
                offset: 0,
                ..
            }
        ),
        "{e:?}"
    );
    // Garbage in the deflate data.
    let mut gz = valid_gz();
    for b in &mut gz[12..40] {
        *b = 0xff;
    }
    let e = gz_err(&gz);
    assert!(
        matches!(
            e,
            PayloadError::GzipCorrupt { .. } | PayloadError::GzipTruncated { .. }
        ),
        "{e:?}"
    );
}

#[test]
fn trailing_garbage_after_the_members() {
    let gz = valid_gz();
    let mut bad = gz.clone();
    bad.extend_from_slice(b"xyz");
    let e = gz_err(&bad);
    assert_eq!(
        e,
        PayloadError::TrailingData {
            offset: gz.len(),
            len: 3,
            first: b'x'
        }
    );
    assert_eq!(
        e.to_string(),
        format!(
            "3 bytes of trailing data after the last gzip member, at byte {} (first byte 0x78)",
            gz.len()
        )
    );
    let mut zeros = gz.clone();
    zeros.extend_from_slice(&[0; 4]);
    assert!(matches!(
        gz_err(&zeros),
        PayloadError::TrailingData {
            len: 4,
            first: 0,
            ..
        }
    ));
}

#[test]
fn multi_member_payload_decodes_whole() {
    let json = common::payload_json("123456789012", "g", "s", &common::events(50));
    let mut gz = Vec::new();
    for chunk in json.as_bytes().chunks(97) {
        gz.extend(common::gzip(chunk));
    }
    let mut d = Decoder::default();
    let dec = d.decode_gzip(&gz).unwrap();
    assert_eq!(dec.decompressed_len, json.len());
    assert_eq!(dec.data.log_events.len(), 50);
}

#[test]
fn gzip_bomb_stops_at_the_cap() {
    // 8 MiB of zeros in about 8 KiB of gzip.
    let bomb = common::gzip(&vec![0u8; 8 * 1024 * 1024]);
    assert!(bomb.len() < 16 * 1024, "{}", bomb.len());
    let cap = 1024 * 1024;
    let e = Decoder::new(cap)
        .decode_gzip(&bomb)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(e, PayloadError::TooLarge { cap });
    assert!(e.to_string().contains("cap of 1048576 bytes"), "{e}");
    // The same through many small members.
    let member = common::gzip(&vec![b' '; 64 * 1024]);
    let many: Vec<u8> = std::iter::repeat_n(member, 20).flatten().collect();
    assert_eq!(
        Decoder::new(cap)
            .decode_gzip(&many)
            .map(|_| ())
            .unwrap_err(),
        PayloadError::TooLarge { cap }
    );
    // Exactly at the cap is fine (whitespace is valid JSON padding).
    let doc = common::payload_json("1", "g", "s", &[]);
    let mut padded = doc.clone().into_bytes();
    padded.resize(cap, b' ');
    assert!(Decoder::new(cap)
        .decode_gzip(&common::gzip(&padded))
        .is_ok());
    padded.push(b' ');
    assert_eq!(
        Decoder::new(cap)
            .decode_gzip(&common::gzip(&padded))
            .map(|_| ())
            .unwrap_err(),
        PayloadError::TooLarge { cap }
    );
    assert_eq!(
        Decoder::default().max_decompressed(),
        DEFAULT_MAX_DECOMPRESSED_BYTES
    );
}

#[test]
fn not_json() {
    let e = json_err("hello");
    assert!(
        matches!(
            e,
            PayloadError::Json {
                line: 1,
                column: 1,
                ..
            }
        ),
        "{e:?}"
    );
    let e = json_err("{\"messageType\":\n\"DATA_MESSAGE\",");
    assert!(matches!(e, PayloadError::Json { line: 2, .. }), "{e:?}");
}

#[test]
fn missing_fields() {
    let e = json_err(r#"{"messageType":"DATA_MESSAGE"}"#);
    assert!(e.to_string().contains("missing field `owner`"), "{e}");
    let e = json_err(
        r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[]}"#,
    );
    assert!(e.to_string().contains("missing field `logEvents`"), "{e}");
    let e = json_err(
        r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[],"logEvents":[{"id":"1","message":"m"}]}"#,
    );
    assert!(e.to_string().contains("missing field `timestamp`"), "{e}");
}

#[test]
fn wrong_types() {
    let base = |events: &str| {
        format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":{events}}}"#
        )
    };
    for (events, expect) in [
        (
            r#"[{"id":"1","timestamp":"soon","message":"m"}]"#,
            "invalid type: string \"soon\", expected i64",
        ),
        (
            r#"[{"id":"1","timestamp":1,"message":7}]"#,
            "invalid type: integer `7`, expected a string",
        ),
        (
            r#"[{"id":1.5,"timestamp":1,"message":"m"}]"#,
            "expected an event id",
        ),
        (
            r#"[{"id":-3,"timestamp":1,"message":"m"}]"#,
            "expected an event id",
        ),
        (
            r#"[{"id":true,"timestamp":1,"message":"m"}]"#,
            "expected an event id",
        ),
        (r#"{"id":"1"}"#, "invalid type: map, expected a sequence"),
    ] {
        let e = json_err(&base(events));
        assert!(matches!(e, PayloadError::Json { line: 1, .. }), "{e:?}");
        assert!(e.to_string().contains(expect), "{events}: {e}");
    }
    let e = json_err(
        r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":"f","logEvents":[]}"#,
    );
    assert!(
        e.to_string().contains("expected an array of strings"),
        "{e}"
    );
}

#[test]
fn invalid_utf8_names_the_byte_offset() {
    let mut json =
        common::payload_json("1", "g", "s", &[("\"1\"".into(), 1, "abc".into())]).into_bytes();
    let at = json.windows(3).position(|w| w == b"abc").unwrap();
    json[at + 1] = 0xff;
    let e = gz_err(&common::gzip(&json));
    assert_eq!(e, PayloadError::Utf8 { offset: at + 1 });
}

#[test]
fn empty_log_events_decode_to_an_empty_list() {
    let mut d = Decoder::default();
    let gz = common::gzip(common::payload_json("1", "g", "s", &[]).as_bytes());
    assert!(d.decode_gzip(&gz).unwrap().data.log_events.is_empty());
}

#[test]
fn two_mib_message_decodes() {
    let big = "y".repeat(2 * 1024 * 1024);
    let gz = common::gzip(
        common::payload_json("1", "g", "s", &[("\"1\"".into(), 1, big.clone())]).as_bytes(),
    );
    let mut d = Decoder::default();
    let dec = d.decode_gzip(&gz).unwrap();
    assert_eq!(dec.data.log_events[0].message, big);
}

#[test]
fn control_message_and_policy_level_and_unknown_fields() {
    let json = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1432826855000,"message":"CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]}"#;
    let gz = common::gzip(json.as_bytes());
    let mut d = Decoder::default();
    let dec = d.decode_gzip(&gz).unwrap();
    assert_eq!(dec.data.message_type, MessageType::ControlMessage);
    assert_eq!(dec.data.log_events.len(), 1);

    let json = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[],"policyLevel":"ACCOUNT_LEVEL_POLICY","somethingNew":{"a":[1,2]}}"#;
    let gz = common::gzip(json.as_bytes());
    let dec = d.decode_gzip(&gz).unwrap();
    assert_eq!(
        dec.data.policy_level.as_deref(),
        Some("ACCOUNT_LEVEL_POLICY")
    );

    let json = r#"{"messageType":"FUTURE_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":[],"logEvents":[]}"#;
    let gz = common::gzip(json.as_bytes());
    let dec = d.decode_gzip(&gz).unwrap();
    assert_eq!(
        dec.data.message_type,
        MessageType::Other("FUTURE_MESSAGE".into())
    );
}

#[test]
fn decoder_is_reusable_after_errors() {
    let gz = valid_gz();
    let mut d = Decoder::new(1024 * 1024);
    assert!(d.decode_gzip(b"junk").is_err());
    assert!(d
        .decode_gzip(&common::gzip(&vec![0u8; 2 * 1024 * 1024]))
        .is_err());
    assert_eq!(d.decode_gzip(&gz).unwrap().data.log_events.len(), 20);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut d = Decoder::new(1024 * 1024);
        let _ = d.decode_gzip(&bytes).map(|x| x.data.log_events.len());
        let _ = d.decode_data(&bytes).map(|x| x.data.log_events.len());
        let _ = d.decode_event(&bytes).map(|x| x.data.log_events.len());
    }

    #[test]
    fn mutated_payloads_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let mut gz = valid_gz();
        for (i, b) in flips {
            let i = i.index(gz.len());
            gz[i] ^= b;
        }
        let keep = cut.index(gz.len() + 1);
        let mut d = Decoder::new(1024 * 1024);
        let _ = d.decode_gzip(&gz[..keep]).map(|x| x.data.log_events.len());
        let event = common::lambda_event(&gz[..keep]);
        let _ = d.decode_event(event.as_bytes()).map(|x| x.data.log_events.len());
    }

    /// Bytes changed anywhere in a document (long messages, non-ASCII text, escapes): the decoder
    /// refuses what is not UTF-8 at the offset `std::str::from_utf8` names, and otherwise reads
    /// exactly what serde_json reads, or refuses it too.
    #[test]
    fn mutated_documents_decode_as_serde_reads_them(
        changes in proptest::collection::vec((any::<prop::sample::Index>(), prop::sample::select(vec![
            0x80u8, 0xbf, 0xc3, 0xa9, 0xc0, 0xe2, 0x9c, 0xed, 0xa0, 0xf0, 0x9f, 0xf5, 0xff,
            b'"', b'\\', b'n', b'u', b'a', b' ', b'{', b'}', b',', b':',
        ])), 1..4),
    ) {
        let mut events = common::events(12);
        events.push(("\"9\"".into(), 5, "é✓😀 ".repeat(40)));
        events.push(("\"10\"".into(), 6, format!("{}\\\"ü{}", "x".repeat(70), "y".repeat(90))));
        let mut json = common::payload_json("123456789012", "g", "s", &events).into_bytes();
        for (at, byte) in changes {
            let at = at.index(json.len());
            json[at] = byte;
        }
        let mut d = Decoder::default();
        let gz = common::gzip(&json);
        let got = d.decode_gzip(&gz);
        match std::str::from_utf8(&json) {
            Err(e) => prop_assert_eq!(got.map(|_| ()).unwrap_err(), PayloadError::Utf8 { offset: e.valid_up_to() }),
            Ok(text) => {
                let want = serde_json::from_str::<logrelay::payload::LogsData<'_>>(text);
                match (got, want) {
                    (Ok(got), Ok(want)) => prop_assert_eq!(&got.data, &want),
                    (Err(_), Err(_)) => {}
                    (got, want) => prop_assert!(false, "decoder {:?}, serde {:?}", got.map(|g| g.data.log_events.len()), want.map(|w| w.log_events.len())),
                }
            }
        }
    }

    #[test]
    fn any_json_text_never_panics(s in "\\PC{0,300}") {
        let gz = common::gzip(s.as_bytes());
        let _ = Decoder::default().decode_gzip(&gz).map(|x| x.data.log_events.len());
    }
}
