//! A pattern on a message the way the relay evaluates it: inside a [`FilterSet`] of many other
//! filters (the shared literal prefilter on, JSON and space-delimited required literals included),
//! over the plain message ([`FilterSet::eval`]) and over its escaped form as the decoder's fast path
//! hands it over ([`FilterSet::eval_escaped`], `Message::Escaped`). [`Pattern::test`] evaluates the
//! pattern alone without the prefilter; [`test`] returns its result after checking that the
//! production path agrees with it, for the pattern under test and for every other filter of the set.
//!
//! ```ignore
//! let p = Pattern::parse("{ $.level != \"ERROR\" }").unwrap();
//! assert!(common::production::test(&p, r#"{"level":"WARN"}"#).is_some());
//! ```

use logrelay::pattern::{EscapedStr, FilterSet, Pattern};
use std::sync::OnceLock;

/// The other filters of the set: every kind, with literals (plain, quoted, JSON values, space-delimited
/// values) that the documentation's examples also use, so that they share the prefilter's automaton
/// and its candidate bits with the pattern under test.
const NEIGHBOURS: &[&str] = &[
    "ERROR",
    "\"Exiting\"",
    "?WARN ?INFO",
    "\"Failed to process\" -DEBUG",
    "%[0-9]{3} ERROR%",
    "",
    "{ $.level = \"ERROR\" }",
    "{ $.eventType = \"UpdateTrail\" }",
    "{ $.sourceIPAddress != 123.123.* }",
    "{ $.latency > 100 }",
    "{ $.user.id = 1 && $.user.email != \"ERROR\" }",
    "{ $.arrayKey[0] = \"value\" || $.missing NOT EXISTS }",
    "{ $.* = \"GET\" }",
    "{ $.ThisFlag IS TRUE }",
    "[ip, id, user, timestamp, request, status_code = 4*, size]",
    "[..., status = 500, bytes]",
    "[a = \"ERROR\", b != \"x\", ...]",
    "[ip, user = frank, ...]",
];

fn neighbours() -> &'static [Pattern] {
    static PARSED: OnceLock<Vec<Pattern>> = OnceLock::new();
    PARSED.get_or_init(|| {
        NEIGHBOURS
            .iter()
            .map(|s| Pattern::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e}")))
            .collect()
    })
}

/// `message` in the escaped form of the fast path (JSON string content with two-byte escapes
/// only), or None when the message has a control character that needs `\u` (the decoder takes
/// the plain path then).
pub fn escape(message: &str) -> Option<String> {
    let mut o = String::with_capacity(message.len());
    for c in message.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            '\u{8}' => o.push_str("\\b"),
            '\u{c}' => o.push_str("\\f"),
            c if (c as u32) < 0x20 => return None,
            c => o.push(c),
        }
    }
    Some(o)
}

type Hits = Vec<(usize, Vec<(String, String)>)>;

/// `pattern.test(message)`, after asserting that a [`FilterSet`] holding `pattern` among many other
/// filters gives the same result (match and extracted values) for it and for each of the others,
/// on the plain message and on its escaped form.
pub fn test(pattern: &Pattern, message: &str) -> Option<Vec<(String, String)>> {
    let others = neighbours();
    // The pattern under test in the middle, so that filters come before and after it.
    let at = others.len() / 2;
    let mut patterns: Vec<Pattern> = others[..at].to_vec();
    patterns.push(pattern.clone());
    patterns.extend(others[at..].iter().cloned());
    let want: Hits = patterns
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.test(message).map(|e| (i, e)))
        .collect();

    let set = FilterSet::new(patterns);
    let mut scratch = set.scratch();
    let mut plain: Hits = Vec::new();
    set.eval(message, &mut scratch, |i, c| plain.push((i, c.extracted())));
    assert_eq!(
        plain,
        want,
        "FilterSet::eval disagrees with Pattern::test for {:?} (filter {at}) on {message:?}",
        pattern.source()
    );
    if let Some(raw) = escape(message) {
        let escaped = EscapedStr::new(&raw).expect("two-byte escapes only");
        let mut hits: Hits = Vec::new();
        set.eval_escaped(escaped, &mut scratch, |i, c| {
            assert_eq!(c.message(), message, "the unescaped message");
            hits.push((i, c.extracted()))
        });
        assert_eq!(
            hits,
            want,
            "FilterSet::eval_escaped disagrees with Pattern::test for {:?} (filter {at}) on {raw:?}",
            pattern.source()
        );
    }
    want.into_iter()
        .find(|(i, _)| *i == at)
        .map(|(_, extracted)| extracted)
}
