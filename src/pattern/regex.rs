//! The CloudWatch regex subset: validation (with the column of the offending character) and
//! translation to the `regex` crate's syntax.

use super::error::{PatternError, PatternErrorKind as K};
use super::limits::MAX_REGEX_COMPILED_BYTES;
use super::semantics;

/// Characters allowed in a regex besides ASCII letters and digits.
///
/// Source: CloudWatch Logs User Guide, "Supported regular expressions (regex) syntax": the symbols
/// `:` `_` `#` `=` `@` `/` `;` `,` `-` and the operators `^ $ ? [ ] { } | \ * + .`.
const ALLOWED: &str = ":_#=@/;,-^$?[]{}|\\*+.";

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || ALLOWED.contains(c) || (c == ' ' && semantics::REGEX_ALLOWS_SPACE)
}

/// Checks `body` (the text between the `%` signs, starting at byte `offset` of `src`) against the
/// allowed subset and compiles it, so that every error is reported at parse time. The compiled
/// regex is kept in the syntax tree, so a pattern's regexes are compiled once.
pub(crate) fn parse_regex(
    src: &str,
    offset: usize,
    body: &str,
) -> Result<regex::Regex, PatternError> {
    translate(src, offset, body).and_then(|t| {
        build(&t)
            .map_err(|e| PatternError::new(K::RegexInvalid(e), offset..offset + body.len(), src))
    })
}

/// Validates and translates to `regex` crate syntax.
fn translate(src: &str, offset: usize, body: &str) -> Result<String, PatternError> {
    if body.is_empty() {
        return Err(PatternError::new(
            K::EmptyRegex,
            offset - 1..offset + 1,
            src,
        ));
    }
    let mut out = String::with_capacity(body.len() + 8);
    let mut it = body.char_indices().peekable();
    let mut in_class = false;
    while let Some((i, c)) = it.next() {
        let at = offset + i;
        if !allowed(c) {
            return Err(PatternError::new(
                K::RegexCharNotAllowed(c),
                at..at + c.len_utf8(),
                src,
            ));
        }
        if c != '\\' {
            match c {
                '[' => in_class = true,
                ']' => in_class = false,
                // `{,n}`: "either m or n can be omitted".
                '{' if !in_class
                    && semantics::REGEX_REPEAT_MIN_MAY_BE_OMITTED
                    && it.peek().is_some_and(|&(_, n)| n == ',') =>
                {
                    out.push_str("{0");
                    continue;
                }
                _ => {}
            }
            out.push(c);
            continue;
        }
        let Some((_, n)) = it.next() else {
            return Err(PatternError::new(
                K::RegexInvalid("a trailing '\\' escapes nothing".to_owned()),
                at..at + 1,
                src,
            ));
        };
        if n == 'x' && semantics::REGEX_HEX_ESCAPES {
            // `\xhh`: the ASCII character with that code, escaped for the engine.
            let hex: String = body[i + 2..].chars().take(2).collect();
            let code = (hex.len() == 2 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| u8::from_str_radix(&hex, 16).ok())
                .flatten()
                .filter(u8::is_ascii);
            let Some(code) = code else {
                return Err(PatternError::new(
                    K::RegexInvalid(
                        "'\\x' must be followed by two hex digits of an ASCII code (00 to 7F)"
                            .to_owned(),
                    ),
                    at..(at + 2 + hex.len()).min(offset + body.len()),
                    src,
                ));
            };
            it.next();
            it.next();
            out.push_str(&format!("\\x{code:02X}"));
            continue;
        }
        if let Some(class) = semantics::regex_class(n) {
            out.push_str(class);
        } else if n.is_ascii_punctuation() && allowed(n) {
            out.push('\\');
            out.push(n);
        } else {
            let end = at + 1 + n.len_utf8();
            return Err(PatternError::new(
                if allowed(n) {
                    K::RegexEscapeNotAllowed(n)
                } else {
                    K::RegexCharNotAllowed(n)
                },
                at..end,
                src,
            ));
        }
    }
    Ok(out)
}

fn build(translated: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(translated)
        .size_limit(MAX_REGEX_COMPILED_BYTES)
        .dfa_size_limit(MAX_REGEX_COMPILED_BYTES)
        .build()
        .map_err(|e| match e {
            regex::Error::Syntax(s) => s
                .lines()
                .rev()
                .find(|l| l.starts_with("error:"))
                .map_or_else(|| s.clone(), |l| l.trim_start_matches("error: ").to_owned()),
            regex::Error::CompiledTooBig(n) => {
                format!("the compiled expression exceeds the size limit of {n} bytes")
            }
            other => other.to_string(),
        })
}
