//! Every behaviour of the filter-pattern language that is not obvious from the grammar, one
//! constant or function per decision, each used where the decision is made (parser, compiler or
//! evaluator), so that it can be changed in one place. `SEMANTICS.md` beside this file lists the
//! same decisions with their evidence; all were checked against the CloudWatch Logs User Guide,
//! "Filter pattern syntax for metric filters, subscription filters, filter log events, and Live
//! Tail" and its subpages, and against real `TestMetricFilter` responses, on 2026-12-01.
//!
//! Most constants switch the behaviour where they are read. A few (`TERMS_ARE_SUBSTRINGS`,
//! `WILDCARD_CONDITIONS_ARE_EXISTENTIAL`, `NULL_EXISTS`, `WILDCARDS_AT_BOTH_ENDS`,
//! `EMPTY_SPEC_IS_UNNAMED_FIELD`, `NUMERIC_CONDITION_ON_TEXT_IS_FALSE`,
//! `NON_NUMERIC_METRIC_VALUE_PUBLISHES_NOTHING`) name a behaviour the engine has only one
//! implementation of; they are here so that the decision and its evidence have one home.

/// A term matches anywhere in the message, also inside a longer word (`ERROR` matches
/// `ERRORCODE`, as the guide's "Exiting with ERRORCODE: -1" example shows). Case-sensitive.
pub const TERMS_ARE_SUBSTRINGS: bool = true;

/// `?` terms combined with any other term (plain or `-`) are ignored. The guide: "If you combine
/// "?" with other filter patterns, all question mark terms will be ignored"; its example
/// `?ERROR ?ARGUMENTS REQUEST` matches every event containing `REQUEST`, and CloudWatch evaluates
/// `?ERROR ?ARGUMENTS -REQUEST` as `-REQUEST`. A pattern of `?` terms only matches when one occurs.
pub const OR_TERMS_IGNORED_WITH_OTHER_TERMS: bool = true;

/// Whitespace is allowed between a `-` or `?` prefix and its term (`- "Exiting"` is an
/// exclusion, as in the guide's `"ERROR" - "Exiting"` example).
pub const ALLOW_SPACE_AFTER_PREFIX: bool = true;

/// Characters of an unquoted term: ASCII letters, digits and `_`. The guide: terms "that include
/// characters other than alphanumeric or underscore must be placed inside double quotes"; real
/// CloudWatch rejects `ERR*` with "Invalid character(s) in term '*'", and an unquoted `user@host`.
/// Every unquoted term in the guide's examples fits this set.
pub fn is_bare_term_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Characters of an unquoted value in a JSON or space-delimited condition: ASCII letters, digits,
/// `_`, and `.` `-` `+` `*` — the guide's own unquoted values are `UpdateTrail`, `123.123.*`,
/// `4*`, `*html*`, `*.html*`, `+1000`, `-5`, `10e-3`, `55.5`. Anything else (`John@example.com`)
/// must be quoted, as CloudWatch demands.
pub fn is_bare_value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '+' | '*')
}

/// A regex cannot be combined with terms (`ERROR %foo%` is rejected rather than guessed at).
pub const REGEX_MUST_BE_WHOLE_TERM_PATTERN: bool = true;

/// Inside quoted terms and quoted values, `\"` is a literal `"` and `\\` a literal `\` (the CDK's
/// escaping). Any other backslash is kept literally.
pub fn unescapes(c: char) -> bool {
    c == '"' || c == '\\'
}

/// JSON keywords (`IS NULL`, `IS TRUE`, `IS FALSE`, `NOT EXISTS`) are upper case only, as written in
/// every AWS example; `is null` is an error that says what was expected.
pub const KEYWORDS_UPPERCASE_ONLY: bool = true;

/// A string condition (`= "404"`, `= 4*`, `= %re%`) on a JSON *number* compares against the
/// number's JSON text (`{ $.status = 4* }` matches `"status": 404`).
pub const STRING_CONDITIONS_SEE_NUMBER_TEXT: bool = true;

/// Relational conditions (`<`, `>`, `<=`, `>=`) apply only to JSON numbers, never to strings that
/// look like numbers (`{ $.latency > 500 }` does not match `"latency": "600"`; observed).
pub const NUMERIC_CONDITIONS_SEE_NUMERIC_STRINGS: bool = false;

/// `{ $.v = 1 }` also matches a JSON *string* equal to the number as written in the pattern
/// (`"1"`, not `"1.0"`); observed in `TestMetricFilter`. On a JSON number `=` compares values
/// (`1` and `1.0` are equal).
pub const NUMERIC_EQUALITY_SEES_STRING_TEXT: bool = true;

/// `{ $.v != 1 }` on a JSON *string* is the negation of `{ $.v = 1 }` on it
/// ([`NUMERIC_EQUALITY_SEES_STRING_TEXT`]): the string `"1"` reads as the number and does not
/// match, every other string (`"abc"`, `"2"`) does (observed in `TestMetricFilter`: `!= 1` does
/// not match `{"v":"1"}`). On a number `!=` compares values; `null`, booleans, arrays, objects and
/// a missing key never match.
pub const NUMERIC_INEQUALITY_SEES_STRING_TEXT: bool = true;

/// `=`/`!=` conditions never match `null`, `true`/`false`, objects or arrays (including `= *`);
/// use `IS NULL` / `IS TRUE` / `IS FALSE` for those. A bare `true` is the *string* "true":
/// `{ $.v = true }` matches `"v": "true"`, not `"v": true` (observed).
pub const EQUALITY_SEES_NULL_AND_BOOL: bool = false;

/// `{ $.v = null }` (and `!=`) is an invalid pattern in CloudWatch; we reject it with a hint to
/// use `IS NULL`. A quoted `"null"` is an ordinary string.
pub const NULL_COMPARISON_IS_INVALID: bool = true;

/// `IS NULL` is also true when the selector reaches an array that contains `null` (observed:
/// `{ $.a IS NULL }` matches `{"a": [1, null]}`).
pub const IS_NULL_SEES_NULL_IN_ARRAY: bool = true;

/// A selector never descends into an array implicitly: `$.items.id` does not reach
/// `{"items": [{"id": 1}]}`; use `$.items[0].id` or `$.items[*].id`.
pub const NO_IMPLICIT_ARRAY_DESCENT: bool = true;

/// `NOT EXISTS` is true only when the selector reaches nothing (missing key, index out of
/// range, or a step into a value that is not an object/array). A present `null` exists.
pub const NULL_EXISTS: bool = true;

/// A JSON pattern applies only when the whole message is one JSON object (surrounding
/// whitespace allowed). Text before the JSON, arrays and scalars at top level do not match. For
/// duplicate keys the last one wins (`serde_json`'s behaviour). Numbers are compared as `f64`.
pub const JSON_REQUIRES_WHOLE_OBJECT: bool = true;

/// A JSON wildcard selector (`$.items[*].a`, `$.*`, `$.detail.*.name`) selects every array
/// element (`[*]`) or every object field (`.*`) at its step. Each condition is satisfied on its
/// own by any selected value: `$.items[*].a = 1 && $.items[*].b = 2` matches when one element has
/// `a = 1` and another `b = 2`. `NOT EXISTS` is true when nothing is selected. The guide: "You can
/// use the JSON wildcard to select any array element or any JSON object field".
pub const WILDCARD_CONDITIONS_ARE_EXISTENTIAL: bool = true;

/// The array wildcard `[*]` also selects every member of an *object*: `{ $.arr[*] = "hit" }`
/// matches `{"arr":{"0":"hit"}}` (observed in `TestMetricFilter`). `.*` selects object members
/// only.
pub const ANY_INDEX_SEES_OBJECT_MEMBERS: bool = true;

/// A `*` wildcard may stand at the start, the end, or both ends of a string value; a `*` in
/// the middle is literal. A quoted `"*"` is still a wildcard. The same holds in space-delimited
/// patterns.
pub const WILDCARDS_AT_BOTH_ENDS: bool = true;

/// Field separators in space-delimited messages: runs of ASCII whitespace (space, tab, CR, LF)
/// separate fields; leading and trailing whitespace is ignored (so a trailing newline does not
/// create an empty field or stick to the last value).
pub fn is_field_separator(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// A field that *starts* with `"` or `[` extends to the next `"` or `]` respectively
/// (no escapes, no nesting); the enclosing characters are not part of the value, and the next
/// field starts right after the closing character. Returns the closing byte for an opening byte.
pub fn field_group_closer(open: u8) -> Option<u8> {
    match open {
        b'"' => Some(b'"'),
        b'[' => Some(b']'),
        _ => None,
    }
}

/// An opening `"` or `[` without its closing character is an ordinary character: the field
/// is then split at whitespace like any other.
pub const UNBALANCED_GROUP_IS_LITERAL: bool = true;

/// A pattern without `...` matches a message with *at least* as many fields as it has specs; the
/// surplus goes into the **last** field, verbatim from its first token to the end of the line
/// (original spacing, quotes and brackets kept). `[w1=ERROR, w2]` matches `ERROR request failed`
/// with `$w2` = `request failed` (the guide's `[w1=ERROR, w2]` examples over six- and seven-word
/// lines; observed in `TestMetricFilter`). Fewer fields than specs never match. With `...`, the
/// ellipsis takes the surplus instead.
pub const LAST_FIELD_TAKES_SURPLUS: bool = true;

/// A condition inside one field spec may name another field of the same pattern
/// (`status_code = 4* && bytes > 1000`, as the guide prints); it is evaluated on that field.
pub const CROSS_FIELD_CONDITIONS: bool = true;

/// A condition naming a name that is *no* field of the pattern applies to the field of the
/// spec it is written in (the name is then only a label). The guide prints
/// `[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]`, which has no
/// field `bytes`; this reading lets that documented pattern parse. Set to `false` to reject such
/// names with [`super::PatternErrorKind::UnknownField`].
pub const UNKNOWN_CONDITION_FIELD_IS_OWN_FIELD: bool = true;

/// At most one `...` per space-delimited pattern (as the CDK enforces); `...` may cover
/// zero fields. Field names must be unique.
pub const MAX_ELLIPSES: usize = 1;

/// An empty spec between commas (`[a,,b]`, the trailing comma in `[a, b,]`) is an unnamed field,
/// extracted by position (`$3`).
pub const EMPTY_SPEC_IS_UNNAMED_FIELD: bool = true;

/// The empty space-delimited pattern `[]` matches every message and extracts every field by
/// position (`$1` … `$N`), like `[...]` (observed in `TestMetricFilter`).
pub const EMPTY_PATTERN_EXTRACTS_EVERY_FIELD: bool = true;

/// A numeric condition on a field that is not a number (`-`, `abc`) is false, also for `!=`.
pub const NUMERIC_CONDITION_ON_TEXT_IS_FALSE: bool = true;

/// `TestMetricFilter`'s `extractedValues` are filled for space-delimited patterns only; every
/// other kind (terms, regex, JSON) reports `{}` (the guide: "If you are not using a
/// space-delimited filter, this will be empty"; the CLI example and real output agree for JSON).
pub const EXTRACTED_VALUES_ONLY_FOR_SPACE_DELIMITED: bool = true;

/// A literal space is allowed inside `%…%` although AWS's list of allowed characters does not
/// name it: the AWS CDK's own documented example renders
/// `{ $.message = %bind: address already in use% }`, and everything the CDK prints must parse.
pub const REGEX_ALLOWS_SPACE: bool = true;

/// `\xhh` (two hex digits) in a regex matches the ASCII character with that code, also one the
/// subset otherwise forbids (`%\x3A%` matches `:`, `%\x21%` matches `!`), as the guide's regex
/// page documents. A code above `7F` is rejected ("Multi-byte characters are not supported").
pub const REGEX_HEX_ESCAPES: bool = true;

/// In `{m,n}` "either m or n can be omitted" (the guide's regex page): `{,n}` means `{0,n}`.
pub const REGEX_REPEAT_MIN_MAY_BE_OMITTED: bool = true;

/// `\d \D \s \S \w \W` are ASCII classes (`[0-9]`, whitespace `[\t\n\v\f\r ]`,
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

/// A metric value that is not usable (a string that is not a finite number, an object) yields
/// `None` from [`super::FieldValue::as_f64`]; the caller publishes nothing for that event and logs
/// it. A JSON *string* holding a number (`"11.5"`) is that number, as CloudWatch publishes it.
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

    #[test]
    fn regex_classes_are_ascii() {
        // Non-ASCII digits, spaces and letters are outside `\d`, `\s` and `\w`, inside their
        // negations.
        for (class, inside, outside) in [
            ('d', "7", "\u{663}"),
            ('s', "\t", "\u{a0}"),
            ('w', "_", "\u{e9}"),
        ] {
            let upper = class.to_ascii_uppercase();
            let m = |c: char, text: &str| {
                let p = crate::pattern::Pattern::parse(&format!("%^\\{c}$%")).unwrap();
                p.test(text).is_some()
            };
            assert!(m(class, inside) && !m(class, outside), "\\{class}");
            assert!(!m(upper, inside) && m(upper, outside), "\\{upper}");
        }
    }
}
