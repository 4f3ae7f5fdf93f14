//! Evaluation never panics, and a FilterSet gives the same answers as each pattern alone.
//! Input: patterns and a message separated by NUL bytes; the last piece is the message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logrelay::pattern::{FilterSet, Pattern};

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
});
