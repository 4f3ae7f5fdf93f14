//! Splitting a message into space-delimited fields (once per event, shared by all filters).

use super::semantics::{field_group_closer, is_field_separator, UNBALANCED_GROUP_IS_LITERAL};

/// Splits `msg` into fields, appending `(start, end)` byte ranges to `out`.
///
/// Whitespace separates fields; a field starting with `"` or `[` runs to the next `"` / `]` and
/// the enclosing characters are left out (see [`super::semantics`]). Runs in one pass, without
/// allocating beyond `out`'s capacity.
pub(crate) fn split_fields(msg: &str, out: &mut Vec<(usize, usize)>) {
    let b = msg.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if is_field_separator(b[i]) {
            i += 1;
            continue;
        }
        if let Some(close) = field_group_closer(b[i]) {
            if let Some(k) = memchr::memchr(close, &b[i + 1..]) {
                out.push((i + 1, i + 1 + k));
                i += k + 2;
                continue;
            }
            if !UNBALANCED_GROUP_IS_LITERAL {
                out.push((i + 1, b.len()));
                return;
            }
        }
        let start = i;
        while i < b.len() && !is_field_separator(b[i]) {
            i += 1;
        }
        out.push((start, i));
    }
}

/// The text a field spec covers: one field's value, or — when the spec takes several fields (the
/// last spec of a pattern without `...`, see [`super::semantics::LAST_FIELD_TAKES_SURPLUS`]) —
/// the message verbatim from the first field's start to the last field's end, with the quotes or
/// brackets of grouped fields kept. `range` indexes `fields`; an empty range gives "".
pub(crate) fn covered_text<'m>(
    msg: &'m str,
    fields: &[(usize, usize)],
    range: std::ops::Range<usize>,
) -> &'m str {
    let (Some(&first), Some(&last)) = (
        fields.get(range.start),
        fields.get(range.end.wrapping_sub(1)),
    ) else {
        return "";
    };
    if range.len() == 1 {
        return msg.get(first.0..first.1).unwrap_or("");
    }
    let b = msg.as_bytes();
    let start = raw_start(b, first);
    let end = raw_end(b, last);
    msg.get(start..end).unwrap_or("")
}

/// Whether the field `(a, b)` was split as a group (`"…"` / `[…]`): the byte before it opens a
/// group and the byte at its end closes it. A field split at whitespace always ends at whitespace
/// or at the end of the message, so the test cannot mistake one for a group.
fn grouped(b: &[u8], (a, e): (usize, usize)) -> bool {
    a > 0
        && b.get(a - 1)
            .and_then(|&o| field_group_closer(o))
            .is_some_and(|c| b.get(e) == Some(&c))
}

fn raw_start(b: &[u8], f: (usize, usize)) -> usize {
    if grouped(b, f) {
        f.0 - 1
    } else {
        f.0
    }
}

fn raw_end(b: &[u8], f: (usize, usize)) -> usize {
    if grouped(b, f) {
        f.1 + 1
    } else {
        f.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(m: &str) -> Vec<&str> {
        let mut v = Vec::new();
        split_fields(m, &mut v);
        v.into_iter().map(|(a, b)| &m[a..b]).collect()
    }

    #[test]
    fn access_log() {
        assert_eq!(
            split(
                r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#
            ),
            vec![
                "127.0.0.1",
                "Prod",
                "frank",
                "10/Oct/2000:13:25:15 -0700",
                "GET /index.html HTTP/1.0",
                "404",
                "1534"
            ]
        );
    }

    #[test]
    fn covered_text_keeps_the_original_spelling() {
        let m = r#"1.2.3.4 - f [10/Oct/2000:13:25:15 -0700] "GET / HTTP/1.0" 200 1534  "ref" [x]"#;
        let mut v = Vec::new();
        split_fields(m, &mut v);
        assert_eq!(covered_text(m, &v, 3..4), "10/Oct/2000:13:25:15 -0700");
        assert_eq!(covered_text(m, &v, 6..9), r#"1534  "ref" [x]"#);
        assert_eq!(
            covered_text(m, &v, 3..5),
            r#"[10/Oct/2000:13:25:15 -0700] "GET / HTTP/1.0""#
        );
        assert_eq!(covered_text(m, &v, 9..9), "");
        let m = "\"a\"b c";
        v.clear();
        split_fields(m, &mut v);
        assert_eq!(covered_text(m, &v, 1..3), "b c");
    }

    #[test]
    fn edges() {
        assert_eq!(split("  a\t b  \n"), vec!["a", "b"]);
        assert_eq!(split(""), Vec::<&str>::new());
        assert_eq!(split("\"\" x"), vec!["", "x"]);
        assert_eq!(split("\"a b"), vec!["\"a", "b"]);
        assert_eq!(split("[a b"), vec!["[a", "b"]);
        assert_eq!(split("\"a\"b c"), vec!["a", "b", "c"]);
        assert_eq!(split("é [ü ö]"), vec!["é", "ü ö"]);
    }
}
