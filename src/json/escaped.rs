//! Messages still in their JSON-escaped form.
//!
//! A log message arrives as a JSON string in the subscription document. When its only escapes are
//! the two-byte ones (`\"` `\\` `\n` `\t` `\r` `\b` `\f`), term patterns can be decided on the
//! escaped text directly (see
//! [`FilterSet::eval_escaped`](crate::pattern::FilterSet::eval_escaped)), and the message needs
//! unescaping only when a filter needs its text.

use super::classify::find_special;
use super::unescape::{unescape, ESCAPE, ESC_TWO_BYTE};
use memchr::memmem;
use std::fmt;
use std::sync::LazyLock;

/// Finds `\\` (the escape of a backslash); built once.
static BACKSLASH_ESCAPE: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\\\\"));

/// Whether `b` is the letter of a two-byte escape (`"` `\` `n` `t` `r` `b` `f`), i.e. whether in
/// [`EscapedStr`] content a byte `b` can be the second byte of an escape.
pub(crate) fn is_two_byte_escape_letter(b: u8) -> bool {
    ESCAPE[usize::from(b)] == ESC_TWO_BYTE
}

/// Whether byte `at` of escaped string content is the second byte of an escape sequence, so that
/// no character of the text starts there: it follows an odd run of backslashes.
pub(crate) fn in_escape(raw: &[u8], at: usize) -> bool {
    raw.get(..at)
        .map_or(0, |b| b.iter().rev().take_while(|&&c| c == b'\\').count())
        % 2
        == 1
}

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
        while let Some(k) = find_special(b, i) {
            let two_byte =
                b[k] == b'\\' && b.get(k + 1).is_some_and(|&e| is_two_byte_escape_letter(e));
            if !two_byte {
                return None;
            }
            i = k + 2;
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

    /// Whether the unescaped text holds a backslash. In this form a backslash is written `\\`,
    /// and two backslashes in a row always include that escape (the second byte of any other escape
    /// is a letter or `"`), so a search for `\\` answers.
    pub fn contains_backslash(&self) -> bool {
        BACKSLASH_ESCAPE.find(self.0.as_bytes()).is_some()
    }

    /// Appends the unescaped text to `out`.
    pub fn unescape_into(&self, out: &mut String) {
        out.reserve(self.0.len());
        // Checked content has only two-byte escapes, which always decode.
        let decoded = unescape(self.0, out);
        debug_assert!(decoded.is_some(), "{:?}", self.0);
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
        assert!(EscapedStr::new(&format!("{}\\n", "x".repeat(40))).is_some());
        for bad in [
            r"\u0041",
            r"\/",
            r"\x",
            "\\",
            "a\"b",
            "a\nb",
            r"\\\",
            "0123456789abcdefghij\"",
        ] {
            assert!(EscapedStr::new(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn escape_positions() {
        // `a\\\nb`: `\\` at 1-2, `\n` at 3-4.
        let raw = br"a\\\nb";
        let inside: Vec<usize> = (0..=raw.len()).filter(|&i| in_escape(raw, i)).collect();
        assert_eq!(inside, [2, 4]);
        assert!(!in_escape(b"", 0));
        for b in [b'"', b'\\', b'n', b't', b'r', b'b', b'f'] {
            assert!(is_two_byte_escape_letter(b), "{}", char::from(b));
        }
        for b in [b'/', b'u', b'a', b'x', b' '] {
            assert!(!is_two_byte_escape_letter(b), "{}", char::from(b));
        }
    }

    #[test]
    fn backslash_in_text() {
        for (raw, want) in [
            (r"a\\b", true),
            (r"\\", true),
            (r"\n\t\\", true),
            (r#"\n\t\""#, false),
            (r"no escapes", false),
            (r#"\"\b\f\r"#, false),
        ] {
            let e = EscapedStr::new(raw).unwrap();
            assert_eq!(e.contains_backslash(), want, "{raw:?}");
            assert_eq!(
                e.contains_backslash(),
                e.unescape().contains('\\'),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn unescapes() {
        let e = EscapedStr::new(r#"say \"hi\"\n\tat é\\x\b\f\r"#).unwrap();
        assert_eq!(e.unescape(), "say \"hi\"\n\tat é\\x\u{8}\u{c}\r");
    }
}
