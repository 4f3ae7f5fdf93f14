//! Every reading we chose where the AWS documentation leaves the behaviour open.
//!
//! One constant or function per choice, each used by the parser or the evaluator, so that a choice
//! can be changed in one place. `SEMANTICS.md` beside this file has the same list as a table.
//! Numbers like "§9.3" refer to "Known ambiguities" in our filter-pattern syntax notes.

/// §9.1 — a term matches anywhere in the message, including inside a longer word
/// (`ERROR` matches `ERRORCODE`), following the guide's own examples. Matching is case-sensitive.
/// The evaluator implements exactly this (one Aho-Corasick search over all terms).
pub const TERMS_ARE_SUBSTRINGS: bool = true;

/// §9.2 — a pattern that is a single quoted term holding only whitespace (`" "`, also `""`) matches
/// every event, as the guide's "match everything" example says. Elsewhere a quoted space is a
/// literal space.
pub fn quoted_sole_term_is_match_all(text: &str) -> bool {
    text.chars().all(char::is_whitespace)
}

/// §9.3 — `?` grouping follows the AWS CDK (disjunctive normal form): `?` starts a new alternative;
/// un-prefixed terms that follow are AND-ed into it; plain terms before the first `?` form the first
/// alternative. Exclusions (`-x`) apply to the whole pattern: it matches when some alternative has
/// all its terms and no excluded term occurs. A pattern of only exclusions matches every event
/// without any of them.
pub const OR_TERMS_FORM_DNF: bool = true;

/// §9.4 — whitespace is allowed between a `-` or `?` prefix and its term (`- "Exiting"` is an
/// exclusion, as in the old guide's example).
pub const ALLOW_SPACE_AFTER_PREFIX: bool = true;

/// §9.5 — an unquoted term may contain any character except whitespace and `"` (`ERROR:` is the
/// term `ERROR:`); we are lenient where AWS says such terms "must" be quoted. A `"` inside an
/// unquoted term is an error. An unquoted term shaped like `%…%` is rejected (a regex must be the
/// whole pattern, see [`REGEX_MUST_BE_WHOLE_TERM_PATTERN`]).
pub fn is_bare_term_char(c: char) -> bool {
    !c.is_whitespace() && c != '"'
}

/// §9.10 — a regex cannot be combined with terms (`ERROR %foo%` is rejected rather than
/// guessed at).
pub const REGEX_MUST_BE_WHOLE_TERM_PATTERN: bool = true;

/// Inside quoted terms and quoted values, `\"` is a literal `"` and `\\` a literal `\` (the CDK's
/// escaping). Any other backslash is kept literally.
pub fn unescapes(c: char) -> bool {
    c == '"' || c == '\\'
}

/// JSON keywords (`IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`) are upper case only, as written in
/// every AWS example; `is null` is an error that says what was expected.
pub const KEYWORDS_UPPERCASE_ONLY: bool = true;

/// §9.6 — a string condition (`= "404"`, `= 4*`, `= %re%`) on a JSON *number* compares against
/// the number's JSON text (`{ $.status = 4* }` matches `"status": 404`).
pub const STRING_CONDITIONS_SEE_NUMBER_TEXT: bool = true;

/// §9.6 — a numeric condition (`= 5`, `> 5`, `!= 5`) applies only to JSON numbers, never to
/// strings that look like numbers (the guide: "Strings containing scientific notation are not
/// supported"). So `{ $.latency > 500 }` does not match `"latency": "600"`.
pub const NUMERIC_CONDITIONS_SEE_NUMERIC_STRINGS: bool = false;

/// §9.6 — `=`/`!=` conditions never match `null`, `true`/`false`, objects or arrays (including
/// `= *`); use `IS NULL` / `IS TRUE` / `IS FALSE` for those. `!=` is the negation of `=` only among
/// the values a condition applies to: `{ $.a != 5 }` on a string `a` does not match.
pub const EQUALITY_SEES_NULL_AND_BOOL: bool = false;

/// §9.7 — `NOT EXISTS` is true only when the selector reaches nothing (missing key, index out of
/// range, or a step into a value that is not an object/array). A present `null` exists.
pub const NULL_EXISTS: bool = true;

/// §9.6 — a JSON pattern applies only when the whole message is one JSON object (surrounding
/// whitespace allowed). Text before the JSON, arrays and scalars at top level do not match. For
/// duplicate keys the last one wins (`serde_json`'s behaviour). Numbers are compared as `f64`.
pub const JSON_REQUIRES_WHOLE_OBJECT: bool = true;

/// §9.8 — a `*` wildcard may stand at the start, the end, or both ends of a string value; a `*` in
/// the middle is literal. A quoted `"*"` is still a wildcard. The same holds in space-delimited
/// patterns.
pub const WILDCARDS_AT_BOTH_ENDS: bool = true;

/// §9.9 — field separators in space-delimited messages: runs of ASCII whitespace (space, tab,
/// CR, LF) separate fields; leading and trailing whitespace is ignored (so a trailing newline does
/// not create an empty field or stick to the last value).
pub fn is_field_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// §9.9 — a field that *starts* with `"` or `[` extends to the next `"` or `]` respectively
/// (no escapes, no nesting); the enclosing characters are not part of the value, and the next
/// field starts right after the closing character. Returns the closing byte for an opening byte.
pub fn field_group_closer(open: u8) -> Option<u8> {
    match open {
        b'"' => Some(b'"'),
        b'[' => Some(b']'),
        _ => None,
    }
}

/// §9.9 — an opening `"` or `[` without its closing character is an ordinary character: the field
/// is then split at whitespace like any other.
pub const UNBALANCED_GROUP_IS_LITERAL: bool = true;

/// §9.9 — a condition inside one field spec may name another field of the same pattern
/// (`status_code = 4* && bytes > 1000`, as the guide prints); it is evaluated on that field.
pub const CROSS_FIELD_CONDITIONS: bool = true;

/// §9.9 — a condition naming a name that is *no* field of the pattern applies to the field of the
/// spec it is written in (the name is then only a label). The guide prints
/// `[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]`, which has no
/// field `bytes`; this reading lets that documented pattern parse. Set to `false` to reject such
/// names with [`super::PatternErrorKind::UnknownField`].
pub const UNKNOWN_CONDITION_FIELD_IS_OWN_FIELD: bool = true;

/// §9.9 — at most one `...` per space-delimited pattern (as the CDK enforces); `...` may cover
/// zero fields. Field names must be unique.
pub const MAX_ELLIPSES: usize = 1;

/// §9.9 — the empty spec (`[]`, `[a,,b]`, the trailing comma in `[a, b,]`) is an unnamed field,
/// extracted by position (`$3`).
pub const EMPTY_SPEC_IS_UNNAMED_FIELD: bool = true;

/// §9.9 — a numeric condition on a field that is not a number (`-`, `abc`) is false, also for `!=`.
pub const NUMERIC_CONDITION_ON_TEXT_IS_FALSE: bool = true;

/// §9.10 — a literal space is allowed inside `%…%` although AWS's list of allowed characters
/// does not name it: the AWS CDK's own documented example renders
/// `{ $.message = %bind: address already in use% }`, and everything the CDK prints must parse.
pub const REGEX_ALLOWS_SPACE: bool = true;

/// §9.10 — `\d \D \s \S \w \W` are ASCII classes (`[0-9]`, whitespace `[\t\n\v\f\r ]`,
/// `[0-9A-Za-z_]`), as in Java and most engines AWS could be using; `.` is any character.
/// A regex is searched anywhere in the value (unanchored unless `^`/`$` are used).
pub fn regex_class(c: char) -> Option<&'static str> {
    match c {
        'd' => Some("[0-9]"),
        'D' => Some("[^0-9]"),
        's' => Some("[\\t\\n\\x0B\\x0C\\r ]"),
        'S' => Some("[^\\t\\n\\x0B\\x0C\\r ]"),
        'w' => Some("[0-9A-Za-z_]"),
        'W' => Some("[^0-9A-Za-z_]"),
        _ => None,
    }
}

/// §9.11 — a metric value or dimension that is not usable (a string that is not a finite number,
/// an object) yields `None` from [`super::FieldValue::as_f64`]; the caller publishes nothing for
/// that event and logs it.
pub const NON_NUMERIC_METRIC_VALUE_PUBLISHES_NOTHING: bool = true;

/// A number in a pattern or a field: optional sign, digits with an optional fraction, optional
/// exponent (`400`, `+1000`, `-5`, `55.5`, `10e3`, `1e-3`, `.5`). No `inf`, `nan`, hex.
pub fn parse_number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    v.is_finite().then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        for (s, v) in [
            ("400", Some(400.0)),
            ("+1000", Some(1000.0)),
            ("-5", Some(-5.0)),
            ("55.5", Some(55.5)),
            ("10e3", Some(10e3)),
            ("1e-3", Some(1e-3)),
            ("1E+3", Some(1e3)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("", None),
            ("-", None),
            ("1e", None),
            ("inf", None),
            ("NaN", None),
            ("1e999", None),
            ("123.123.1", None),
            ("4*", None),
            ("0x10", None),
        ] {
            assert_eq!(parse_number(s), v, "{s}");
        }
    }
}
