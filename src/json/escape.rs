//! Writing text as JSON string content, escaping exactly as `serde_json` does: `"` `\` and the
//! control characters U+0000 to U+001F, with the two-byte escapes `\"` `\\` `\b` `\f` `\n` `\r`
//! `\t` where they exist and `\u00XX` (lowercase hex) for the other controls; every other
//! character, U+007F and non-ASCII included, as is (RFC 8259, section 7). The subscription
//! documents CloudWatch Logs sends are written this way, which is what lets the encoders copy a
//! message as received, and lets the filter-pattern literals be searched in escaped messages.

use super::classify::find_special;

/// What `\u` stands for in [`ESCAPE_OUT`].
pub(crate) const UNICODE: u8 = b'u';

/// How [`write_str`] writes each byte: 0 — as is; the letter of its two-byte escape (`"` `\` `b`
/// `f` `n` `r` `t`); or [`UNICODE`] — `\u00XX`. The one statement of the escaping rule: the
/// escape tables of [`unescape`](super::unescape) and the byte classes of
/// [`classify`](super::classify) are derived from it or tested against it.
pub(crate) static ESCAPE_OUT: [u8; 256] = escape_out_table();

/// [`ESCAPE_OUT`], for the tables derived from it at compile time.
pub(crate) const fn escape_out_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = UNICODE;
        c += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
}

/// The hex digits of `\u00XX`.
pub(crate) const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the escape of `c` (a byte [`ESCAPE_OUT`] escapes) to `out`.
#[inline]
fn push_escape(out: &mut Vec<u8>, c: u8) {
    match ESCAPE_OUT[usize::from(c)] {
        UNICODE => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(c >> 4)],
            HEX[usize::from(c & 0xf)],
        ]),
        letter => out.extend_from_slice(&[b'\\', letter]),
    }
}

/// Appends `s` as JSON string content (escaped, without quotes) to `out`.
#[inline]
fn write_content_of(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    let mut start = 0;
    while let Some(k) = find_special(b, start) {
        out.extend_from_slice(&b[start..k]);
        push_escape(out, b[k]);
        start = k + 1;
    }
    out.extend_from_slice(&b[start..]);
}

/// Writes `s` as a JSON string (quoted, escaped) to `out`, escaping exactly as `serde_json` does.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    write_content_of(out, s);
    out.push(b'"');
}

/// `text` as JSON string content (escaped as [`write_str`] escapes it, without the quotes).
pub fn escape(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    write_content_of(&mut out, text);
    // Escaping replaces ASCII bytes by ASCII bytes and keeps every other byte: still UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Whether some byte of `b` must be escaped in a JSON string (a quote, a backslash or a control
/// character).
pub fn needs_escape(b: &[u8]) -> bool {
    find_special(b, 0).is_some()
}

/// Length of `s` once written as JSON string content (without the quotes), as [`write_str`]
/// writes it.
pub fn escaped_len(s: &str) -> usize {
    s.bytes()
        .map(|b| match ESCAPE_OUT[usize::from(b)] {
            0 => 1,
            UNICODE => 6,
            _ => 2,
        })
        .sum()
}

/// Splits `s` at char boundaries into consecutive chunks whose JSON-escaped length is at most
/// `budget` bytes each. Returns `None` if one character alone does not fit.
pub fn split_escaped(s: &str, budget: usize) -> Option<Vec<&str>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut len = 0;
    for (i, c) in s.char_indices() {
        let mut buf = [0u8; 4];
        let cl = escaped_len(c.encode_utf8(&mut buf));
        if cl > budget {
            return None;
        }
        if len + cl > budget {
            chunks.push(&s[start..i]);
            start = i;
            len = 0;
        }
        len += cl;
    }
    chunks.push(&s[start..]);
    Some(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{xorshift, EscapedStr};

    fn random_text(state: &mut u64) -> String {
        let pieces = [
            "\"",
            "\\",
            "\n",
            "\t",
            "\r",
            "\u{8}",
            "\u{c}",
            "\u{0}",
            "\u{1}",
            "\u{1f}",
            "\u{7f}",
            "/",
            "é",
            "😀",
            "x",
            "0123456789abcdefghij",
        ];
        let mut text = String::new();
        for _ in 0..(*state % 40) {
            let r = xorshift(state);
            text.push_str(pieces[(r >> 32) as usize % pieces.len()]);
        }
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        text
    }

    #[test]
    fn writes_as_serde_json_writes() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..5_000 {
            let text = random_text(&mut state);
            let want = serde_json::to_string(&text).unwrap();
            let mut got = Vec::new();
            write_str(&mut got, &text);
            assert_eq!(String::from_utf8_lossy(&got), want);
            assert_eq!(escape(&text), want[1..want.len() - 1]);
            assert_eq!(escaped_len(&text), want.len() - 2, "{text:?}");
            assert_eq!(needs_escape(text.as_bytes()), want.len() - 2 != text.len());
            // Content with only two-byte escapes is an `EscapedStr`, and unescapes to the text.
            let content = &want[1..want.len() - 1];
            match EscapedStr::new(content) {
                Some(e) => assert_eq!(e.unescape(), text, "{want}"),
                None => assert!(content.contains("\\u"), "{want}"),
            }
        }
        for c in 0u8..=0x7f {
            let s = char::from(c).to_string();
            let mut got = Vec::new();
            write_str(&mut got, &s);
            assert_eq!(got, serde_json::to_vec(&s).unwrap(), "{c:#x}");
        }
    }

    #[test]
    fn split_escaped_respects_budget_and_boundaries() {
        let s = "aé\"\u{1}bc";
        let chunks = split_escaped(s, 6).unwrap();
        assert_eq!(chunks.concat(), s);
        for c in &chunks {
            assert!(escaped_len(c) <= 6, "{c:?}");
        }
        assert_eq!(split_escaped("\u{1}", 5), None);
    }
}
