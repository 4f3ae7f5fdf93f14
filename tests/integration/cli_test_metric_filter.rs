//! `logrelay test-metric-filter`: output shape and exit codes, running the built binary.

use crate::common;

use std::process::Output;

fn run(args: &[&str]) -> Output {
    common::bin::logrelay()
        .arg("test-metric-filter")
        .args(args)
        .output()
        .expect("the logrelay binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("stderr is UTF-8")
}

#[test]
fn term_pattern_lists_only_matching_events() {
    let o = run(&[
        "--filter-pattern",
        "ERROR",
        "--log-event-messages",
        "[ERROR] A fatal exception has occurred",
        "all good",
        "Exiting with ERRORCODE: -1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "{\"matches\":[{\"eventNumber\":1,\"eventMessage\":\"[ERROR] A fatal exception has occurred\",\"extractedValues\":{}},{\"eventNumber\":3,\"eventMessage\":\"Exiting with ERRORCODE: -1\",\"extractedValues\":{}}]}\n"
    );
}

#[test]
fn no_match_is_success_with_empty_list() {
    let o = run(&["--filter-pattern", "ERROR", "--log-event-messages", "fine"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "{\"matches\":[]}\n");
}

#[test]
fn space_delimited_extracted_values_keep_field_order() {
    let o = run(&[
        "--filter-pattern",
        "[ip, user, username, timestamp, request, status_code = 4*, bytes]",
        "--log-event-messages",
        r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        concat!(
            r#"{"matches":[{"eventNumber":1,"eventMessage":"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] \"GET /index.html HTTP/1.0\" 404 1534","#,
            r#""extractedValues":{"$ip":"127.0.0.1","$user":"Prod","$username":"frank","$timestamp":"10/Oct/2000:13:25:15 -0700","$request":"GET /index.html HTTP/1.0","$status_code":"404","$bytes":"1534"}}]}"#,
            "\n"
        )
    );
}

#[test]
fn json_patterns_extract_nothing() {
    // Real TestMetricFilter answers `{}` for JSON patterns: only space-delimited patterns extract.
    let o = run(&[
        "--filter-pattern",
        "{ $.latency > 100 && $.user.id = * }",
        "--log-event-messages",
        r#"{"latency": 250, "user": {"id": "u-1"}}"#,
        r#"{"latency": 50, "user": {"id": "u-2"}}"#,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"matches": [{
            "eventNumber": 1,
            "eventMessage": "{\"latency\": 250, \"user\": {\"id\": \"u-1\"}}",
            "extractedValues": {}
        }]})
    );
}

#[test]
fn the_last_field_takes_the_rest_of_the_line() {
    let o = run(&[
        "--filter-pattern",
        "[w1=ERROR, w2]",
        "--log-event-messages",
        "ERROR request failed",
        "WARN request failed",
        "ERROR",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        v,
        serde_json::json!({"matches": [{
            "eventNumber": 1,
            "eventMessage": "ERROR request failed",
            "extractedValues": {"$w1": "ERROR", "$w2": "request failed"}
        }]})
    );
}

#[test]
fn an_unquoted_term_with_a_symbol_is_rejected_at_its_column() {
    let o = run(&["--filter-pattern", "ERR*", "--log-event-messages", "ERROR"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "error: invalid filter pattern: invalid character(s) in term '*': a term with characters other than letters, digits and '_' must be in double quotes at column 4\n    ERR*\n       ^\n"
    );
}

#[test]
fn messages_and_pattern_may_start_with_a_dash() {
    let o = run(&[
        "--filter-pattern",
        "-DEBUG",
        "--log-event-messages",
        "-1 is the code",
        "DEBUG noise",
        "--weird message",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "{\"matches\":[{\"eventNumber\":1,\"eventMessage\":\"-1 is the code\",\"extractedValues\":{}},{\"eventNumber\":3,\"eventMessage\":\"--weird message\",\"extractedValues\":{}}]}\n"
    );
}

#[test]
fn options_after_messages_keep_their_meaning() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("messages.txt");
    std::fs::write(&file, "from file ERROR\nno\n").unwrap();
    let o = run(&[
        "--log-event-messages",
        "ERROR one",
        "--log-event-messages-file",
        file.to_str().unwrap(),
        "--filter-pattern",
        "ERROR",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "{\"matches\":[{\"eventNumber\":1,\"eventMessage\":\"ERROR one\",\"extractedValues\":{}},{\"eventNumber\":2,\"eventMessage\":\"from file ERROR\",\"extractedValues\":{}}]}\n"
    );
}

#[test]
fn messages_file_numbers_lines_from_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.txt");
    let lines: Vec<String> = (0..60)
        .map(|i| format!("line {i} {}", if i % 20 == 0 { "ERROR" } else { "ok" }))
        .collect();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let o = run(&[
        "--filter-pattern",
        "ERROR",
        "--log-event-messages-file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let numbers: Vec<u64> = v["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["eventNumber"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, vec![1, 21, 41]);
}

#[test]
fn output_is_valid_json_for_awkward_messages() {
    let msg = "quote \" backslash \\ tab \t unicode é ✓ ERROR";
    let o = run(&["--filter-pattern", "ERROR", "--log-event-messages", msg]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["matches"][0]["eventMessage"], msg);
}

#[test]
fn invalid_pattern_exits_2_with_column_and_caret() {
    let o = run(&[
        "--filter-pattern",
        "{ $.latency > fast }",
        "--log-event-messages",
        "x",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout(&o), "");
    assert_eq!(
        stderr(&o),
        "error: invalid filter pattern: '>' compares numbers: expected a number, found \"fast\" at column 15\n    { $.latency > fast }\n                  ^^^^\n"
    );
}

#[test]
fn usage_errors_exit_2() {
    // No messages at all.
    let o = run(&["--filter-pattern", "ERROR"]);
    assert_eq!(o.status.code(), Some(2));
    // No pattern.
    let o = run(&["--log-event-messages", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--filter-pattern"), "{}", stderr(&o));
    // More than the API's 50 messages on the command line.
    let many: Vec<String> = (0..51).map(|i| format!("m{i}")).collect();
    let mut args = vec!["--filter-pattern", "ERROR", "--log-event-messages"];
    args.extend(many.iter().map(String::as_str));
    let o = run(&args);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("at most 50"), "{}", stderr(&o));
    // An empty message (the API requires at least one character).
    let o = run(&["--filter-pattern", "ERROR", "--log-event-messages", ""]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn unreadable_file_exits_1() {
    let o = run(&[
        "--filter-pattern",
        "ERROR",
        "--log-event-messages-file",
        "/nonexistent/logrelay/messages.txt",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("/nonexistent/logrelay/messages.txt"));
}

#[test]
fn a_quoted_space_is_a_literal_and_question_terms_beside_others_are_ignored() {
    let o = run(&[
        "--filter-pattern",
        "\" \"",
        "--log-event-messages",
        "plain",
        "hello-world",
        "two words",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "{\"matches\":[{\"eventNumber\":3,\"eventMessage\":\"two words\",\"extractedValues\":{}}]}\n"
    );
    let o = run(&[
        "--filter-pattern",
        "?ERROR ?ARGUMENTS REQUEST",
        "--log-event-messages",
        "[ERROR 419] MISSING ARGUMENTS",
        "[INFO 200] REQUEST served",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "{\"matches\":[{\"eventNumber\":2,\"eventMessage\":\"[INFO 200] REQUEST served\",\"extractedValues\":{}}]}\n"
    );
}
