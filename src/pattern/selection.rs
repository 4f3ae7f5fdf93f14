//! CloudWatch's system fields (`@aws.account`, `@aws.region`, `@source.log`) and the
//! `fieldSelectionCriteria` expressions over them.
//!
//! A metric filter (API reference, `PutMetricFilter` / `MetricFilter`) may select the events it
//! processes with `fieldSelectionCriteria`, "a filter expression … based on system fields such as
//! source account and source region", with "operators like =, !=, AND, OR, IN, NOT IN", at most
//! 2,000 characters (example: `@aws.region = "us-east-1"` or
//! `@aws.account IN ["123456789012", "987654321098"]`), and may add the system fields as
//! dimensions with `emitSystemFieldDimensions`.
//!
//! The grammar read here (`SEMANTICS.md`, "System fields", gives the reasons):
//!
//! ```text
//! criteria := or
//! or       := and ( OR and )*
//! and      := atom ( AND atom )*
//! atom     := '(' or ')' | FIELD ( '=' | '!=' ) value | FIELD [NOT] IN '[' value ( ',' value )* ']'
//! value    := "double-quoted" (escapes \" and \\) | bare (letters, digits, _ . - : /)
//! FIELD    := @aws.account | @aws.region | @source.log
//! ```
//!
//! Keywords are case-insensitive; `AND` binds tighter than `OR`. A value compares as text, exactly.

use super::error::write_located;
use super::limits::MAX_NESTING_DEPTH;
use std::fmt;
use std::ops::Range;

/// Longest `fieldSelectionCriteria`, in characters (API reference, `MetricFilter`:
/// "Maximum length of 2000").
pub const MAX_SELECTION_CRITERIA_CHARS: usize = 2000;

/// CloudWatch's answer to an unknown system field, word for word (observed from `PutMetricFilter`).
pub const INVALID_SYSTEM_FIELDS: &str = "The provided system fields are invalid. The supported system fields are - [@aws.region, @aws.account, @source.log]";

/// A system field of a log event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SystemField {
    /// `@aws.account`: the account the event was logged in.
    Account,
    /// `@aws.region`: the Region the event was logged in.
    Region,
    /// `@source.log`: the log group's name.
    SourceLog,
}

impl SystemField {
    /// Every system field.
    pub const ALL: [SystemField; 3] = [
        SystemField::Account,
        SystemField::Region,
        SystemField::SourceLog,
    ];

    /// The name as CloudWatch writes it (also the dimension name and the `extractedFields` key).
    pub fn name(self) -> &'static str {
        match self {
            SystemField::Account => "@aws.account",
            SystemField::Region => "@aws.region",
            SystemField::SourceLog => "@source.log",
        }
    }

    /// The field of that name, if any (exact, case-sensitive).
    pub fn from_name(name: &str) -> Option<SystemField> {
        SystemField::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for SystemField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The system-field values of one event; `None` where the event's origin does not tell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SystemValues<'a> {
    /// `@aws.account`.
    pub account: Option<&'a str>,
    /// `@aws.region`.
    pub region: Option<&'a str>,
    /// `@source.log`.
    pub source_log: Option<&'a str>,
}

impl<'a> SystemValues<'a> {
    /// The value of `field`, if known.
    pub fn get(&self, field: SystemField) -> Option<&'a str> {
        match field {
            SystemField::Account => self.account,
            SystemField::Region => self.region,
            SystemField::SourceLog => self.source_log,
        }
    }
}

/// What was wrong with a `fieldSelectionCriteria`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SelectionErrorKind {
    /// More than [`MAX_SELECTION_CRITERIA_CHARS`] characters.
    #[error("the criteria are {chars} characters long; the maximum is {max}")]
    TooLong {
        /// Length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// `@aws.acount = "1"` — not a system field.
    #[error("{INVALID_SYSTEM_FIELDS} (found {0:?})")]
    InvalidField(String),
    /// `@aws.region = ` — something else was expected here.
    #[error("expected {expected}, found {found}")]
    Expected {
        /// What the parser expected.
        expected: &'static str,
        /// What it found.
        found: String,
    },
    /// `@aws.region = "us-east-1` — a quote that is never closed.
    #[error("unterminated quoted string: missing closing '\"'")]
    UnterminatedQuote,
    /// `(((…)))` deeper than [`MAX_NESTING_DEPTH`].
    #[error("parentheses are nested deeper than {max} levels")]
    NestingTooDeep {
        /// The limit.
        max: usize,
    },
}

/// An invalid `fieldSelectionCriteria`: what is wrong and where; `Display` shows the column and a
/// caret line, as [`PatternError`](super::PatternError) does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectionError {
    inner: Box<ErrorInner>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct ErrorInner {
    kind: SelectionErrorKind,
    span: Range<usize>,
    source: String,
}

impl SelectionError {
    fn new(kind: SelectionErrorKind, span: Range<usize>, source: &str) -> SelectionError {
        SelectionError {
            inner: Box::new(ErrorInner {
                kind,
                span,
                source: source.to_owned(),
            }),
        }
    }

    /// What was wrong.
    pub fn kind(&self) -> &SelectionErrorKind {
        &self.inner.kind
    }

    /// Where, as a 1-based column counted in characters.
    pub fn column(&self) -> usize {
        let src = &self.inner.source;
        src.get(..self.inner.span.start)
            .map_or(1, |before| before.chars().count() + 1)
    }
}

impl fmt::Display for SelectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_located(
            f,
            &self.inner.kind,
            &self.inner.source,
            self.inner.span.clone(),
        )
    }
}

impl std::error::Error for SelectionError {}

/// A condition of the criteria.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Sel {
    /// `field = v` (one value), `field IN [..]`; negated for `!=` and `NOT IN`.
    In {
        field: SystemField,
        values: Vec<String>,
        negate: bool,
    },
    And(Vec<Sel>),
    Or(Vec<Sel>),
}

/// A parsed `fieldSelectionCriteria`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectionCriteria {
    source: String,
    expr: Sel,
    fields: Vec<SystemField>,
}

impl SelectionCriteria {
    /// Parses `source`; errors name the problem and its column.
    pub fn parse(source: &str) -> Result<SelectionCriteria, SelectionError> {
        let chars = source.chars().count();
        if chars > MAX_SELECTION_CRITERIA_CHARS {
            return Err(SelectionError::new(
                SelectionErrorKind::TooLong {
                    chars,
                    max: MAX_SELECTION_CRITERIA_CHARS,
                },
                0..source.len(),
                source,
            ));
        }
        let mut p = Parser {
            src: source,
            i: 0,
            depth: 0,
        };
        let expr = p.or()?;
        p.ws();
        if p.i < source.len() {
            return Err(p.expected("AND, OR or the end of the criteria"));
        }
        let mut fields = Vec::new();
        collect_fields(&expr, &mut fields);
        fields.sort();
        fields.dedup();
        Ok(SelectionCriteria {
            source: source.to_owned(),
            expr,
            fields,
        })
    }

    /// The text it was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The system fields it reads, sorted, each once.
    pub fn fields(&self) -> &[SystemField] {
        &self.fields
    }

    /// Whether an event with these values is selected; `Err(field)` when a field the criteria read
    /// is not known for it (no guess is made, whatever the other conditions say).
    pub fn selects(&self, values: &SystemValues<'_>) -> Result<bool, SystemField> {
        if let Some(&missing) = self.fields.iter().find(|f| values.get(**f).is_none()) {
            return Err(missing);
        }
        Ok(eval(&self.expr, values))
    }
}

impl fmt::Display for SelectionCriteria {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn collect_fields(e: &Sel, out: &mut Vec<SystemField>) {
    match e {
        Sel::In { field, .. } => out.push(*field),
        Sel::And(v) | Sel::Or(v) => v.iter().for_each(|e| collect_fields(e, out)),
    }
}

fn eval(e: &Sel, values: &SystemValues<'_>) -> bool {
    match e {
        Sel::In {
            field,
            values: set,
            negate,
        } => {
            let v = values.get(*field).unwrap_or_default();
            set.iter().any(|s| s == v) != *negate
        }
        Sel::And(v) => v.iter().all(|e| eval(e, values)),
        Sel::Or(v) => v.iter().any(|e| eval(e, values)),
    }
}

struct Parser<'s> {
    src: &'s str,
    i: usize,
    depth: usize,
}

type PResult<T> = Result<T, SelectionError>;

fn is_bare_value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | ':' | '/')
}

impl<'s> Parser<'s> {
    fn rest(&self) -> &'s str {
        &self.src[self.i..]
    }

    fn ws(&mut self) {
        let rest = self.rest();
        self.i += rest.len() - rest.trim_start().len();
    }

    fn error(&self, kind: SelectionErrorKind, span: Range<usize>) -> SelectionError {
        SelectionError::new(kind, span, self.src)
    }

    /// The next token's extent (a word, or one character), for messages and carets.
    fn next_token(&self) -> Range<usize> {
        let rest = self.rest();
        let word = rest
            .find(|c: char| !(is_bare_value_char(c) || c == '@'))
            .unwrap_or(rest.len());
        let len = if word > 0 {
            word
        } else {
            rest.chars().next().map_or(0, char::len_utf8)
        };
        self.i..self.i + len
    }

    fn expected(&self, expected: &'static str) -> SelectionError {
        let span = self.next_token();
        let found = if span.is_empty() {
            "the end of the criteria".to_owned()
        } else {
            format!("{:?}", &self.src[span.clone()])
        };
        self.error(SelectionErrorKind::Expected { expected, found }, span)
    }

    /// Consumes the keyword `word` (any case) if it is next, as a whole word.
    fn keyword(&mut self, word: &str) -> bool {
        self.ws();
        let rest = self.rest();
        let n = word.len();
        let fits = rest.len() >= n
            && rest.is_char_boundary(n)
            && rest[..n].eq_ignore_ascii_case(word)
            && !rest[n..].starts_with(|c: char| is_bare_value_char(c) || c == '@');
        if fits {
            self.i += n;
        }
        fits
    }

    fn punct(&mut self, p: &str) -> bool {
        self.ws();
        if self.rest().starts_with(p) {
            self.i += p.len();
            true
        } else {
            false
        }
    }

    fn or(&mut self) -> PResult<Sel> {
        let mut v = vec![self.and()?];
        while self.keyword("OR") {
            v.push(self.and()?);
        }
        Ok(if v.len() == 1 {
            v.swap_remove(0)
        } else {
            Sel::Or(v)
        })
    }

    fn and(&mut self) -> PResult<Sel> {
        let mut v = vec![self.atom()?];
        while self.keyword("AND") {
            v.push(self.atom()?);
        }
        Ok(if v.len() == 1 {
            v.swap_remove(0)
        } else {
            Sel::And(v)
        })
    }

    fn atom(&mut self) -> PResult<Sel> {
        self.ws();
        let open = self.i;
        if self.punct("(") {
            self.depth += 1;
            if self.depth > MAX_NESTING_DEPTH {
                return Err(self.error(
                    SelectionErrorKind::NestingTooDeep {
                        max: MAX_NESTING_DEPTH,
                    },
                    open..open + 1,
                ));
            }
            let e = self.or()?;
            if !self.punct(")") {
                return Err(self.expected("')' to close the '(' or AND/OR"));
            }
            self.depth -= 1;
            return Ok(e);
        }
        let field = self.field()?;
        if self.punct("!=") {
            return Ok(Sel::In {
                field,
                values: vec![self.value()?],
                negate: true,
            });
        }
        if self.punct("=") {
            return Ok(Sel::In {
                field,
                values: vec![self.value()?],
                negate: false,
            });
        }
        let negate = self.keyword("NOT");
        if !self.keyword("IN") {
            return Err(self.expected(if negate {
                "IN after NOT"
            } else {
                "'=', '!=', 'IN' or 'NOT IN'"
            }));
        }
        if !self.punct("[") {
            return Err(self.expected("'[' to open the list of values"));
        }
        let mut values = vec![self.value()?];
        while self.punct(",") {
            values.push(self.value()?);
        }
        if !self.punct("]") {
            return Err(self.expected("',' or ']' to close the list of values"));
        }
        Ok(Sel::In {
            field,
            values,
            negate,
        })
    }

    fn field(&mut self) -> PResult<SystemField> {
        self.ws();
        if !self.rest().starts_with('@') {
            return Err(
                self.expected("a system field (@aws.account, @aws.region, @source.log) or '('")
            );
        }
        let span = self.next_token();
        let name = &self.src[span.clone()];
        match SystemField::from_name(name) {
            Some(f) => {
                self.i = span.end;
                Ok(f)
            }
            None => Err(self.error(SelectionErrorKind::InvalidField(name.to_owned()), span)),
        }
    }

    fn value(&mut self) -> PResult<String> {
        self.ws();
        let start = self.i;
        let rest = self.rest();
        if let Some(body) = rest.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = body.char_indices();
            while let Some((k, c)) = chars.next() {
                match c {
                    '"' => {
                        self.i = start + 1 + k + 1;
                        return Ok(out);
                    }
                    '\\' => match chars.next() {
                        Some((_, e @ ('"' | '\\'))) => out.push(e),
                        Some((_, other)) => {
                            out.push('\\');
                            out.push(other);
                        }
                        None => break,
                    },
                    c => out.push(c),
                }
            }
            return Err(self.error(SelectionErrorKind::UnterminatedQuote, start..start + 1));
        }
        let len = rest.find(|c| !is_bare_value_char(c)).unwrap_or(rest.len());
        if len == 0 {
            return Err(self.expected("a value: \"quoted\" or letters, digits, _ . - : /"));
        }
        self.i += len;
        Ok(rest[..len].to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUES: SystemValues<'static> = SystemValues {
        account: Some("111111111111"),
        region: Some("us-east-1"),
        source_log: Some("/ecs/orders"),
    };

    fn selects(criteria: &str, values: &SystemValues<'_>) -> bool {
        SelectionCriteria::parse(criteria)
            .unwrap_or_else(|e| panic!("{criteria}: {e}"))
            .selects(values)
            .unwrap()
    }

    #[test]
    fn operators_as_the_api_reference_lists_them() {
        for (criteria, want) in [
            (r#"@aws.region = "us-east-1""#, true),
            (r#"@aws.region != "us-east-1""#, false),
            (r#"@aws.region = "eu-west-1""#, false),
            (r#"@aws.account IN ["123456789012", "111111111111"]"#, true),
            (r#"@aws.account IN ["123456789012"]"#, false),
            (r#"@aws.account NOT IN ["123456789012"]"#, true),
            (r#"@aws.account not in ["111111111111"]"#, false),
            (r#"@aws.region = "us-east-1" AND @aws.account = "2""#, false),
            (r#"@aws.region = "us-east-1" OR @aws.account = "2""#, true),
            // AND binds tighter than OR.
            (
                r#"@aws.account = "2" AND @aws.region = "x" OR @source.log = "/ecs/orders""#,
                true,
            ),
            (
                r#"@aws.account = "2" AND (@aws.region = "x" OR @source.log = "/ecs/orders")"#,
                false,
            ),
            ("@aws.region=us-east-1", true),
            (r#"@source.log = "/ecs/orders""#, true),
            // Values compare exactly: case and whitespace count.
            (r#"@aws.region = "US-EAST-1""#, false),
            (r#"@aws.region = " us-east-1""#, false),
        ] {
            assert_eq!(selects(criteria, &VALUES), want, "{criteria}");
        }
    }

    #[test]
    fn an_unknown_field_is_reported_not_guessed() {
        let c =
            SelectionCriteria::parse(r#"@aws.account = "1" OR @aws.region = "us-east-1""#).unwrap();
        assert_eq!(c.fields(), [SystemField::Account, SystemField::Region]);
        let values = SystemValues {
            region: None,
            ..VALUES
        };
        assert_eq!(c.selects(&values), Err(SystemField::Region));
    }

    #[test]
    fn errors_point_at_the_column() {
        let cases: [(&str, usize, &str); 9] = [
            (
                r#"@aws.acount = "1""#,
                1,
                "The provided system fields are invalid",
            ),
            (r#"@aws.region = "#, 15, "expected a value"),
            (r#"@aws.region == "x""#, 14, "expected a value"),
            (r#"@aws.region "x""#, 13, "'=', '!=', 'IN' or 'NOT IN'"),
            (r#"@aws.region IN ("x")"#, 16, "'['"),
            (r#"@aws.region = "x" AND"#, 22, "a system field"),
            (r#"(@aws.region = "x""#, 19, "')'"),
            (r#"@aws.region = "x"#, 15, "unterminated"),
            (r#"@aws.region = "x" "y""#, 19, "AND, OR"),
        ];
        for (criteria, column, text) in cases {
            let e = SelectionCriteria::parse(criteria).unwrap_err();
            let shown = e.to_string();
            assert_eq!(e.column(), column, "{criteria}: {shown}");
            assert!(shown.contains(text), "{criteria}: {shown}");
            assert!(shown.contains(&format!("at column {column}")), "{shown}");
            let caret_line = shown.lines().last().unwrap();
            assert_eq!(caret_line.find('^'), Some(4 + column - 1), "{shown}");
        }
    }

    #[test]
    fn the_length_limit_is_2000_characters() {
        // `@aws.region = "aaa…"`, exactly `n` characters.
        let long_list = |n: usize| format!("@aws.region = \"{}\"", "a".repeat(n - 16));
        let ok = long_list(MAX_SELECTION_CRITERIA_CHARS);
        assert_eq!(ok.chars().count(), MAX_SELECTION_CRITERIA_CHARS);
        assert!(SelectionCriteria::parse(&ok).is_ok());
        let too_long = long_list(MAX_SELECTION_CRITERIA_CHARS + 1);
        let e = SelectionCriteria::parse(&too_long).unwrap_err();
        assert_eq!(
            *e.kind(),
            SelectionErrorKind::TooLong {
                chars: MAX_SELECTION_CRITERIA_CHARS + 1,
                max: MAX_SELECTION_CRITERIA_CHARS
            }
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let deep = format!(
            "{}@aws.region = \"x\"{}",
            "(".repeat(MAX_NESTING_DEPTH + 1),
            ")".repeat(MAX_NESTING_DEPTH + 1)
        );
        let e = SelectionCriteria::parse(&deep).unwrap_err();
        assert!(matches!(
            e.kind(),
            SelectionErrorKind::NestingTooDeep { .. }
        ));
        let ok = format!(
            "{}@aws.region = \"us-east-1\"{}",
            "(".repeat(MAX_NESTING_DEPTH),
            ")".repeat(MAX_NESTING_DEPTH)
        );
        assert!(selects(&ok, &VALUES));
    }
}
