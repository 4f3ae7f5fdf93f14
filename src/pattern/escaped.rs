//! Messages still in their JSON-escaped form.
//!
//! A log message arrives as a JSON string in the subscription document. When its only escapes are
//! the two-byte ones (`\"` `\\` `\n` `\t` `\r` `\b` `\f`), term patterns can be decided on the
//! escaped text directly (see [`FilterSet::eval_escaped`](super::FilterSet::eval_escaped)), and
//! the message needs unescaping only when a filter needs its text.

use std::fmt;

/// The content of a JSON string (between the quotes) whose escapes are all two-byte escapes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EscapedStr<'a>(&'a str);

impl<'a> EscapedStr<'a> {
    /// Checks `raw`: every `"` and `\` is part of a two-byte escape `\"` `\\` `\n` `\t` `\r` `\b`
    /// `\f`, and there is no control character. `None` otherwise (including `\u` and `\/`
    /// escapes, which this form leaves out).
    pub fn new(raw: &'a str) -> Option<Self> {
        let b = raw.as_bytes();
        let mut i = 0;
        while let Some(&c) = b.get(i) {
            match c {
                b'\\' => match b.get(i + 1) {
                    Some(b'"' | b'\\' | b'n' | b't' | b'r' | b'b' | b'f') => i += 2,
                    _ => return None,
                },
                b'"' => return None,
                c if c < 0x20 => return None,
                _ => i += 1,
            }
        }
        Some(EscapedStr(raw))
    }

    /// Wraps content the caller has already checked as [`new`](Self::new) does.
    pub(crate) fn new_unchecked(raw: &'a str) -> Self {
        debug_assert!(EscapedStr::new(raw).is_some(), "{raw:?}");
        EscapedStr(raw)
    }

    /// The escaped text, as in the JSON document.
    pub fn as_raw(&self) -> &'a str {
        self.0
    }

    /// Appends the unescaped text to `out`.
    pub fn unescape_into(&self, out: &mut String) {
        let raw = self.0;
        out.reserve(raw.len());
        let mut rest = raw;
        while let Some(k) = memchr::memchr(b'\\', rest.as_bytes()) {
            let (plain, tail) = rest.split_at(k);
            out.push_str(plain);
            let mut chars = tail.chars();
            chars.next();
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('b') => out.push('\u{8}'),
                Some('f') => out.push('\u{c}'),
                Some(c) => out.push(c),
                None => {}
            }
            rest = chars.as_str();
        }
        out.push_str(rest);
    }

    /// The unescaped text.
    pub fn unescape(&self) -> String {
        let mut s = String::new();
        self.unescape_into(&mut s);
        s
    }
}

impl fmt::Debug for EscapedStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EscapedStr").field(&self.0).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_two_byte_escapes() {
        assert!(EscapedStr::new(r#"a\"b\\c\n\t\r\b\f"#).is_some());
        assert!(EscapedStr::new("plain é").is_some());
        for bad in [r"\u0041", r"\/", r"\x", "\\", "a\"b", "a\nb", r"\\\"] {
            assert!(EscapedStr::new(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn unescapes() {
        let e = EscapedStr::new(r#"say \"hi\"\n\tat é\\x\b\f\r"#).unwrap();
        assert_eq!(e.unescape(), "say \"hi\"\n\tat é\\x\u{8}\u{c}\r");
    }

    #[test]
    fn unescapes_what_serde_json_escapes() {
        // Escapes close together and far apart, non-ASCII text.
        let pieces = [
            "\"",
            "\\",
            "\n",
            "\t",
            "\r",
            "\u{8}",
            "\u{c}",
            "é",
            "x",
            "0123456789abcdefghij",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..5_000 {
            let mut text = String::new();
            for _ in 0..(state % 24) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push_str(pieces[(state >> 32) as usize % pieces.len()]);
            }
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let json = serde_json::to_string(&text).unwrap();
            let e = EscapedStr::new(&json[1..json.len() - 1]).unwrap();
            assert_eq!(e.unescape(), text, "{json}");
        }
    }
}
