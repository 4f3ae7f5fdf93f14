//! Reading escapes: what the byte after a backslash makes of an escape, decoding escapes, and
//! whether an escape is exactly the one [`write_str`](super::write_str) writes (so that content
//! received in that form can be copied instead of escaped again).

use super::escape::{escape_out_table, ESCAPE_OUT, HEX, UNICODE};

/// [`ESCAPE`] values: not an escape, `\"` `\\` `\b` `\f` `\n` `\r` `\t`, `\/`, `\u`.
pub(crate) const ESC_INVALID: u8 = 0;
pub(crate) const ESC_TWO_BYTE: u8 = 1;
pub(crate) const ESC_SLASH: u8 = 2;
pub(crate) const ESC_UNICODE: u8 = 3;

/// What the byte after a backslash makes of the escape: the letters of the two-byte escapes the
/// writer uses ([`ESCAPE_OUT`]), `/`, and `u` — the escapes of RFC 8259, section 7.
pub(crate) static ESCAPE: [u8; 256] = {
    let out = escape_out_table();
    let mut t = [ESC_INVALID; 256];
    let mut c = 0;
    while c < 256 {
        let letter = out[c];
        if letter != 0 && letter != UNICODE {
            t[letter as usize] = ESC_TWO_BYTE;
        }
        c += 1;
    }
    t[b'/' as usize] = ESC_SLASH;
    t[b'u' as usize] = ESC_UNICODE;
    t
};

/// The character a two-byte escape stands for, by its letter (the inverse of [`ESCAPE_OUT`]).
static TWO_BYTE: [u8; 256] = {
    let out = escape_out_table();
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let letter = out[c];
        if letter != 0 && letter != UNICODE {
            t[letter as usize] = c as u8;
        }
        c += 1;
    }
    t
};

/// The value of four hex digits.
pub(crate) fn hex4(h: &[u8]) -> Option<u32> {
    h.iter().try_fold(0u32, |n, &c| {
        let d = char::from(c).to_digit(16)?;
        Some(n * 16 + d)
    })
}

/// Appends the unescaped content of a JSON string (already checked for control characters and
/// unescaped quotes) to `out`. Returns whether `raw` is exactly how
/// [`write_str`](super::write_str) escapes the result, or `None` for an invalid escape or an
/// unpaired surrogate (`out` then holds part of the text).
pub(crate) fn unescape(raw: &str, out: &mut String) -> Option<bool> {
    let b = raw.as_bytes();
    let mut canonical = true;
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'\\', b.get(i..)?) {
        let k = i + k;
        out.push_str(raw.get(i..k)?);
        let (c, next, canon) = decode_escape(b, k)?;
        out.push(c);
        canonical &= canon;
        i = next;
    }
    out.push_str(raw.get(i..)?);
    Some(canonical)
}

/// Decodes the escape at `b[k]` (a backslash): the character, the index after the escape, and
/// whether the escape is how [`write_str`](super::write_str) writes that character. `None` for an
/// invalid escape or an unpaired surrogate.
#[inline]
fn decode_escape(b: &[u8], k: usize) -> Option<(char, usize, bool)> {
    let e = *b.get(k + 1)?;
    match ESCAPE[usize::from(e)] {
        // The writer's own two-byte escapes: canonical by construction.
        ESC_TWO_BYTE => Some((char::from(TWO_BYTE[usize::from(e)]), k + 2, true)),
        // `/` needs no escape: the writer writes it as is.
        ESC_SLASH => Some(('/', k + 2, false)),
        ESC_UNICODE => {
            let digits = b.get(k + 2..k + 6)?;
            let cp = hex4(digits)?;
            match cp {
                0xD800..=0xDBFF => {
                    if b.get(k + 6..k + 8)? != b"\\u" {
                        return None;
                    }
                    let low = hex4(b.get(k + 8..k + 12)?)?;
                    if !(0xDC00..=0xDFFF).contains(&low) {
                        return None;
                    }
                    let cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    Some((char::from_u32(cp)?, k + 12, false))
                }
                0xDC00..=0xDFFF => None,
                _ => {
                    // The writer writes `\u00XX` (lowercase hex) only for what it escapes so.
                    let canonical = u8::try_from(cp).is_ok_and(|c| {
                        ESCAPE_OUT[usize::from(c)] == UNICODE
                            && digits
                                == [
                                    b'0',
                                    b'0',
                                    HEX[usize::from(c >> 4)],
                                    HEX[usize::from(c & 0xf)],
                                ]
                    });
                    Some((char::from_u32(cp)?, k + 6, canonical))
                }
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_kinds_are_those_of_rfc_8259() {
        for c in 0u8..=255 {
            let want = match c {
                b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => ESC_TWO_BYTE,
                b'/' => ESC_SLASH,
                b'u' => ESC_UNICODE,
                _ => ESC_INVALID,
            };
            assert_eq!(ESCAPE[usize::from(c)], want, "{c:#x}");
        }
    }

    #[test]
    fn decodes_every_escape_and_says_which_are_the_writers() {
        let cases: &[(&str, &str, bool)] = &[
            (r#"a\"b\\c\/d"#, "a\"b\\c/d", false),
            (r"\b\f\n\r\t", "\u{8}\u{c}\n\r\t", true),
            (r"\u0001\u001f", "\u{1}\u{1f}", true),
            (r"\u001F", "\u{1f}", false),
            (r"\u000a", "\n", false),
            (r"\u00e9\u0041", "éA", false),
            (r"\ud83d\ude00", "😀", false),
        ];
        for &(raw, text, canonical) in cases {
            let mut out = String::new();
            assert_eq!(unescape(raw, &mut out), Some(canonical), "{raw}");
            assert_eq!(out, text, "{raw}");
        }
        for bad in [r"\x", r"\ud800", r"\udc00x", r"\ud800\u0041", r"\u12", "\\"] {
            assert_eq!(unescape(bad, &mut String::new()), None, "{bad}");
        }
    }

    #[test]
    fn what_the_writer_writes_is_canonical() {
        for c in (0u32..0x300).filter_map(char::from_u32) {
            let text = c.to_string();
            let escaped = super::super::escape(&text);
            let mut out = String::new();
            assert_eq!(unescape(&escaped, &mut out), Some(true), "{escaped}");
            assert_eq!(out, text);
        }
    }
}
