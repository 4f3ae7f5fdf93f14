//! JSON string bytes: the one home of the rules for finding, escaping and unescaping the content of
//! a JSON string (RFC 8259, section 7), as the subscription documents carry it and as `serde_json`
//! writes it.
//!
//! - [`classify`]: which bytes of a block are quotes, backslashes, control characters or the
//!   letters of a two-byte escape, as bitmasks, with one backend per instruction set behind one
//!   interface (`portable`, `sse2`, `avx2`).
//! - `string_end`: the closing quote of a long string, 64 bytes at a time.
//! - `escape`: the escaping table, writing text as JSON string content exactly as
//!   `serde_json` does, its length, splitting it into chunks of bounded escaped length.
//! - `unescape`: what the byte after a backslash makes of an escape, decoding
//!   escapes, and whether an escape is the one [`write_str`] writes.
//! - [`EscapedStr`]: string content kept in its escaped form.
//! - `write`: the small JSON writer toolkit (quoted content, integers).
//!
//! Everything that reads or writes JSON string content (the payload parser, the encoders, the
//! enrichment, the filter-pattern literals) goes through these functions, so that a rule is changed
//! in one place.

pub mod classify;
mod escape;
mod escaped;
pub(crate) mod string_end;
pub(crate) mod unescape;
mod write;

pub use escape::{escape, escaped_len, needs_escape, split_escaped, write_str};
pub use escaped::EscapedStr;
pub(crate) use escaped::{in_escape, is_two_byte_escape_letter};
pub use write::{write_content, write_i64, write_u64};

/// A deterministic generator for the randomised tests of this module.
#[cfg(test)]
pub(crate) fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}
