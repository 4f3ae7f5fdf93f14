//! The syntax tree of a filter pattern, with byte spans, and its canonical printer.
//!
//! Equality ignores spans ([`Span`] always compares equal), so `parse(print(ast)) == ast` can be
//! checked even though the printed text differs from the original.

use std::fmt::{self, Write as _};
use std::ops::Range;

/// A byte range in the pattern text. Compares equal to every other span.
#[derive(Clone, Debug, Default)]
pub(crate) struct Span(pub Range<usize>);

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}

/// A whole pattern.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Ast {
    /// Empty or whitespace-only.
    MatchAll,
    /// Unstructured terms, in source order.
    Terms(Vec<TermItem>),
    /// `{ … }`.
    Json(Expr<JsonCond>),
    /// `[ … ]`.
    Space(Vec<FieldSpec>),
    /// `%…%`.
    Regex(RegexLit),
}

/// How a term takes part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TermOp {
    /// Plain term: must occur.
    And,
    /// `?term`: one of the `?` terms must occur — when every term of the pattern is a `?` term;
    /// otherwise it is ignored (see `semantics::OR_TERMS_IGNORED_WITH_OTHER_TERMS`).
    Or,
    /// `-term`: must not occur.
    Not,
}

/// One term.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TermItem {
    pub op: TermOp,
    /// The text after unescaping.
    pub text: String,
    pub span: Span,
}

/// A regular expression: the text between the `%` signs, and its compiled form (made when the
/// pattern is parsed, where its errors are reported). Equal when the sources are.
#[derive(Clone, Debug)]
pub(crate) struct RegexLit {
    pub source: String,
    pub compiled: regex::Regex,
    pub span: Span,
}

impl PartialEq for RegexLit {
    fn eq(&self, other: &RegexLit) -> bool {
        self.source == other.source
    }
}

/// A boolean expression over leaf conditions. `And`/`Or` hold at least two children and never a
/// child of their own kind (the parser flattens), which keeps printing canonical.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr<C> {
    And(Vec<Expr<C>>),
    Or(Vec<Expr<C>>),
    Leaf(C),
}

impl<C> Expr<C> {
    /// Visits every leaf in source order.
    pub fn for_each_leaf<'a>(&'a self, f: &mut impl FnMut(&'a C)) {
        match self {
            Expr::And(v) | Expr::Or(v) => v.iter().for_each(|e| e.for_each_leaf(f)),
            Expr::Leaf(c) => f(c),
        }
    }
}

/// A JSON condition.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct JsonCond {
    pub selector: Selector,
    pub test: Test,
    pub span: Span,
}

/// A JSON selector `$.a.b[0]`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Selector {
    pub steps: Vec<Step>,
    pub span: Span,
}

/// One selector step.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Step {
    /// `.name` or `['any key']`.
    Key(String),
    /// `[3]`.
    Index(usize),
    /// `[*]`: every element of an array.
    AnyIndex,
    /// `.*`: every field of an object.
    AnyKey,
}

impl Step {
    /// Whether the step is a JSON wildcard (`[*]`, `.*`).
    pub fn is_wildcard(&self) -> bool {
        matches!(self, Step::AnyIndex | Step::AnyKey)
    }
}

/// Whether a key can be written after a `.` (otherwise it is printed as `['key']`).
pub(crate) fn is_plain_key(k: &str) -> bool {
    !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Writes one selector step in its normalised form.
pub(crate) fn write_step(f: &mut impl fmt::Write, s: &Step) -> fmt::Result {
    match s {
        Step::Key(k) if is_plain_key(k) => write!(f, ".{k}"),
        Step::Key(k) if k.contains('\'') => write!(f, ".[\"{k}\"]"),
        Step::Key(k) => write!(f, ".['{k}']"),
        Step::Index(i) => write!(f, "[{i}]"),
        Step::AnyIndex => f.write_str("[*]"),
        Step::AnyKey => f.write_str(".*"),
    }
}

/// What a condition tests.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Test {
    Cmp(CmpOp, Value),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Gt => ">",
            CmpOp::Le => "<=",
            CmpOp::Ge => ">=",
        }
    }
}

/// The right-hand side of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Str(StrPat),
    Num(Number),
    Regex(RegexLit),
}

/// A string with optional `*` wildcards at the start and/or end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StrPat {
    pub any_prefix: bool,
    pub literal: String,
    pub any_suffix: bool,
}

impl StrPat {
    /// Splits the wildcards off a value's text.
    pub fn from_text(text: &str) -> StrPat {
        let (any_prefix, rest) = match text.strip_prefix('*') {
            Some(r) => (true, r),
            None => (false, text),
        };
        let (any_suffix, literal) = match rest.strip_suffix('*') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        StrPat {
            any_prefix,
            literal: literal.to_owned(),
            any_suffix,
        }
    }

    /// Does `s` fit?
    pub fn matches(&self, s: &str) -> bool {
        let l = self.literal.as_str();
        match (self.any_prefix, self.any_suffix) {
            (false, false) => s == l,
            (true, false) => s.ends_with(l),
            (false, true) => s.starts_with(l),
            (true, true) => s.contains(l),
        }
    }

    fn text(&self) -> String {
        let mut t = String::with_capacity(self.literal.len() + 2);
        if self.any_prefix {
            t.push('*');
        }
        t.push_str(&self.literal);
        if self.any_suffix {
            t.push('*');
        }
        t
    }
}

/// A number as written, with its value. Equality compares values.
#[derive(Clone, Debug)]
pub(crate) struct Number {
    pub text: String,
    pub value: f64,
}

impl PartialEq for Number {
    fn eq(&self, o: &Number) -> bool {
        self.value == o.value
    }
}

/// One field spec of a space-delimited pattern.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FieldSpec {
    /// Nothing between two commas: one unnamed field. `[]` (a sole empty spec) is compiled like
    /// `[...]` (see `semantics::EMPTY_PATTERN_EXTRACTS_EVERY_FIELD`).
    Empty(Span),
    /// `...`: any number of unnamed fields.
    Ellipsis(Span),
    /// A bare name.
    Named(String, Span),
    /// Conditions; the field's name is the name in the first condition.
    Cond(Expr<SpaceCond>, Span),
}

impl FieldSpec {
    /// The field's name, if it has one.
    pub fn name(&self) -> Option<&str> {
        match self {
            FieldSpec::Named(n, _) => Some(n),
            FieldSpec::Cond(e, _) => {
                let mut first = None;
                e.for_each_leaf(&mut |c: &SpaceCond| {
                    if first.is_none() {
                        first = Some(c.field.as_str());
                    }
                });
                first
            }
            FieldSpec::Empty(_) | FieldSpec::Ellipsis(_) => None,
        }
    }
}

/// `name OP value` in a space-delimited pattern.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SpaceCond {
    pub field: String,
    pub field_span: Span,
    pub op: CmpOp,
    pub value: Value,
    pub span: Span,
}

/// Writes `s` as a quoted string with `\"` and `\\` escapes.
pub(crate) fn write_quoted(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

fn term_needs_quotes(s: &str) -> bool {
    s.is_empty()
        || s.starts_with(['?', '-', '{', '[', '%'])
        || !s.chars().all(super::semantics::is_bare_term_char)
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('$')?;
        for s in &self.steps {
            write_step(f, s)?;
        }
        Ok(())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(p) => write_quoted(f, &p.text()),
            Value::Num(n) => f.write_str(&n.text),
            Value::Regex(r) => write!(f, "%{}%", r.source),
        }
    }
}

impl fmt::Display for JsonCond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.selector)?;
        match &self.test {
            Test::Cmp(op, v) => write!(f, "{} {}", op.as_str(), v),
            Test::IsNull => f.write_str("IS NULL"),
            Test::IsTrue => f.write_str("IS TRUE"),
            Test::IsFalse => f.write_str("IS FALSE"),
            Test::NotExists => f.write_str("NOT EXISTS"),
        }
    }
}

impl fmt::Display for SpaceCond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.field, self.op.as_str(), self.value)
    }
}

impl<C: fmt::Display> fmt::Display for Expr<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Leaf(c) => c.fmt(f),
            Expr::Or(v) => {
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" || ")?;
                    }
                    e.fmt(f)?;
                }
                Ok(())
            }
            Expr::And(v) => {
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" && ")?;
                    }
                    if matches!(e, Expr::Or(_)) {
                        write!(f, "({e})")?;
                    } else {
                        e.fmt(f)?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Ast {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ast::MatchAll => Ok(()),
            Ast::Terms(items) => {
                for (i, t) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_char(' ')?;
                    }
                    match t.op {
                        TermOp::And => {}
                        TermOp::Or => f.write_char('?')?,
                        TermOp::Not => f.write_char('-')?,
                    }
                    if term_needs_quotes(&t.text) {
                        write_quoted(f, &t.text)?;
                    } else {
                        f.write_str(&t.text)?;
                    }
                }
                Ok(())
            }
            Ast::Json(e) => write!(f, "{{ {e} }}"),
            Ast::Space(specs) => {
                f.write_char('[')?;
                for (i, s) in specs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    match s {
                        FieldSpec::Empty(_) => {}
                        FieldSpec::Ellipsis(_) => f.write_str("...")?,
                        FieldSpec::Named(n, _) => f.write_str(n)?,
                        FieldSpec::Cond(e, _) => write!(f, "{e}")?,
                    }
                }
                f.write_char(']')
            }
            Ast::Regex(r) => write!(f, "%{}%", r.source),
        }
    }
}
