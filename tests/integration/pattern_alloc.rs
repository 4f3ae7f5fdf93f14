//! The common evaluation path does not allocate: term, regex, match-all and space-delimited
//! filters evaluate with the scratch's reused memory only (after the first event warmed it up).

use logrelay::pattern::{FilterSet, Pattern};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCS.with(Cell::get);
    f();
    ALLOCS.with(Cell::get) - before
}

#[test]
fn evaluation_without_json_does_not_allocate() {
    let set = FilterSet::new(
        [
            "ERROR",
            "?WARN ?FATAL -DEBUG",
            "\"Failed to process\"",
            "",
            "%timeout after [0-9]+ ms%",
            "[ip, ..., status = 5*, bytes > 1000]",
            "[a, b]",
        ]
        .map(|s| Pattern::parse(s).unwrap()),
    );
    let messages = [
        "ERROR Failed to process the request: timeout after 3000 ms",
        "10.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] \"GET / HTTP/1.1\" 504 1534",
        "WARN nothing to see",
        "plain",
    ];
    let mut scratch = set.scratch();
    let mut hits = 0usize;
    // Warm-up: sizes the scratch and the regex engine's cache.
    for m in messages {
        set.eval(m, &mut scratch, |_, _| hits += 1);
    }
    let n = allocations(|| {
        for _ in 0..100 {
            for m in messages {
                set.eval(m, &mut scratch, |_, _| hits += 1);
            }
        }
    });
    assert_eq!(n, 0, "allocations on the evaluation path");
    // ERROR msg: ERROR, "Failed to process", match-all, regex; access: match-all, space;
    // WARN: ?WARN, match-all; plain: match-all — 9 per round.
    assert_eq!(hits, 9 * 101);
}

#[test]
fn captures_are_read_without_allocating() {
    let p = Pattern::parse("[ip, ..., status, bytes]").unwrap();
    let bytes = p.field_ref("$bytes").unwrap();
    let set = FilterSet::new([p]);
    let mut scratch = set.scratch();
    let msg = "10.0.0.1 - frank \"GET / HTTP/1.1\" 504 1534";
    let mut total = 0.0;
    set.eval(msg, &mut scratch, |_, c| {
        total += c.get(&bytes).and_then(|v| v.as_f64()).unwrap_or(0.0)
    });
    let n = allocations(|| {
        set.eval(msg, &mut scratch, |_, c| {
            total += c.get(&bytes).and_then(|v| v.as_f64()).unwrap_or(0.0)
        })
    });
    assert_eq!(n, 0);
    assert_eq!(total, 2.0 * 1534.0);
}
