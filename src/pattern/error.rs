//! Errors of the pattern parser and of field references.

use std::fmt;
use std::ops::Range;

/// What was wrong with a filter pattern (or a field reference).
///
/// Each variant's documentation shows an input that triggers it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternErrorKind {
    /// The pattern is longer than [`super::limits::MAX_PATTERN_CHARS`] characters.
    #[error("the pattern is {chars} characters long; the maximum is {max}")]
    TooLong {
        /// Length of the pattern in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// `"ERROR` — a double quote that is never closed.
    #[error("unterminated quoted string: missing closing '\"'")]
    UnterminatedQuote,
    /// `{ $.a = 1` — the JSON pattern's `{` is never closed.
    #[error("'{{' is never closed: a JSON pattern must end with '}}'")]
    UnclosedBrace,
    /// `[a, b` — the space-delimited pattern's `[` is never closed.
    #[error("'[' is never closed: a space-delimited pattern must end with ']'")]
    UnclosedBracket,
    /// `{ ($.a = 1 }` — a parenthesis is never closed.
    #[error("'(' is never closed")]
    UnclosedParen,
    /// `{ $.a = 1 } x` — text after the closing `}` or `]`.
    #[error("unexpected text after the end of the pattern")]
    TrailingInput,
    /// `{ $.a = }` — something else was expected here.
    #[error("expected {expected}, found {found}")]
    Expected {
        /// What the parser expected.
        expected: &'static str,
        /// What it found (a short description).
        found: String,
    },
    /// `ERR*`, `user@host` — an unquoted term with characters other than letters, digits and `_`
    /// (CloudWatch's own message names the characters: "Invalid character(s) in term '*'").
    #[error("invalid character(s) in term '{0}': a term with characters other than letters, digits and '_' must be in double quotes")]
    InvalidTermCharacters(String),
    /// `{ $.email = John@example.com }` — an unquoted value with characters other than letters,
    /// digits, `_`, `.`, `-`, `+` and the `*` wildcard.
    #[error("invalid character(s) in value '{0}': a value with characters other than letters, digits, '_', '.', '-', '+' and '*' must be in double quotes")]
    InvalidValueCharacters(String),
    /// `{ $.a = null }` — JSON `null` is tested with `IS NULL`, not compared.
    #[error("JSON null cannot be compared with '{0}': use IS NULL (or NOT EXISTS)")]
    NullComparison(&'static str),
    /// `{ $.a[*].b[*] = 1 }`, or a fourth wildcard selector — more JSON wildcards than AWS allows.
    #[error("{0}")]
    TooManyWildcards(&'static str),
    /// `{ $.a = 1 }`, `{ $.a..b = 1 }`, `{ $[0] = 1 }` — a malformed JSON selector.
    #[error("invalid selector: {0}")]
    InvalidSelector(&'static str),
    /// `{ $.a[99999999999999999999] = 1 }` — an array index that does not fit.
    #[error("array index is too large")]
    IndexTooLarge,
    /// `{ $.a > abc }` — a relational operator needs a number.
    #[error("'{op}' compares numbers: expected a number, found {found}")]
    NumberExpected {
        /// The operator.
        op: &'static str,
        /// What was found.
        found: String,
    },
    /// `{ $.a IS NOT NULL }` — `IS NOT …` is not part of the language.
    #[error("'IS NOT' is not supported; use '!=' or 'NOT EXISTS'")]
    IsNotUnsupported,
    /// `{ $.a EXISTS }` — `EXISTS` alone is not part of the language.
    #[error("'EXISTS' is not supported; use '= *' (field present) or 'NOT EXISTS'")]
    ExistsUnsupported,
    /// `%ab!%` — a character the CloudWatch regex subset does not allow.
    #[error("character {0:?} is not allowed in a regular expression")]
    RegexCharNotAllowed(char),
    /// `%\b%` — an escape the CloudWatch regex subset does not allow.
    #[error("escape '\\{0}' is not allowed in a regular expression")]
    RegexEscapeNotAllowed(char),
    /// `%%` — an empty regular expression.
    #[error("empty regular expression")]
    EmptyRegex,
    /// `%a{2,1}%` — the regex engine rejected the expression.
    #[error("invalid regular expression: {0}")]
    RegexInvalid(String),
    /// `{ $.a = %x% || $.b = %y% || $.c = %z% }` — more regexes than AWS allows in one pattern.
    #[error("at most {max} regular expressions are allowed in one filter pattern")]
    TooManyRegexes {
        /// The limit.
        max: usize,
    },
    /// `ERROR %foo%` — a regex combined with terms.
    #[error("a regular expression cannot be combined with terms: use %…% as the whole pattern")]
    RegexWithTerms,
    /// `{ ((((…$.a = 1…)))) }` — parentheses nested deeper than our limit.
    #[error("parentheses are nested deeper than {max} levels")]
    NestingTooDeep {
        /// The limit.
        max: usize,
    },
    /// `[a, a]` — two fields with the same name.
    #[error("field name '{0}' is used twice")]
    DuplicateField(String),
    /// `[a, b = 1 && c = 2]` — a condition names a field the pattern does not have.
    #[error("no field named '{0}' in this pattern")]
    UnknownField(String),
    /// `[..., a, ...]` — more than one ellipsis.
    #[error("at most one '...' is allowed in a space-delimited pattern")]
    MultipleEllipses,
    /// `[a = 1 && b]` — a field name without a condition inside a condition list.
    #[error("invalid field specification: {0}")]
    InvalidFieldSpec(&'static str),
    /// A field reference (metric value / dimension) that does not fit the pattern.
    #[error("invalid field reference: {0}")]
    FieldRef(String),
    /// `$nosuch` or `$9` on `[a, b]` — a well-formed reference to a field the space-delimited
    /// pattern does not have. CloudWatch admits such a metric value (it publishes nothing), so a
    /// metric value may hold one ([`crate::config::MetricValue::Absent`]); a dimension may not.
    #[error("no such field: {0}")]
    AbsentField(String),
}

/// An invalid filter pattern: what is wrong ([`PatternErrorKind`]) and where (byte span, column).
///
/// `Display` renders the message with the column, then the pattern and a caret line under the spot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatternError {
    inner: Box<Inner>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    kind: PatternErrorKind,
    span: Range<usize>,
    source: String,
}

impl PatternError {
    pub(crate) fn new(kind: PatternErrorKind, span: Range<usize>, source: &str) -> PatternError {
        let start = clamp_to_boundary(source, span.start.min(source.len()));
        let end = clamp_to_boundary(source, span.end.clamp(start, source.len()));
        PatternError {
            inner: Box::new(Inner {
                kind,
                span: start..end,
                source: source.to_owned(),
            }),
        }
    }

    /// What was wrong.
    pub fn kind(&self) -> &PatternErrorKind {
        &self.inner.kind
    }

    /// Where, as byte offsets into the pattern text.
    pub fn span(&self) -> Range<usize> {
        self.inner.span.clone()
    }

    /// Where, as a 1-based column counted in characters.
    pub fn column(&self) -> usize {
        self.inner.source[..self.inner.span.start].chars().count() + 1
    }

    /// The text that was parsed (the pattern, or the field reference).
    pub fn pattern(&self) -> &str {
        &self.inner.source
    }
}

fn clamp_to_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_located(
            f,
            &self.inner.kind,
            &self.inner.source,
            self.inner.span.clone(),
        )
    }
}

/// Writes `message` "at column N", then `source` on one line and a caret line under `span` (byte
/// offsets on character boundaries): the form of every parse error of the filter languages.
pub(crate) fn write_located(
    f: &mut fmt::Formatter<'_>,
    message: &dyn fmt::Display,
    src: &str,
    span: Range<usize>,
) -> fmt::Result {
    let start = clamp_to_boundary(src, span.start.min(src.len()));
    let end = clamp_to_boundary(src, span.end.clamp(start, src.len()));
    writeln!(
        f,
        "{message} at column {}",
        src[..start].chars().count() + 1
    )?;
    // Render the source on one line: control characters would break the caret alignment.
    let shown: String = src
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    writeln!(f, "    {shown}")?;
    let pad = src[..start].chars().count();
    let width = src[start..end].chars().count().max(1);
    write!(f, "    {}{}", " ".repeat(pad), "^".repeat(width))
}

impl std::error::Error for PatternError {}
