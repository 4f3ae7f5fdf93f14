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
