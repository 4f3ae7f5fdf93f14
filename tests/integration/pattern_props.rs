//! Properties of the pattern engine (proptest): no panics, printing round-trips, and the shared
//! FilterSet evaluation agrees with evaluating each pattern alone and with a naive reference.

use crate::common::production::escape;
use logrelay::pattern::{EscapedStr, FilterSet, Pattern};
use proptest::prelude::*;

// ------------------------------------------------------------------ generators

fn quote(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            o.push('\\');
        }
        o.push(c);
    }
    o.push('"');
    o
}

fn term_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "ERROR", "WARN", "a", "ab", "b a", "\"q\"", "x\\y", "é", "", " ", "%p%", "-n", "?q",
            "{", "[", "ERR", "RROR", "message",
        ])
        .prop_map(str::to_owned),
        "[a-cé\"\\\\ %?{\\[-]{0,5}",
    ]
}

/// (op: 0 plain, 1 `?`, 2 `-`; text)
fn term_items() -> impl Strategy<Value = Vec<(u8, String)>> {
    prop::collection::vec((0u8..3, term_text()), 1..6)
}

fn render_terms(items: &[(u8, String)], spaced_prefix: bool) -> String {
    let mut parts = Vec::new();
    for (op, text) in items {
        let body = if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric()) {
            text.clone()
        } else {
            quote(text)
        };
        let prefix = ["", "?", "-"][*op as usize];
        let sep = if spaced_prefix && *op != 0 { " " } else { "" };
        parts.push(format!("{prefix}{sep}{body}"));
    }
    parts.join(" ")
}

/// What CloudWatch says for a term pattern, computed naively: no `-` term may occur; `?` terms count
/// only when every term is a `?` term (then one must occur), otherwise every plain term must occur.
fn naive_terms(items: &[(u8, String)], msg: &str) -> bool {
    if items
        .iter()
        .any(|(op, t)| *op == 2 && msg.contains(t.as_str()))
    {
        return false;
    }
    if items.iter().all(|(op, _)| *op == 1) {
        return items.iter().any(|(_, t)| msg.contains(t.as_str()));
    }
    items
        .iter()
        .filter(|(op, _)| *op == 0)
        .all(|(_, t)| msg.contains(t.as_str()))
}

fn selector() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["a", "b", "c-d", "e_f"]),
        prop::collection::vec(
            prop::sample::select(vec![".a", ".b", ".c-d", "[0]", "[1]", ".['x.y']"]),
            0..3,
        ),
        // At most one wildcard per selector (the quota), at a random place.
        prop::option::of((prop::sample::select(vec!["[*]", ".*"]), 0usize..3)),
    )
        .prop_map(|(first, mut rest, wildcard)| {
            if let Some((w, at)) = wildcard {
                rest.insert(at.min(rest.len()), w);
            }
            format!("$.{first}{}", rest.concat())
        })
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "0",
            "1",
            "-5",
            "+1000",
            "55.5",
            "10e3",
            "1e-3",
            "400",
            "abc",
            "4*",
            "*x*",
            "123.123.*",
            "x.y",
            "*",
            "%a%",
            "%^b$%",
            "%[0-9]+%",
        ])
        .prop_map(str::to_owned),
        "[a-b*\"\\\\ é4]{0,4}".prop_map(|s| quote(&s)),
    ]
}

fn json_cond() -> impl Strategy<Value = String> {
    prop_oneof![
        (selector(), prop::sample::select(vec!["=", "!="]), value())
            .prop_map(|(s, op, v)| format!("{s} {op} {v}")),
        (
            selector(),
            prop::sample::select(vec!["<", ">", "<=", ">=", "="]),
            prop::sample::select(vec!["0", "1", "-5", "55.5", "1e3"])
        )
            .prop_map(|(s, op, v)| format!("{s}{op}{v}")),
        (
            selector(),
            prop::sample::select(vec!["IS NULL", "IS TRUE", "IS FALSE", "NOT EXISTS"])
        )
            .prop_map(|(s, t)| format!("{s} {t}")),
    ]
}

fn json_expr() -> impl Strategy<Value = String> {
    json_cond().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} && {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} || {b}")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

fn json_pattern() -> impl Strategy<Value = String> {
    json_expr().prop_map(|e| format!("{{ {e} }}"))
}

fn space_pattern() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(
            (
                any::<bool>(),
                prop_oneof![
                    (
                        prop::sample::select(vec!["=", "!="]),
                        prop::sample::select(vec![
                            "ERROR", "4*", "*x", "404", "1000", "-", "%^W%", "\"a b\""
                        ]),
                    ),
                    (
                        prop::sample::select(vec!["<", ">", "<=", ">="]),
                        prop::sample::select(vec!["404", "1000", "-1", "2.5"]),
                    ),
                ],
                any::<bool>(),
            ),
            1..5,
        ),
        prop::option::of(0usize..5),
        any::<bool>(),
    )
        .prop_map(|(specs, ellipsis, trailing)| {
            let mut parts = Vec::new();
            for (i, (cond, (op, v), or)) in specs.iter().enumerate() {
                let name = format!("f{i}");
                if *cond {
                    let c = format!("{name} {op} {v}");
                    if *or {
                        parts.push(format!("{c} || {name} = x"));
                    } else {
                        parts.push(c);
                    }
                } else {
                    parts.push(name);
                }
            }
            if let Some(e) = ellipsis {
                parts.insert(e.min(parts.len()), "...".to_owned());
            }
            let mut s = format!("[{}", parts.join(", "));
            if trailing {
                s.push(',');
            }
            s.push(']');
            s
        })
}

fn regex_pattern() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "%ERROR%",
        "%^W%",
        "%[0-9]{3}%",
        "%a|b%",
        r"%\d+\.\d%",
        "%x$%",
        "%a b%",
    ])
    .prop_map(str::to_owned)
}

fn any_pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        term_items().prop_map(|i| render_terms(&i, false)),
        json_pattern(),
        space_pattern(),
        regex_pattern(),
        Just(String::new()),
    ]
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{json, Value};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        prop::sample::select(vec![0.0, 1.0, -5.0, 1000.0, 55.5, 400.0, 1e-3, 1e21])
            .prop_map(|n| json!(n)),
        (-3i64..3).prop_map(|n| json!(n)),
        prop::sample::select(vec![
            "abc",
            "q\"uote",
            "a\\b",
            "x.y",
            "4x",
            "123.123.9",
            "",
            "*",
            "b",
            "0",
            "404",
            "é"
        ])
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec!["a", "b", "c-d", "e_f", "x.y"]).prop_map(str::to_owned),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn message() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(
            prop::sample::select(vec![
                "ERROR", "WARN", "message", "a", "ab", "b", "\"q\"", "x\\y", "é", "404", "1000",
                "-", "x", "[a b]", "\"c d\"", "%p%", "-n", "?q", "{", "[", "  ",
            ]),
            0..8
        )
        .prop_map(|v| v.join(" ")),
        json_value().prop_map(|v| v.to_string()),
        prop::collection::btree_map(
            prop::sample::select(vec!["a", "b", "c-d", "e_f", "x.y"]).prop_map(str::to_owned),
            json_value(),
            0..4
        )
        .prop_map(|m| serde_json::Value::Object(m.into_iter().collect()).to_string()),
        // The same with keys and string values written with \u escapes: the raw text then no
        // longer contains them verbatim, which the shared prefilter must allow for.
        prop::collection::btree_map(
            prop::sample::select(vec!["a", "b", "c-d", "e_f", "x.y"]).prop_map(str::to_owned),
            json_value(),
            0..4
        )
        .prop_map(|m| escape_letters(
            &serde_json::Value::Object(m.into_iter().collect()).to_string()
        )),
        any::<String>(),
    ]
}

/// Rewrites every ASCII letter inside JSON strings as a `\u00XX` escape (same JSON value).
fn escape_letters(json: &str) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string && !escaped && c.is_ascii_alphabetic() {
            out.push_str(&format!("\\u{:04x}", c as u32));
            continue;
        }
        out.push(c);
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = in_string;
        } else if c == '"' {
            in_string = !in_string;
        }
    }
    out
}

// ------------------------------------------------------------------ properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn parse_never_panics(s in any::<String>()) {
        let _ = Pattern::parse(&s);
    }

    #[test]
    fn parse_never_panics_on_syntax_soup(
        s in "[{}\\[\\]()$.a0-9 =!<>&|%\"\\\\*?,-]{0,40}"
    ) {
        if let Ok(p) = Pattern::parse(&s) {
            // Whatever parses also prints and re-parses to the same tree.
            let printed = p.to_string();
            let q = Pattern::parse(&printed).map_err(|e| TestCaseError::fail(format!("{printed:?}: {e}")))?;
            prop_assert!(p.same_ast(&q), "{s:?} printed as {printed:?}");
        }
    }

    #[test]
    fn printing_round_trips(src in any_pattern()) {
        let p = match Pattern::parse(&src) {
            Ok(p) => p,
            // Only the regex and wildcard quotas can make a generated pattern invalid.
            Err(e) => {
                let text = e.to_string();
                prop_assert!(
                    text.contains("regular expressions are allowed")
                        || text.contains("selectors with a wildcard"),
                    "{src:?}: {e}"
                );
                return Ok(());
            }
        };
        let printed = p.to_string();
        let q = Pattern::parse(&printed)
            .map_err(|e| TestCaseError::fail(format!("{src:?} printed as {printed:?}: {e}")))?;
        prop_assert!(p.same_ast(&q), "{src:?} printed as {printed:?}");
        prop_assert_eq!(&q.to_string(), &printed);
        prop_assert_eq!(p.kind(), q.kind());
    }

    #[test]
    fn eval_never_panics(src in any_pattern(), msg in message()) {
        if let Ok(p) = Pattern::parse(&src) {
            let _ = p.test(&msg);
        }
    }

    #[test]
    fn terms_agree_with_naive_reference(items in term_items(), spaced in any::<bool>(), msg in message()) {
        let src = render_terms(&items, spaced);
        let p = Pattern::parse(&src).map_err(|e| TestCaseError::fail(format!("{src:?}: {e}")))?;
        prop_assert_eq!(p.test(&msg).is_some(), naive_terms(&items, &msg), "{:?} on {:?}", src, msg);
    }

    #[test]
    fn filter_set_agrees_with_each_pattern(
        srcs in prop::collection::vec(any_pattern(), 1..12),
        msgs in prop::collection::vec(message(), 1..6),
    ) {
        let patterns: Vec<Pattern> = srcs.iter().filter_map(|s| Pattern::parse(s).ok()).collect();
        let set = FilterSet::new(patterns.clone());
        let mut scratch = set.scratch();
        for msg in &msgs {
            let mut got: Vec<(usize, Vec<(String, String)>)> = Vec::new();
            set.eval(msg, &mut scratch, |i, c| got.push((i, c.extracted())));
            let want: Vec<(usize, Vec<(String, String)>)> = patterns
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.test(msg).map(|e| (i, e)))
                .collect();
            prop_assert_eq!(got, want, "message {:?}", msg);
        }
    }
}

/// A match: filter index, the message the captures saw, the extracted values.
type Hit = (usize, String, Vec<(String, String)>);

/// Messages with the characters JSON escapes, and text next to escapes that looks like a term.
fn escapable_message() -> impl Strategy<Value = String> {
    prop_oneof![
        message(),
        prop::collection::vec(
            prop::sample::select(vec![
                "ERROR",
                "\nERROR",
                "nERROR",
                "\n",
                "\t",
                "\"",
                "\\",
                "tat",
                "\tat",
                "n",
                "t",
                "b",
                "f",
                "r",
                "\r",
                "\u{8}",
                "\u{c}",
                "a",
                "é",
                "{\"a\":1}",
                " ",
                "\\n",
            ]),
            0..10
        )
        .prop_map(|v| v.concat()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn escaped_evaluation_agrees_with_text(
        srcs in prop::collection::vec(any_pattern(), 1..8),
        extra in prop::collection::vec(
            prop::sample::select(vec!["nERROR", "tat", "\"b\"", "rr", "ERROR", "f", "n"]),
            0..3
        ),
        msgs in prop::collection::vec(escapable_message(), 1..6),
    ) {
        let mut srcs = srcs;
        srcs.extend(extra.iter().map(|s| s.to_string()));
        let patterns: Vec<Pattern> = srcs.iter().filter_map(|s| Pattern::parse(s).ok()).collect();
        let set = FilterSet::new(patterns);
        let mut scratch = set.scratch();
        for msg in &msgs {
            let Some(raw) = escape(msg) else { continue };
            let escaped = EscapedStr::new(&raw).ok_or_else(|| TestCaseError::fail(format!("{raw:?}")))?;
            prop_assert_eq!(escaped.unescape(), msg.as_str());
            let mut want: Vec<Hit> = Vec::new();
            set.eval(msg, &mut scratch, |i, c| want.push((i, c.message().to_owned(), c.extracted())));
            let mut got: Vec<Hit> = Vec::new();
            set.eval_escaped(escaped, &mut scratch, |i, c| got.push((i, c.message().to_owned(), c.extracted())));
            prop_assert_eq!(got, want, "message {:?} (escaped {:?}), patterns {:?}", msg, raw, srcs);
        }
    }
}

#[test]
fn terms_in_escaped_text_skip_escape_sequences() {
    let set = FilterSet::new(["nERROR", "tat", "ERROR"].map(|s| Pattern::parse(s).unwrap()));
    let mut s = set.scratch();
    for (raw, want) in [
        (r"x\nERROR", vec![2]),
        (r"x\\nERROR", vec![0, 2]),
        (r"\tat com.x", vec![]),
        (r"\\tat", vec![1]),
        (r"\\\tat", vec![]),
        ("nERROR tat", vec![0, 1, 2]),
    ] {
        let mut hits = Vec::new();
        let escaped = EscapedStr::new(raw).unwrap();
        set.eval_escaped(escaped, &mut s, |i, c| {
            hits.push(i);
            assert_eq!(c.message(), escaped.unescape());
        });
        assert_eq!(hits, want, "{raw:?}");
    }
}

#[test]
fn escaped_json_still_matches_through_the_prefilter() {
    let msg = r#"{"\u006cevel": "\u0045RROR", "n": 1}"#;
    for src in [r#"{ $.level = "ERROR" }"#, "{ $.level = E* && $.n = 1 }"] {
        let p = Pattern::parse(src).unwrap();
        let set = FilterSet::new([p.clone(), Pattern::parse("{ $.other = x }").unwrap()]);
        let mut s = set.scratch();
        let mut hits = Vec::new();
        set.eval(msg, &mut s, |i, _| hits.push(i));
        assert_eq!(hits, vec![0], "{src}");
        assert!(p.test(msg).is_some(), "{src}");
    }
}

#[test]
fn an_occurrence_inside_an_escape_does_not_hide_an_overlapping_one() {
    // `tat` occurs in the escaped text `\tatat` at 1 (inside the escape `\t`) and, overlapping
    // it, at 3: the second is a real occurrence in the text "<tab>atat".
    let set = FilterSet::new(["%ERROR%", "tat"].map(|s| Pattern::parse(s).unwrap()));
    let mut s = set.scratch();
    let mut hits = Vec::new();
    set.eval_escaped(EscapedStr::new("\\tatat").unwrap(), &mut s, |i, _| {
        hits.push(i)
    });
    assert_eq!(hits, vec![1]);
}

#[test]
fn hostile_messages_do_not_panic() {
    let patterns = [
        "{ $.a = 1 }",
        "{ $.a[0][0][0] NOT EXISTS }",
        "[a, ..., b]",
        "ERROR",
        "%a+b%",
    ]
    .map(|s| Pattern::parse(s).unwrap());
    let set = FilterSet::new(patterns);
    let mut s = set.scratch();
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let wide = format!("{{\"a\":[{}]}}", "1,".repeat(100_000) + "1");
    let many_fields = "x ".repeat(200_000);
    let unbalanced = "\"[".repeat(100_000);
    let mut n = 0;
    for m in [
        deep.as_str(),
        wide.as_str(),
        many_fields.as_str(),
        unbalanced.as_str(),
    ] {
        set.eval(m, &mut s, |_, _| n += 1);
    }
    // Only `[a, ..., b]` matches the many-fields message (and `{ $.a[0][0][0] NOT EXISTS }` the
    // wide array, whose first element is a number).
    assert_eq!(n, 3);
}

#[test]
fn many_literal_starts_are_all_found() {
    // More literal starts than the restarted search takes: the rest of the message is searched in
    // one overlapping pass, which must still find every literal (and skip escape sequences).
    let srcs = ["a", "ab", "ERROR", "nX", "\"a a\" -zz", "b"];
    let set = FilterSet::new(srcs.map(|s| Pattern::parse(s).unwrap()));
    let mut s = set.scratch();
    for msg in [
        format!("{}ERROR", "a".repeat(100)),
        format!("{}b\nX", "a ".repeat(100)),
        format!("{}nX zz", "a".repeat(40)),
    ] {
        let want: Vec<usize> = srcs
            .iter()
            .enumerate()
            .filter(|(_, p)| Pattern::parse(p).unwrap().test(&msg).is_some())
            .map(|(i, _)| i)
            .collect();
        let mut got = Vec::new();
        set.eval(&msg, &mut s, |i, _| got.push(i));
        assert_eq!(got, want, "{msg:?}");
        let raw = escape(&msg).unwrap();
        let mut got = Vec::new();
        set.eval_escaped(EscapedStr::new(&raw).unwrap(), &mut s, |i, _| got.push(i));
        assert_eq!(got, want, "escaped {raw:?}");
    }
}

#[test]
fn a_single_literal_in_escaped_text_skips_escape_sequences() {
    let set = FilterSet::new([Pattern::parse("nERROR").unwrap()]);
    let mut s = set.scratch();
    for (raw, want) in [
        (r"x\nERROR", 0),
        (r"x\\nERROR", 1),
        (r"\nERROR nERROR", 1),
        (r"\\\nERROR", 0),
    ] {
        let mut hits = 0;
        set.eval_escaped(EscapedStr::new(raw).unwrap(), &mut s, |_, _| hits += 1);
        assert_eq!(hits, want, "{raw:?}");
    }
}

#[test]
fn literals_with_escaped_characters_are_found_in_escaped_text() {
    let srcs = [
        r#""say \"hi\"""#,
        r#""C:\\temp""#,
        r#"{ $.level = "ERROR" }"#,
        r#"{ $.path = "a\\b" }"#,
    ];
    let set = FilterSet::new(srcs.map(|s| Pattern::parse(s).unwrap()));
    let mut s = set.scratch();
    for msg in [
        r#"they say "hi" to C:\temp"#,
        r#"say \"hi\" C:\\temp"#,
        r#"{"level":"ERROR","path":"a\\b"}"#,
        r#"{"level":"WARN","path":"a\\\\b"}"#,
        "say \"hi\"\n{\"level\":\"ERROR\"}",
    ] {
        let want: Vec<usize> = srcs
            .iter()
            .enumerate()
            .filter(|(_, p)| Pattern::parse(p).unwrap().test(msg).is_some())
            .map(|(i, _)| i)
            .collect();
        let raw = escape(msg).unwrap();
        let mut got = Vec::new();
        set.eval_escaped(EscapedStr::new(&raw).unwrap(), &mut s, |i, _| got.push(i));
        assert_eq!(got, want, "{msg:?} escaped as {raw:?}");
    }
}

// ------------------------------------------------------------------ fieldSelectionCriteria

fn criteria_text() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "@aws.account",
        "@aws.region",
        "@source.log",
        "@aws.acount",
        "=",
        "!=",
        "IN",
        "NOT",
        "not in",
        "AND",
        "or",
        "(",
        ")",
        "[",
        "]",
        ",",
        "\"us-east-1\"",
        "\"a\\\"b\"",
        "\"",
        "111111111111",
        "é",
        " ",
    ]);
    prop::collection::vec(token, 0..14).prop_map(|t| t.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any text parses or gives an error whose column lies within it (with a caret under it), and
    /// what parses evaluates on any values without a panic, reading only the fields it lists.
    #[test]
    fn selection_criteria_parse_or_point_inside_the_text(text in prop_oneof![criteria_text(), ".{0,40}"]) {
        use logrelay::pattern::selection::{SelectionCriteria, SystemValues};
        match SelectionCriteria::parse(&text) {
            Ok(c) => {
                let all = SystemValues {
                    account: Some("111111111111"),
                    region: Some("us-east-1"),
                    source_log: Some("/g"),
                };
                prop_assert!(c.selects(&all).is_ok());
                let none = SystemValues::default();
                prop_assert_eq!(c.selects(&none).is_err(), !c.fields().is_empty());
            }
            Err(e) => {
                prop_assert!(e.column() <= text.chars().count() + 1, "{}", e);
                let shown = e.to_string();
                prop_assert!(shown.lines().last().is_some_and(|l| l.contains('^')), "{}", shown);
            }
        }
    }
}

/// Where proptest's default failure persistence (`FileFailurePersistence::SourceParallel`) reads
/// the seeds of the properties in `source`: beside the nearest ancestor holding `lib.rs` or
/// `main.rs`, in `proptest-regressions/`, under the source's path below that ancestor, with a `.txt`
/// extension (for this binary, `tests/proptest-regressions/pattern_props.txt`).
fn regressions_file(source: &str) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = root.join(source);
    let mut dir = source.clone();
    while dir.pop() {
        if dir.join("lib.rs").is_file() || dir.join("main.rs").is_file() {
            break;
        }
    }
    let suffix = source.strip_prefix(&dir).unwrap().to_owned();
    dir.pop();
    dir.join("proptest-regressions")
        .join(suffix)
        .with_extension("txt")
}

#[test]
fn the_committed_failure_seeds_are_where_proptest_reads_them() {
    let path = regressions_file(file!());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; the committed failure seeds of {} would not run",
            path.display(),
            file!()
        )
    });
    let seeds = text.lines().filter(|l| l.starts_with("cc ")).count();
    assert!(seeds >= 4, "{} holds {seeds} seeds", path.display());
}
