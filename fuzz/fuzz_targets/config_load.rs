//! Fuzzes the metric-filter file loader: any bytes either load into validated filters or give an
//! error that names the file — never a panic. Loaded filters must evaluate a message without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logrelay::config::parse_filter_document;
use logrelay::pattern::FilterSet;

fuzz_target!(|data: &[u8]| {
    match parse_filter_document(data, "fuzz.json") {
        Ok(filters) => {
            let set = FilterSet::new(filters.iter().map(|f| f.pattern.clone()));
            let mut scratch = set.scratch();
            set.eval("ERROR {\"a\":1} [x] 42", &mut scratch, |_, _| {});
        }
        Err(e) => {
            let text = e.to_string();
            assert!(!text.is_empty());
        }
    }
});
