//! Evaluation never panics, a FilterSet gives the same answers as each pattern alone, and
//! evaluating the message in its escaped JSON form (`eval_escaped`) gives the same answers as
//! evaluating its text.
//! Input: patterns and a message separated by NUL bytes; the last piece is the message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logrelay::pattern::{EscapedStr, FilterSet, Pattern};

/// `text` as JSON string content with two-byte escapes only, if it can be written so.
fn escape(text: &str) -> Option<String> {
    let mut o = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            '\u{8}' => o.push_str("\\b"),
            '\u{c}' => o.push_str("\\f"),
            c if u32::from(c) < 0x20 => return None,
            c => o.push(c),
        }
    }
    Some(o)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut pieces: Vec<&str> = text.split('\0').collect();
    let Some(message) = pieces.pop() else {
        return;
    };
    let patterns: Vec<Pattern> = pieces
        .iter()
        .filter_map(|p| Pattern::parse(p).ok())
        .collect();
    let set = FilterSet::new(patterns.clone());
    let mut scratch = set.scratch();
    let mut got = Vec::new();
    set.eval(message, &mut scratch, |i, c| got.push((i, c.extracted())));
    let want: Vec<_> = patterns
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.test(message).map(|e| (i, e)))
        .collect();
    assert_eq!(got, want);
    if let Some(raw) = escape(message) {
        let escaped = EscapedStr::new(&raw).expect("escaped with two-byte escapes");
        let mut got_escaped = Vec::new();
        set.eval_escaped(escaped, &mut scratch, |i, c| {
            assert_eq!(c.message(), message);
            got_escaped.push((i, c.extracted()));
        });
        assert_eq!(got_escaped, want);
    }
});
