//! Evaluation never panics, a FilterSet gives the same answers as each pattern alone, and
//! evaluating the message in its escaped JSON form (`eval_escaped`) gives the same answers as
//! evaluating its text.
//! Input: patterns and a message separated by NUL bytes; the last piece is the message. Only the
//! first [`MAX_PATTERNS`] patterns are used: building a set is the costly part of an execution, and
//! what a set of a few patterns shares (literal ids, triggers, the searcher chosen by their number)
//! is already exercised by up to four patterns with several literals each.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logrelay::json;
use logrelay::pattern::{EscapedStr, FilterSet, Pattern};

const MAX_PATTERNS: usize = 4;

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
        .take(MAX_PATTERNS)
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
    // The message as the payloads carry it; `EscapedStr` holds only content whose escapes are all
    // two-byte ones (a control character written `\u00XX` leaves the message out).
    let raw = json::escape(message);
    if let Some(escaped) = EscapedStr::new(&raw) {
        let mut got_escaped = Vec::new();
        set.eval_escaped(escaped, &mut scratch, |i, c| {
            assert_eq!(c.message(), message);
            got_escaped.push((i, c.extracted()));
        });
        assert_eq!(got_escaped, want);
    }
});
