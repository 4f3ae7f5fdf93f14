//! Every example of the AWS documentation for the filter-pattern language, as data.
//!
//! Sources (cited per row):
//! - OG  = CloudWatch Logs User Guide, older revision "Filter and Pattern Syntax"
//!   (awsdocs/amazon-cloudwatch-logs-user-guide, doc_source/FilterAndPatternSyntax.md).
//! - CG  = current User Guide, "Filter pattern syntax for metric filters, subscription filters,
//!   filter log events, and Live Tail", and its pages on matching terms in unstructured, JSON and
//!   space-delimited log events (read 2026-12-01).
//! - RX  = current User Guide subpage "Supported regular expressions (regex) syntax".
//! - CDK = AWS CDK `aws-logs` `FilterPattern` documentation examples.
//! - CW  = observed `TestMetricFilter` behaviour where the guide is silent or says otherwise
//!   (`src/pattern/SEMANTICS.md` records each observation).
//!
//! Where the guide and CloudWatch disagree, the row follows CloudWatch and says why.
//!
//! Every example is evaluated through [`production::test`]: the pattern alone ([`Pattern::test`])
//! and inside a `FilterSet` of many other filters over the plain and the escaped message, which must
//! agree.

use crate::common::production;
use logrelay::pattern::{FieldValue, Pattern, PatternKind};

/// One row: where it comes from, the pattern, and per message whether it matches and (if given)
/// the exact extractedValues.
struct Row<'a> {
    source: &'a str,
    pattern: &'a str,
    cases: &'a [(&'a str, bool)],
}

fn run(rows: &[Row<'_>]) {
    for r in rows {
        let p = Pattern::parse(r.pattern)
            .unwrap_or_else(|e| panic!("[{}] {:?} does not parse:\n{e}", r.source, r.pattern));
        for (msg, want) in r.cases {
            assert_eq!(
                production::test(&p, msg).is_some(),
                *want,
                "[{}] pattern {:?} on message {:?}",
                r.source,
                r.pattern,
                msg
            );
        }
    }
}

fn extracted(pattern: &str, msg: &str) -> Vec<(String, String)> {
    production::test(&Pattern::parse(pattern).unwrap(), msg)
        .unwrap_or_else(|| panic!("{pattern:?} should match {msg:?}"))
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

const OR_MSGS: [&str; 3] = ["ERROR WARN message", "ERROR message", "WARN message"];

#[test]
fn terms() {
    run(&[
        Row {
            source: "OG Matching Terms, Example 1: Single term",
            pattern: "ERROR",
            cases: &[
                ("[ERROR] A fatal exception has occurred", true),
                ("Exiting with ERRORCODE: -1", true),
                ("[error] lower case", false),
            ],
        },
        Row {
            source: "OG Matching Terms, Example 1 (quoted)",
            pattern: "\"ERROR\"",
            cases: &[
                ("[ERROR] A fatal exception has occurred", true),
                ("Exiting with ERRORCODE: -1", true),
            ],
        },
        Row {
            source: "OG Matching Terms, Example 2: Include a term and exclude a term",
            pattern: "\"ERROR\" - \"Exiting\"",
            cases: &[
                ("[ERROR] A fatal exception has occurred", true),
                ("Exiting with ERRORCODE: -1", false),
            ],
        },
        Row {
            source: "OG Matching Terms, Example 3: Multiple terms",
            pattern: "ERROR Exception",
            cases: &[
                ("[ERROR] Caught IllegalArgumentException", true),
                ("[ERROR] Unhandled Exception", true),
                ("[ERROR] Unhandled", false),
            ],
        },
        Row {
            source: "OG Matching Terms, Example 3: Multiple terms (sentence)",
            pattern: "Failed to process the request",
            cases: &[
                ("[WARN] Failed to process the request", true),
                (
                    "[ERROR] Unable to continue: Failed to process the request",
                    true,
                ),
                ("[ERROR] the request to process Failed", true),
                ("[ERROR] Failed to process", false),
            ],
        },
        Row {
            source: "CG Matching terms: all terms",
            pattern: "ERROR ARGUMENTS",
            cases: &[
                ("[ERROR 419] MISSING ARGUMENTS", true),
                ("[ERROR 400] BAD REQUEST", false),
            ],
        },
        Row {
            source: "CG Matching terms: exact phrase",
            pattern: "\"INTERNAL SERVER ERROR\"",
            cases: &[
                ("[ERROR 500] INTERNAL SERVER ERROR", true),
                ("[ERROR 400] BAD REQUEST", false),
                ("[ERROR 500] INTERNAL ERROR SERVER", false),
            ],
        },
        Row {
            source: "CG Matching terms: exclusion",
            pattern: "ERROR -ARGUMENTS",
            cases: &[
                ("[ERROR 400] BAD REQUEST", true),
                ("[ERROR 419] MISSING ARGUMENTS", false),
            ],
        },
        Row {
            // The guide calls `" "` "match everything", but CloudWatch treats it as the literal
            // one-space term: it does not match `plain` or `hello-world`.
            source: "CG \" \" (CW: a literal space, not match-all)",
            pattern: "\" \"",
            cases: &[
                ("[ERROR 400] BAD REQUEST", true),
                ("plain", false),
                ("hello-world", false),
            ],
        },
        Row {
            source: "OG Example: Match everything: empty pattern",
            pattern: "",
            cases: &[("[ERROR 400] BAD REQUEST", true), ("x", true)],
        },
        Row {
            source: "OG OR Pattern Matching: ERROR",
            pattern: "ERROR",
            cases: &[(OR_MSGS[0], true), (OR_MSGS[1], true), (OR_MSGS[2], false)],
        },
        Row {
            source: "OG/CG OR Pattern Matching: ?ERROR ?WARN",
            pattern: "?ERROR ?WARN",
            cases: &[
                (OR_MSGS[0], true),
                (OR_MSGS[1], true),
                (OR_MSGS[2], true),
                ("INFO", false),
            ],
        },
        Row {
            source: "OG OR Pattern Matching: ERROR WARN",
            pattern: "ERROR WARN",
            cases: &[(OR_MSGS[0], true), (OR_MSGS[1], false), (OR_MSGS[2], false)],
        },
        Row {
            source: "OG/CG OR Pattern Matching: ERROR -WARN",
            pattern: "ERROR -WARN",
            cases: &[(OR_MSGS[0], false), (OR_MSGS[1], true), (OR_MSGS[2], false)],
        },
        Row {
            source: "CG ?ERROR ?ARGUMENTS REQUEST: the ? terms are ignored",
            pattern: "?ERROR ?ARGUMENTS REQUEST",
            cases: &[
                ("[ERROR 400] BAD REQUEST", true),
                ("[INFO 200] REQUEST served", true),
                ("[ERROR 419] MISSING ARGUMENTS", false),
            ],
        },
        Row {
            source: "CW ?ERROR ?ARGUMENTS -REQUEST behaves as -REQUEST",
            pattern: "?ERROR ?ARGUMENTS -REQUEST",
            cases: &[
                ("[ERROR 419] MISSING ARGUMENTS", true),
                ("all good", true),
                ("[ERROR 400] BAD REQUEST", false),
            ],
        },
        Row {
            // The CDK renders anyTermGroup(['ERROR','MainThread'],['WARN','Deadlock']) like this and
            // describes it as "either group"; CloudWatch ignores the `?` terms once plain terms are
            // present, so the pattern needs MainThread and Deadlock.
            source: "CDK FilterPattern.anyTermGroup rendering (CW: ? terms ignored)",
            pattern: "?\"ERROR\" \"MainThread\" ?\"WARN\" \"Deadlock\"",
            cases: &[
                ("ERROR in MainThread", false),
                ("WARN Deadlock detected", false),
                ("MainThread Deadlock", true),
            ],
        },
        Row {
            source: "CDK FilterPattern.allTerms('ERROR','MainThread')",
            pattern: "\"ERROR\" \"MainThread\"",
            cases: &[("ERROR in MainThread", true), ("ERROR elsewhere", false)],
        },
        Row {
            source: "Lightsail GetContainerLog filterPattern (same syntax): -ERROR",
            pattern: "-ERROR",
            cases: &[("all good", true), ("an ERROR", false)],
        },
        Row {
            source: "Lightsail GetContainerLog filterPattern: ?ERROR ?Exception",
            pattern: "?ERROR ?Exception",
            cases: &[("an ERROR", true), ("an Exception", true), ("fine", false)],
        },
    ]);
}

/// The log events of the current guide's unstructured-terms examples.
const CG_EVENTS: [&str; 4] = [
    "[ERROR 400] BAD REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
];

#[test]
fn current_guide_unstructured_examples() {
    let [e400, e401, e419, e420] = CG_EVENTS;
    run(&[
        Row {
            source: "CG single term: ERROR",
            pattern: "ERROR",
            cases: &[(e400, true), (e401, true), (e419, true), (e420, true)],
        },
        Row {
            source: "CG multiple terms: ERROR ARGUMENTS",
            pattern: "ERROR ARGUMENTS",
            cases: &[(e400, false), (e401, false), (e419, true), (e420, true)],
        },
        Row {
            source: "CG match any term: ?ERROR ?ARGUMENTS",
            pattern: "?ERROR ?ARGUMENTS",
            cases: &[
                (e400, true),
                (e401, true),
                (e419, true),
                (e420, true),
                ("[INFO 200] OK", false),
            ],
        },
        Row {
            source: "CG exclude: ERROR -ARGUMENTS",
            pattern: "ERROR -ARGUMENTS",
            cases: &[(e400, true), (e401, true), (e419, false), (e420, false)],
        },
        Row {
            source: "CG ? combined with other terms: ?ERROR ?ARGUMENTS REQUEST",
            pattern: "?ERROR ?ARGUMENTS REQUEST",
            cases: &[(e400, true), (e401, true), (e419, false), (e420, false)],
        },
        Row {
            source: "exact phrase on the CG events (ours): \"BAD REQUEST\"",
            pattern: "\"BAD REQUEST\"",
            cases: &[(e400, true), (e401, false), (e419, false), (e420, false)],
        },
    ]);
}

#[test]
fn space_delimited_or() {
    run(&[
        Row {
            // The current guide: lines "where the first word is ERROR", whatever their length
            // (the last field takes the rest of the line).
            source: "CG space-delimited: [w1=ERROR, w2]",
            pattern: "[w1=ERROR, w2]",
            cases: &[
                (OR_MSGS[0], true),
                (OR_MSGS[1], true),
                (OR_MSGS[2], false),
                ("ERROR", false),
                ("ERROR Unable to process the request: disk full", true),
            ],
        },
        Row {
            source: "CG space-delimited: [w1=ERROR || w1=WARN, w2]",
            pattern: "[w1=ERROR || w1=WARN, w2]",
            cases: &[
                (OR_MSGS[0], true),
                (OR_MSGS[1], true),
                (OR_MSGS[2], true),
                ("INFO message", false),
            ],
        },
        Row {
            // The old wording ("matches lines containing both ERROR and WARN") contradicts the
            // grammar; the current wording (first word is neither) is implemented.
            source: "CG space-delimited: [w1!=ERROR && w1!=WARN, w2]",
            pattern: "[w1!=ERROR && w1!=WARN, w2]",
            cases: &[
                (OR_MSGS[0], false),
                (OR_MSGS[1], false),
                (OR_MSGS[2], false),
                ("INFO message", true),
            ],
        },
    ]);
}

#[test]
fn json_or() {
    let m1 = r#"{"foo": "bar"}"#;
    let m2 = r#"{"foo": "baz"}"#;
    run(&[
        Row {
            source: "OG OR in JSON: {$.foo = bar}",
            pattern: "{$.foo = bar}",
            cases: &[(m1, true), (m2, false)],
        },
        Row {
            source: "OG OR in JSON: {$.foo = baz }",
            pattern: "{$.foo = baz }",
            cases: &[(m1, false), (m2, true)],
        },
        Row {
            source: "OG OR in JSON: {$.foo = bar || $.foo = baz }",
            pattern: "{$.foo = bar || $.foo = baz }",
            cases: &[(m1, true), (m2, true), (r#"{"foo": "qux"}"#, false)],
        },
    ]);
}

const JSON_SAMPLE: &str = r#"{
  "eventType": "UpdateTrail",
  "sourceIPAddress": "111.111.111.111",
  "arrayKey": [
        "value",
        "another value"
  ],
  "objectList": [
       {
         "name": "a",
         "id": 1
       },
       {
         "name": "b",
         "id": 2
       }
  ],
  "SomeObject": null,
  "ThisFlag": true
}"#;

#[test]
fn json_metric_filter_examples() {
    // OG/CG "JSON Metric Filter Examples": every one of these matches the sample object, and (as
    // for every pattern that is not space-delimited) extracts nothing.
    for pattern in [
        r#"{ $.eventType = "UpdateTrail" }"#,
        "{ $.sourceIPAddress != 123.123.* }",
        r#"{ $.arrayKey[0] = "value" }"#,
        "{ $.objectList[1].id = 2 }",
        "{ $.SomeObject IS NULL }",
        "{ $.SomeOtherObject NOT EXISTS }",
        "{ $.ThisFlag IS TRUE }",
    ] {
        assert_eq!(extracted(pattern, JSON_SAMPLE), pairs(&[]), "{pattern}");
    }
    // The same filters, turned so that they must not match.
    for pattern in [
        r#"{ $.eventType = "CreateTrail" }"#,
        "{ $.sourceIPAddress != 111.111.* }",
        r#"{ $.arrayKey[1] = "value" }"#,
        "{ $.objectList[2].id = 2 }",
        "{ $.eventType IS NULL }",
        "{ $.SomeObject NOT EXISTS }",
        "{ $.ThisFlag IS FALSE }",
        // "If arrayKey is not an array this will be false."
        "{ $.eventType[0] = U* }",
        // "If the items in objectList are not objects or do not have an id property …"
        "{ $.arrayKey[0].id = 1 }",
    ] {
        let p = Pattern::parse(pattern).unwrap();
        assert_eq!(production::test(&p, JSON_SAMPLE), None, "{pattern}");
    }
}

const COMPOUND_SAMPLE: &str = r#"{
    "user": {
        "id": 1,
        "email": "John.Stiles@example.com"
    },
    "users": [
        {
         "id": 2,
         "email": "John.Doe@example.com"
        },
        {
         "id": 3,
         "email": "Jane.Doe@example.com"
        }
    ],
    "actions": [
        "GET",
        "PUT",
        "DELETE"
    ],
    "coordinates": [
        [0, 1, 2],
        [4, 5, 6],
        [7, 8, 9]
    ]
}"#;

#[test]
fn json_compound_conditions() {
    run(&[
        Row {
            source: "OG/CG JSON compound conditions, example 1",
            pattern: r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#,
            cases: &[(COMPOUND_SAMPLE, true)],
        },
        Row {
            source: "OG/CG JSON compound conditions, example 2",
            pattern: r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#,
            cases: &[(COMPOUND_SAMPLE, false)],
        },
        Row {
            source: "OG/CG JSON compound conditions, example 3 (&& binds tighter)",
            pattern: r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }"#,
            cases: &[(COMPOUND_SAMPLE, true)],
        },
        Row {
            source: "OG/CG JSON compound conditions, example 4",
            pattern: r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }"#,
            cases: &[(COMPOUND_SAMPLE, false)],
        },
    ]);
    // CW: JSON patterns extract nothing (`extractedValues` is `{}`).
    assert_eq!(
        extracted(
            r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#,
            COMPOUND_SAMPLE
        ),
        pairs(&[])
    );
}

#[test]
fn json_special_considerations() {
    // OG/CG: "both {$.users = 1} and {$.users != 1} will fail to match a log event where users is
    // an array".
    run(&[
        Row {
            source: "OG JSON special considerations: = on an array",
            pattern: "{$.users = 1}",
            cases: &[(r#"{"users": [1, 2, 3]}"#, false)],
        },
        Row {
            source: "OG JSON special considerations: != on an array",
            pattern: "{$.users != 1}",
            cases: &[(r#"{"users": [1, 2, 3]}"#, false)],
        },
    ]);
}

#[test]
fn json_wildcards() {
    // OG "STRING": *Event matches PutEvent and GetEvent; Event* matches EventId and EventName;
    // Ev*ent only matches the actual string Ev*ent.
    run(&[
        Row {
            source: "OG JSON STRING wildcard *Event",
            pattern: "{ $.e = *Event }",
            cases: &[
                (r#"{"e": "PutEvent"}"#, true),
                (r#"{"e": "GetEvent"}"#, true),
                (r#"{"e": "EventId"}"#, false),
            ],
        },
        Row {
            source: "OG JSON STRING wildcard Event*",
            pattern: "{ $.e = Event* }",
            cases: &[
                (r#"{"e": "EventId"}"#, true),
                (r#"{"e": "EventName"}"#, true),
                (r#"{"e": "PutEvent"}"#, false),
            ],
        },
        Row {
            source: "OG JSON STRING wildcard in the middle is literal",
            pattern: "{ $.e = Ev*ent }",
            cases: &[
                (r#"{"e": "Ev*ent"}"#, true),
                (r#"{"e": "Event"}"#, false),
                (r#"{"e": "EvXent"}"#, false),
            ],
        },
    ]);
}

#[test]
fn json_numeric_comparisons() {
    // OG "Numeric Comparisons" examples. The guide gives no object; this one is ours.
    let m = r#"{"latency": 500, "numbers": [9], "processes": [{}, {}, {}, {}, {"averageRuntime": 55.5}], "errorCode": 400}"#;
    run(&[
        Row {
            source: "OG numeric: { $.latency >= 500 }",
            pattern: "{ $.latency >= 500 }",
            cases: &[(m, true), (r#"{"latency": 499.9}"#, false)],
        },
        Row {
            source: "OG numeric: { $.numbers[0] < 10e3 }",
            pattern: "{ $.numbers[0] < 10e3 }",
            cases: &[(m, true), (r#"{"numbers": [10000]}"#, false)],
        },
        Row {
            source: "OG numeric: { $.numbers[0] < 10e-3 }",
            pattern: "{ $.numbers[0] < 10e-3 }",
            cases: &[(m, false), (r#"{"numbers": [0.001]}"#, true)],
        },
        Row {
            source: "OG numeric: { $.processes[4].averageRuntime <= 55.5 }",
            pattern: "{ $.processes[4].averageRuntime <= 55.5 }",
            cases: &[(m, true)],
        },
        Row {
            // CW: `= 400` also matches the string "400" (but not "400.0").
            source: "OG numeric: { $.errorCode = 400 }",
            pattern: "{ $.errorCode = 400 }",
            cases: &[
                (m, true),
                (r#"{"errorCode": 400.0}"#, true),
                (r#"{"errorCode": "400"}"#, true),
                (r#"{"errorCode": "400.0"}"#, false),
            ],
        },
        Row {
            source: "OG numeric: { $.errorCode != 500 }",
            pattern: "{ $.errorCode != 500 }",
            cases: &[(m, true), (r#"{"errorCode": 500}"#, false)],
        },
        Row {
            source: "OG numeric: { $.latency > +1000 }",
            pattern: "{ $.latency > +1000 }",
            cases: &[
                (m, false),
                (r#"{"latency": 1000.5}"#, true),
                (r#"{"latency": 1000}"#, false),
            ],
        },
        Row {
            source: "CG numeric: { $.latency > 99.5 } on 100",
            pattern: "{ $.latency > 99.5 }",
            cases: &[(r#"{"latency": 100}"#, true)],
        },
    ]);
}

/// The number a metric value reference reads from `message` when `pattern` matches it (None: no
/// match, or nothing usable there).
fn metric_value(pattern: &str, reference: &str, message: &str) -> Option<f64> {
    let p = Pattern::parse(pattern).unwrap();
    let r = p.field_ref(reference).unwrap();
    let set = logrelay::pattern::FilterSet::new([p]);
    let mut s = set.scratch();
    let mut got = None;
    set.eval(message, &mut s, |_, c| {
        got = c.get(&r).and_then(|v| v.as_f64());
    });
    got
}

#[test]
fn json_metric_value_latency() {
    // OG "Publishing Numerical Values Found in Log Entries": { $.latency = * } with metric value
    // $.latency publishes 50 for {"latency": 50, ...}.
    assert_eq!(
        metric_value(
            "{ $.latency = * }",
            "$.latency",
            r#"{"latency": 50, "requestType": "GET"}"#
        ),
        Some(50.0)
    );
    // A metric value inside an array, selected by index (the selector of the OG numeric example
    // `{ $.processes[4].averageRuntime <= 55.5 }`).
    let m = r#"{"processes": [{}, {}, {}, {}, {"averageRuntime": 55.5}], "numbers": [9, 12]}"#;
    assert_eq!(
        metric_value(
            "{ $.processes[4].averageRuntime <= 55.5 }",
            "$.processes[4].averageRuntime",
            m
        ),
        Some(55.5)
    );
    assert_eq!(
        metric_value("{ $.numbers[1] > 10 }", "$.numbers[1]", m),
        Some(12.0)
    );
    assert_eq!(
        metric_value("{ $.numbers[0] > 1 }", "$.numbers[2]", m),
        None
    );
}

const ACCESS_LOG: [&str; 3] = [
    r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#,
    r#"127.0.0.1 - frank [10/Oct/2000:13:35:22 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324"#,
    r#"127.0.0.1 - frank [10/Oct/2000:13:50:35 -0700] "GET /apache_pb.gif HTTP/1.0" 200 4355"#,
];

#[test]
fn space_delimited_access_log() {
    let [a, b, c] = ACCESS_LOG;
    run(&[
        Row {
            source: "OG space-delimited: all seven fields named",
            pattern: "[ip, user, username, timestamp, request, status_code, bytes]",
            cases: &[(a, true), (b, true), (c, true), ("too few fields", false)],
        },
        Row {
            source: "OG space-delimited: [..., status_code, bytes]",
            pattern: "[..., status_code, bytes]",
            cases: &[(a, true), ("x", false), ("200 1534", true)],
        },
        Row {
            source: "OG space-delimited: [ip, user, ..., status_code, bytes]",
            pattern: "[ip, user, ..., status_code, bytes]",
            cases: &[(a, true), ("a b c", false), ("a b c d", true)],
        },
        Row {
            source: "OG space-delimited: [ip, user, ...]",
            pattern: "[ip, user, ...]",
            cases: &[(a, true), ("a", false)],
        },
        Row {
            source: "OG space-delimited conditions: bytes > 1000",
            pattern: "[ip, user, username, timestamp, request, status_code, bytes > 1000]",
            cases: &[(a, true), (b, true), (c, true)],
        },
        Row {
            source: "OG space-delimited conditions: status_code = 200",
            pattern: "[ip, user, username, timestamp, request, status_code = 200, bytes]",
            cases: &[(a, true), (b, false), (c, true)],
        },
        Row {
            source: "OG space-delimited conditions: status_code = 4*",
            pattern: "[ip, user, username, timestamp, request, status_code = 4*, bytes]",
            cases: &[(a, false), (b, false), (c, false)],
        },
        Row {
            source: "OG space-delimited conditions: request = *html*, status_code = 4*",
            pattern: "[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]",
            cases: &[
                (a, false),
                (r#"1.1.1.1 - f [t] "GET /index.html HTTP/1.0" 404 1534"#, true),
            ],
        },
        Row {
            // Six fields: no seven-field line matches; `bytes` names no field and so applies to
            // the spec's own field (semantics::UNKNOWN_CONDITION_FIELD_IS_OWN_FIELD).
            source: "OG space-delimited &&: status_code = 4* && bytes > 1000 (six specs)",
            pattern: "[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]",
            cases: &[(a, false), (b, false), ("a b c d e 4040", true), ("a b c d e 404", false)],
        },
        Row {
            source: "OG space-delimited &&: status_code = 4* && status_code != 403",
            pattern: "[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]",
            cases: &[
                (a, false),
                (r#"1.1.1.1 - f [t] "GET /" 404 1534"#, true),
                (r#"1.1.1.1 - f [t] "GET /" 403 1534"#, false),
            ],
        },
    ]);
}

#[test]
fn space_delimited_extracted_values() {
    // CG space-delimited example: the extracted fields without the enclosing [] and "".
    assert_eq!(
        extracted(
            "[ip, user, username, timestamp, request, status_code, bytes]",
            r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#
        ),
        pairs(&[
            ("$ip", "127.0.0.1"),
            ("$user", "Prod"),
            ("$username", "frank"),
            ("$timestamp", "10/Oct/2000:13:25:15 -0700"),
            ("$request", "GET /index.html HTTP/1.0"),
            ("$status_code", "404"),
            ("$bytes", "1534"),
        ])
    );
    // OG [ip, user, ..., status_code, bytes]: the named fields before and after `...` keep their
    // names, the fields `...` covers are keyed by position; `...` may cover no field.
    assert_eq!(
        extracted("[ip, user, ..., status_code, bytes]", ACCESS_LOG[0]),
        pairs(&[
            ("$ip", "127.0.0.1"),
            ("$user", "-"),
            ("$3", "frank"),
            ("$4", "10/Oct/2000:13:25:15 -0700"),
            ("$5", "GET /apache_pb.gif HTTP/1.0"),
            ("$status_code", "200"),
            ("$bytes", "1534"),
        ])
    );
    assert_eq!(
        extracted("[ip, user, ..., status_code, bytes]", "10.0.0.1 - 404 12"),
        pairs(&[
            ("$ip", "10.0.0.1"),
            ("$user", "-"),
            ("$status_code", "404"),
            ("$bytes", "12"),
        ])
    );
    // OG "Example Filter" [..., request=*.html*, status_code=4*,]: positional keys $1–$4 and $7
    // (the guide's printed $request value is a typo; the key layout is what we keep).
    assert_eq!(
        extracted(
            "[..., request=*.html*, status_code=4*,]",
            r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#
        ),
        pairs(&[
            ("$1", "127.0.0.1"),
            ("$2", "-"),
            ("$3", "frank"),
            ("$4", "10/Oct/2000:13:25:15 -0700"),
            ("$request", "GET /index.html HTTP/1.0"),
            ("$status_code", "404"),
            ("$7", "1534"),
        ])
    );
}

#[test]
fn regex_page() {
    run(&[
        Row {
            source: "RX %AUTHORIZED%",
            pattern: "%AUTHORIZED%",
            cases: &[
                ("[ERROR 401] UNAUTHORIZED REQUEST", true),
                ("[SUCCESS 200] AUTHORIZED REQUEST", true),
                ("[SUCCESS 200] authorized", false),
            ],
        },
        Row {
            source: "RX ^ anchor: %^[hc]at%",
            pattern: "%^[hc]at%",
            cases: &[("hat trick", true), ("cat", true), ("that", false)],
        },
        Row {
            source: "RX $ anchor: %[hc]at$%",
            pattern: "%[hc]at$%",
            cases: &[("the hat", true), ("that", true), ("hats", false)],
        },
        Row {
            source: "RX ? optional: %colou?r%",
            pattern: "%colou?r%",
            cases: &[("color", true), ("colour", true), ("colr", false)],
        },
        Row {
            source: "RX [] class: %[a-z]%",
            pattern: "%[a-z]%",
            cases: &[("ABC d", true), ("ABC", false)],
        },
        Row {
            source: "RX [] class with range: %[abcx-z]%",
            pattern: "%[abcx-z]%",
            cases: &[("y", true), ("b", true), ("d", false)],
        },
        Row {
            source: "RX {m,n}: %a{3,5}%",
            pattern: "%a{3,5}%",
            cases: &[("aaa", true), ("aaaaa", true), ("aa", false)],
        },
        Row {
            source: "RX | alternation: %[Ee]rror|[Ff]ail%",
            pattern: "%[Ee]rror|[Ff]ail%",
            cases: &[
                ("Error", true),
                ("error", true),
                ("fail", true),
                ("Fail", true),
                ("ok", false),
            ],
        },
        Row {
            source: "RX \\ escape: %10\\.10\\.0\\.1%",
            pattern: r"%10\.10\.0\.1%",
            cases: &[("from 10.10.0.1", true), ("from 10x10.0.1", false)],
        },
        Row {
            source: "RX IP address: %\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}%",
            pattern: r"%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%",
            cases: &[
                ("client 192.168.1.20 said", true),
                ("client 192.168.1 said", false),
            ],
        },
        Row {
            source: "RX * and + and .",
            pattern: "%ab*c+.%",
            cases: &[("acx", true), ("abbbccy", true), ("ab", false)],
        },
        Row {
            source:
                "CDK FilterPattern.regexValue('$.message', '=', 'bind: address already in use')",
            pattern: "{ ($.latency = \"*\") && ($.message = %bind: address already in use%) }",
            cases: &[
                (
                    r#"{"latency": 5, "message": "listen: bind: address already in use"}"#,
                    true,
                ),
                (r#"{"latency": 5, "message": "ok"}"#, false),
            ],
        },
    ]);
    // RX: "%something!%" is not a valid pattern ('!' is not an allowed character).
    let e = Pattern::parse("%something!%").unwrap_err();
    assert_eq!(e.column(), 11);
    assert_eq!(
        Pattern::parse("%AUTHORIZED%").unwrap().kind(),
        PatternKind::Regex
    );
    // Regex inside space-delimited and JSON patterns (CG: regex "can be incorporated with JSON and
    // space-delimited filter patterns").
    run(&[
        Row {
            source: "CG regex in a space-delimited field",
            pattern: "[level = %^[EW]%, msg]",
            cases: &[
                ("ERROR boom", true),
                ("WARN boom", true),
                ("INFO boom", false),
            ],
        },
        Row {
            source: "CG regex != in JSON",
            pattern: "{ $.level != %^DEBUG% }",
            cases: &[
                (r#"{"level": "INFO"}"#, true),
                (r#"{"level": "DEBUG2"}"#, false),
            ],
        },
    ]);
}

#[test]
fn cdk_printed_patterns_parse() {
    // Shapes the CDK's pattern.ts prints (JSONAggregatePattern wraps every clause in parentheses,
    // string values are always quoted, SpaceDelimitedTextPattern joins restrictions with &&).
    for (pattern, msg, want) in [
        (
            r#"{ ($.component = "HttpServer") && (($.error IS TRUE) || ($.latency > 1000)) }"#,
            r#"{"component": "HttpServer", "error": false, "latency": 1500}"#,
            true,
        ),
        (
            r#"{ ($.component = "HttpServer") && (($.error IS TRUE) || ($.latency > 1000)) }"#,
            r#"{"component": "HttpServer", "error": false, "latency": 15}"#,
            false,
        ),
        ("{ $.f = \"*\" }", r#"{"f": ""}"#, true),
        ("{ $.f IS NULL }", r#"{"f": null}"#, true),
        ("{ $.f NOT EXISTS }", r#"{"g": 1}"#, true),
        ("{ $.latency > 1e+21 }", r#"{"latency": 2e21}"#, true),
        (
            "[time, component = \"HttpServer\", ..., result_code != 200, latency]",
            "12:00 HttpServer a b 500 12",
            true,
        ),
        (
            "[time, component = \"HttpServer\", ..., result_code != 200, latency]",
            "12:00 HttpServer 200 12",
            false,
        ),
        ("\"\\\"foo\\\" he said\"", "and \"foo\" he said", true),
        // A backslash before anything but `"` or `\` is kept (semantics::unescapes).
        ("\"C:\\temp\"", "opened C:\\temp\\x", true),
        ("\"C:\\temp\"", "opened C:temp", false),
    ] {
        let p = Pattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        assert_eq!(
            production::test(&p, msg).is_some(),
            want,
            "{pattern} on {msg}"
        );
    }
}

#[test]
fn field_values() {
    let p = Pattern::parse("[ip, ..., bytes]").unwrap();
    let set = logrelay::pattern::FilterSet::new([p.clone()]);
    let bytes = p.field_ref("$bytes").unwrap();
    let second = p.field_ref("$2").unwrap();
    let mut s = set.scratch();
    let mut seen = Vec::new();
    set.eval("1.2.3.4 GET 1534", &mut s, |_, c| {
        seen.push((
            c.get(&bytes).and_then(|v| v.as_f64()),
            c.get(&second)
                .and_then(|v| v.to_text().map(|t| t.into_owned())),
        ));
    });
    assert_eq!(seen, vec![(Some(1534.0), Some("GET".to_owned()))]);
    assert!(Pattern::parse("{ $.a = 1 }")
        .unwrap()
        .field_ref("$bytes")
        .is_err());
    assert!(Pattern::parse("ERROR").unwrap().field_ref("$.x").is_err());
    assert!(p.field_ref("$nosuch").is_err());
    let v = FieldValue::Str("fast".into());
    assert_eq!(v.as_f64(), None);
}

#[test]
fn json_wildcard_selectors() {
    // CG: "You can use the JSON wildcard to select any array element or any JSON object field."
    // The objects are ours. Each condition is satisfied on its own by any selected value.
    let order = r#"{"items": [{"sku": "A-1", "qty": 1}, {"sku": "B-7", "qty": 5}],
                    "labels": {"team": "payments", "tier": "gold"}, "tags": ["x", null]}"#;
    run(&[
        Row {
            source: "CG JSON wildcard over an array: $.items[*].sku",
            pattern: r#"{ $.items[*].sku = "B-7" }"#,
            cases: &[
                (order, true),
                (r#"{"items": [{"sku": "A-1"}]}"#, false),
                (r#"{"items": []}"#, false),
                // `[*]` on an object selects its members: here the string "B-7", which has
                // no `.sku`.
                (r#"{"items": {"sku": "B-7"}}"#, false),
                (r#"{"items": {"first": {"sku": "B-7"}}}"#, true),
            ],
        },
        Row {
            source: "CW [*] also iterates the members of an object",
            pattern: r#"{ $.arr[*] = "hit" }"#,
            cases: &[
                (r#"{"arr":{"0":"hit"}}"#, true),
                (r#"{"arr":["miss","hit"]}"#, true),
                (r#"{"arr":{"0":"miss"}}"#, false),
                (r#"{"arr":"hit"}"#, false),
            ],
        },
        Row {
            source: "CG JSON wildcard over object fields: $.labels.*",
            pattern: r#"{ $.labels.* = "gold" }"#,
            cases: &[
                (order, true),
                (r#"{"labels": {"tier": "silver"}}"#, false),
                (r#"{"labels": ["gold"]}"#, false),
            ],
        },
        Row {
            source: "CG JSON wildcard at the root: $.*",
            pattern: "{ $.* = 42 }",
            cases: &[(r#"{"a": 1, "b": 42}"#, true), (r#"{"a": 1}"#, false)],
        },
        Row {
            source: "CW two wildcard conditions are satisfied by different elements",
            pattern: r#"{ $.items[*].sku = "A-1" && $.items[*].qty = 5 }"#,
            cases: &[
                (order, true),
                (r#"{"items": [{"sku": "A-1", "qty": 1}]}"#, false),
            ],
        },
        Row {
            source: "CW numeric condition under a wildcard",
            pattern: "{ $.items[*].qty > 3 }",
            cases: &[(order, true), (r#"{"items": [{"qty": 2}]}"#, false)],
        },
        Row {
            source: "CW NOT EXISTS under a wildcard: nothing selected",
            pattern: "{ $.items[*].price NOT EXISTS }",
            cases: &[(order, true), (r#"{"items": [{"price": 3}]}"#, false)],
        },
        Row {
            source: "CW IS NULL under a wildcard",
            pattern: "{ $.tags[*] IS NULL }",
            cases: &[(order, true), (r#"{"tags": ["x"]}"#, false)],
        },
    ]);
    // Quotas: one wildcard per selector, three wildcard selectors per pattern.
    assert!(Pattern::parse("{ $.a[*].b[*] = 1 }").is_err());
    assert!(Pattern::parse("{ $.*.b[*] = 1 }").is_err());
    assert!(Pattern::parse("{ $.a[*] = 1 || $.b[*] = 1 || $.c.* = 1 }").is_ok());
    let e = Pattern::parse("{ $.a[*] = 1 || $.b[*] = 1 || $.c.* = 1 || $.d[*] = 1 }").unwrap_err();
    assert_eq!(e.column(), 44, "{e}");
}

#[test]
fn json_bracket_notation() {
    // CG: a key with a period is selected with bracket notation; it names the flat key, not a path.
    let m = r#"{"cluster.name": "flat", "cluster": {"name": "nested"}}"#;
    run(&[
        Row {
            source: "CG $.['cluster.name'] selects the flat key",
            pattern: r#"{ $.['cluster.name'] = "flat" }"#,
            cases: &[(m, true)],
        },
        Row {
            source: "CG $.['cluster.name'] is not the nested path",
            pattern: r#"{ $.['cluster.name'] = "nested" }"#,
            cases: &[(m, false)],
        },
        Row {
            source: "CG dotted path still selects the nested key",
            pattern: r#"{ $.cluster.name = "nested" }"#,
            cases: &[(m, true)],
        },
        Row {
            source: "bracket notation inside a path",
            pattern: r#"{ $.labels.['app.kubernetes.io/name'] = "web" }"#,
            cases: &[
                (r#"{"labels": {"app.kubernetes.io/name": "web"}}"#, true),
                (r#"{"labels": {"app": "web"}}"#, false),
            ],
        },
    ]);
}

#[test]
fn json_comparisons_as_cloudwatch_does_them() {
    // CW (observed in TestMetricFilter), where the guide is silent.
    run(&[
        Row {
            source: "CW = 1 matches the number 1 and the string \"1\", not \"1.0\"",
            pattern: "{ $.v = 1 }",
            cases: &[
                (r#"{"v": 1}"#, true),
                (r#"{"v": 1.0}"#, true),
                (r#"{"v": "1"}"#, true),
                (r#"{"v": "1.0"}"#, false),
                (r#"{"v": true}"#, false),
                (r#"{"v": [1]}"#, false),
            ],
        },
        Row {
            source: "CW != 1 matches every other number and every string but \"1\"",
            pattern: "{ $.v != 1 }",
            cases: &[
                (r#"{"v": 2}"#, true),
                (r#"{"v": "abc"}"#, true),
                (r#"{"v": "2"}"#, true),
                (r#"{"v": 1}"#, false),
                (r#"{"v": 1.0}"#, false),
                // Observed: a string that reads as the number compares as it, as for `=`.
                (r#"{"v": "1"}"#, false),
                (r#"{"v": null}"#, false),
                (r#"{"v": false}"#, false),
                (r#"{"v": [2]}"#, false),
                (r#"{"v": {"w": 2}}"#, false),
                (r#"{"w": 2}"#, false),
            ],
        },
        Row {
            source:
                "CW = * and != never match null, booleans, arrays or objects (use IS NULL, IS TRUE)",
            pattern: "{ $.v = * }",
            cases: &[
                (r#"{"v": "x"}"#, true),
                (r#"{"v": ""}"#, true),
                (r#"{"v": 5}"#, true),
                (r#"{"v": null}"#, false),
                (r#"{"v": true}"#, false),
                (r#"{"v": [1]}"#, false),
                (r#"{"v": {"w": 1}}"#, false),
                (r#"{"w": 1}"#, false),
            ],
        },
        Row {
            source: "CW != on a string never matches null or a boolean",
            pattern: r#"{ $.v != "abc" }"#,
            cases: &[
                (r#"{"v": "xyz"}"#, true),
                (r#"{"v": "abc"}"#, false),
                (r#"{"v": null}"#, false),
                (r#"{"v": false}"#, false),
            ],
        },
        Row {
            source: "CW = true is the string \"true\"",
            pattern: "{ $.v = true }",
            cases: &[(r#"{"v": "true"}"#, true), (r#"{"v": true}"#, false)],
        },
        Row {
            source: "CW IS NULL matches an array that holds null",
            pattern: "{ $.v IS NULL }",
            cases: &[
                (r#"{"v": null}"#, true),
                (r#"{"v": [1, null]}"#, true),
                (r#"{"v": [1]}"#, false),
                (r#"{"w": null}"#, false),
            ],
        },
        Row {
            source: "CW a path does not descend into arrays implicitly",
            pattern: "{ $.items.id = 1 }",
            cases: &[
                (r#"{"items": [{"id": 1}]}"#, false),
                (r#"{"items": {"id": 1}}"#, true),
            ],
        },
        Row {
            source: "CW relational operators do not compare numeric strings",
            pattern: "{ $.v > 5 }",
            cases: &[(r#"{"v": "6"}"#, false), (r#"{"v": 6}"#, true)],
        },
    ]);
    // CW: `= null` is an invalid pattern (use IS NULL).
    let e = Pattern::parse("{ $.v = null }").unwrap_err();
    assert_eq!(e.column(), 9, "{e}");
    assert!(Pattern::parse(r#"{ $.v = "null" }"#).is_ok());
}

#[test]
fn space_delimited_surplus_goes_to_the_last_field() {
    // CW and the current guide's [w1=ERROR, w2] examples: the last field takes the rest of the
    // line verbatim.
    assert_eq!(
        extracted("[w1=ERROR, w2]", "ERROR request failed"),
        pairs(&[("$w1", "ERROR"), ("$w2", "request failed")])
    );
    assert_eq!(
        extracted(
            "[w1=ERROR, w2]",
            "ERROR  Unable to process \"the request\" [now]"
        ),
        pairs(&[
            ("$w1", "ERROR"),
            ("$w2", "Unable to process \"the request\" [now]")
        ])
    );
    // A seven-field pattern on a line with eight fields: `$bytes` holds the last two.
    assert_eq!(
        extracted(
            "[ip, user, username, timestamp, request, status_code, bytes]",
            r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534 extra"#
        ),
        pairs(&[
            ("$ip", "127.0.0.1"),
            ("$user", "Prod"),
            ("$username", "frank"),
            ("$timestamp", "10/Oct/2000:13:25:15 -0700"),
            ("$request", "GET /index.html HTTP/1.0"),
            ("$status_code", "404"),
            ("$bytes", "1534 extra"),
        ])
    );
    // Fewer fields than specs never match.
    assert!(production::test(&Pattern::parse("[a, b, c]").unwrap(), "one two").is_none());
    // `[]` matches every message and extracts every field by position.
    assert_eq!(
        extracted("[]", "a b \"c d\""),
        pairs(&[("$1", "a"), ("$2", "b"), ("$3", "c d")])
    );
    assert_eq!(extracted("[]", ""), pairs(&[]));
    // A metric value on the last field sees the whole rest of the line.
    let p = Pattern::parse("[w1, w2]").unwrap();
    let w2 = p.field_ref("$w2").unwrap();
    let pos = p.field_ref("$2").unwrap();
    let set = logrelay::pattern::FilterSet::new([p]);
    let mut s = set.scratch();
    let mut seen = Vec::new();
    set.eval("latency 12 ms", &mut s, |_, c| {
        for r in [&w2, &pos] {
            seen.push(c.get(r).and_then(|v| v.to_text().map(|t| t.into_owned())));
        }
    });
    assert_eq!(
        seen,
        vec![Some("12 ms".to_owned()), Some("12 ms".to_owned())]
    );
}

#[test]
fn regex_hex_escapes_and_open_repetition() {
    run(&[
        Row {
            source: "RX \\xhh: %\\x3A% matches ':'",
            pattern: r"%\x3A%",
            cases: &[("a:b", true), ("ab", false)],
        },
        Row {
            source: "RX \\xhh matches a symbol the subset forbids: %\\x21%",
            pattern: r"%\x21%",
            cases: &[("hello!", true), ("hello", false)],
        },
        Row {
            source: "RX \\xhh: %\\x28% matches '('",
            pattern: r"%\x28\d+\x29%",
            cases: &[("code (42)", true), ("code 42", false)],
        },
        Row {
            source: "RX {m,n}: n omitted",
            pattern: "%^a{2,}$%",
            cases: &[("aa", true), ("aaaa", true), ("a", false)],
        },
        Row {
            source: "RX {m,n}: m omitted",
            pattern: "%^a{,2}b%",
            cases: &[("b", true), ("aab", true), ("aaab", false)],
        },
        Row {
            source: "RX {,n} inside a class stays literal",
            pattern: "%[{,]%",
            cases: &[("a,b", true), ("a{b", true), ("a0b", false)],
        },
    ]);
    for bad in [r"%\x%", r"%\x4%", r"%\xZZ%", r"%\xE9%"] {
        let e = Pattern::parse(bad).unwrap_err();
        assert_eq!(e.column(), 2, "{bad}: {e}");
    }
}

#[test]
fn what_cloudwatch_rejects() {
    // CG: terms with characters other than alphanumerics and underscore "must be placed in double
    // quotation marks"; CloudWatch rejects them unquoted. (pattern, 1-based column of the error)
    for (bad, column) in [
        ("ERR*", 4),
        ("user@host", 5),
        ("ERROR:", 6),
        ("ERROR -foo-bar", 11),
        ("?ERROR ?a.b", 10),
        ("{ $.email = John@example.com }", 17),
        ("[ip, user = a/b]", 14),
    ] {
        let e = Pattern::parse(bad).unwrap_err();
        assert_eq!(e.column(), column, "{bad}: {e}");
    }
    let e = Pattern::parse("ERR*").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("invalid character(s) in term '*'"),
        "{e}"
    );
    // The same text quoted is fine, and the guide's own unquoted values stay valid.
    for ok in [
        "\"ERR*\"",
        "\"user@host\"",
        "{ $.email = \"John@example.com\" }",
        "{ $.sourceIPAddress != 123.123.* }",
        "ERROR_CODE 404",
        "[ip, user, ..., request = *.html*, status_code = 4*]",
        "{ $.latency > +1000 } ",
        "{ $.n < 10e-3 }",
    ] {
        assert!(Pattern::parse(ok).is_ok(), "{ok}");
    }
}

#[test]
fn the_filter_set_and_its_literal_prefilter_agree_on_the_observed_json_cases() {
    // `!=` must never become a required literal, and `[*]` over an object must still reach the
    // matcher: the set (with term filters beside, so that the literal search runs) gives the
    // pattern's own answer, on the text and on the escaped JSON string content.
    use logrelay::pattern::{EscapedStr, FilterSet};
    let patterns = [
        r#"{ $.v != 1 }"#,
        r#"{ $.arr[*] = "hit" }"#,
        r#"{ $.status != "okay" }"#,
        r#"{ $.arr[*].name = "needle" }"#,
        "ERROR",
        "?WARN ?FATAL",
    ];
    let messages = [
        r#"{"v":"1"}"#,
        r#"{"v":"11"}"#,
        r#"{"v":1}"#,
        r#"{"arr":{"0":"hit"}}"#,
        r#"{"arr":{"k":{"name":"needle"}}}"#,
        r#"{"arr":{"0":"miss"}, "note": "hit"}"#,
        r#"{"status":"okay"}"#,
        r#"{"status":"fine", "x": "ERROR"}"#,
        r#"{"arr":["a\"b", "hit"]}"#,
    ];
    let compiled: Vec<Pattern> = patterns
        .iter()
        .map(|p| Pattern::parse(p).unwrap())
        .collect();
    let set = FilterSet::new(compiled.iter().cloned());
    let mut scratch = set.scratch();
    for m in messages {
        let want: Vec<usize> = (0..compiled.len())
            .filter(|&i| compiled[i].test(m).is_some())
            .collect();
        let mut got = Vec::new();
        set.eval(m, &mut scratch, |i, _| got.push(i));
        got.sort();
        assert_eq!(got, want, "{m}");
        let escaped = serde_json::to_string(m).unwrap();
        let escaped = EscapedStr::new(&escaped[1..escaped.len() - 1]).unwrap();
        let mut got = Vec::new();
        set.eval_escaped(escaped, &mut scratch, |i, _| got.push(i));
        got.sort();
        assert_eq!(got, want, "escaped {m}");
    }
    // The observed answers themselves.
    assert!(compiled[0].test(r#"{"v":"1"}"#).is_none());
    assert!(compiled[0].test(r#"{"v":"11"}"#).is_some());
    assert!(compiled[1].test(r#"{"arr":{"0":"hit"}}"#).is_some());
    assert!(compiled[3]
        .test(r#"{"arr":{"k":{"name":"needle"}}}"#)
        .is_some());
}

#[test]
fn string_conditions_on_numbers_in_other_notations_pass_the_prefilter() {
    // A string condition on a JSON number compares with the number's text as the engine prints it
    // (`serde_json`'s form: `1e3` reads as `1000.0`, and `1e-05`, as Python writes it, as
    // `0.00001`), which need not occur in the message: such a value is no literal a matching
    // message must contain. The set with its prefilter must give the pattern's own answer
    // (`production::test` checks that). How CloudWatch prints numbers written in these notations
    // was not observed.
    for (pattern, message) in [
        (r#"{ $.v = "1000.0" }"#, r#"{"v": 1e3}"#),
        ("{ $.v = 100* }", r#"{"v": 1E2}"#),
        (r#"{ $.v = "0.00001" }"#, r#"{"v": 1e-05}"#),
        (
            r#"{ $.level = "ERROR" && $.code = "4000.0" }"#,
            r#"{"level": "ERROR", "code": 4e3}"#,
        ),
    ] {
        let p = Pattern::parse(pattern).unwrap();
        assert!(
            production::test(&p, message).is_some(),
            "{pattern} on {message}"
        );
    }
}
