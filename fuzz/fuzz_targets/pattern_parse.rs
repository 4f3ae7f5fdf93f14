//! Parsing never panics; whatever parses prints to text that parses to the same tree, and every
//! error span lies on character boundaries inside the pattern.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logrelay::pattern::Pattern;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    match Pattern::parse(src) {
        Ok(p) => {
            let printed = p.to_string();
            let q = Pattern::parse(&printed).expect("printed pattern parses");
            assert!(p.same_ast(&q), "{src:?} printed as {printed:?}");
        }
        Err(e) => {
            let span = e.span();
            assert!(span.start <= span.end && span.end <= src.len());
            assert!(src.is_char_boundary(span.start) && src.is_char_boundary(span.end));
            let _ = e.to_string();
        }
    }
});
