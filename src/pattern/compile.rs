//! AST → matcher. The matchers here evaluate one condition or expression against an event's
//! shared, already-prepared views (the parsed JSON, the split fields, the found-literal bits).

use super::ast::*;
use super::error::PatternError;
use super::semantics;
use serde_json::Value as Json;
use std::fmt::Write as _;

/// A compiled pattern.
#[derive(Debug)]
pub(crate) enum Matcher {
    MatchAll,
    Terms(TermsMatcher),
    Regex(regex::Regex),
    Json(JsonMatcher),
    Space(SpaceMatcher),
}

/// Terms, as indices into `literals`: `?` alternatives, or the plain terms as one alternative.
#[derive(Debug)]
pub(crate) struct TermsMatcher {
    /// Distinct term texts of this pattern.
    pub literals: Vec<String>,
    /// Alternatives: the pattern matches if all literals of one alternative occur …
    pub alternatives: Vec<Vec<usize>>,
    /// … and none of these occurs.
    pub exclusions: Vec<usize>,
}

impl TermsMatcher {
    /// Evaluates with `found(i)` telling whether literal `i` occurs in the message.
    pub fn matches(&self, found: impl Fn(usize) -> bool) -> bool {
        if self.exclusions.iter().any(|&i| found(i)) {
            return false;
        }
        self.alternatives.is_empty()
            || self
                .alternatives
                .iter()
                .any(|alt| alt.iter().all(|&i| found(i)))
    }
}

/// A compiled comparison on a string-ish value.
#[derive(Debug)]
pub(crate) enum Check {
    Str {
        pat: StrPat,
        negate: bool,
    },
    /// `text` is the number as written in the pattern.
    Num {
        op: CmpOp,
        value: f64,
        text: String,
    },
    Regex {
        index: usize,
        negate: bool,
    },
}

fn num_cmp(op: CmpOp, a: f64, b: f64) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Gt => a > b,
        CmpOp::Le => a <= b,
        CmpOp::Ge => a >= b,
    }
}

impl Check {
    fn from_value(
        op: CmpOp,
        v: &Value,
        regexes: &mut Vec<regex::Regex>,
    ) -> Result<Check, PatternError> {
        Ok(match v {
            Value::Num(n) => Check::Num {
                op,
                value: n.value,
                text: n.text.clone(),
            },
            Value::Str(p) => Check::Str {
                pat: p.clone(),
                negate: op == CmpOp::Ne,
            },
            Value::Regex(r) => {
                regexes.push(r.compiled.clone());
                Check::Regex {
                    index: regexes.len() - 1,
                    negate: op == CmpOp::Ne,
                }
            }
        })
    }

    /// On a text value (a space-delimited field, or a JSON string).
    fn on_text(&self, s: &str, regexes: &[regex::Regex]) -> bool {
        match self {
            Check::Str { pat, negate } => pat.matches(s) != *negate,
            Check::Regex { index, negate } => {
                regexes.get(*index).is_some_and(|r| r.is_match(s)) != *negate
            }
            Check::Num { op, value, .. } => {
                semantics::parse_number(s).is_some_and(|v| num_cmp(*op, v, *value))
            }
        }
    }

    /// On a JSON node.
    fn on_json(&self, node: &Json, regexes: &[regex::Regex]) -> bool {
        match (self, node) {
            (Check::Num { op, text, .. }, Json::String(s)) => match op {
                CmpOp::Eq if semantics::NUMERIC_EQUALITY_SEES_STRING_TEXT => s == text,
                CmpOp::Ne if semantics::NUMERIC_INEQUALITY_SEES_STRING_TEXT => s != text,
                _ => semantics::NUMERIC_CONDITIONS_SEE_NUMERIC_STRINGS && self.on_text(s, regexes),
            },
            (Check::Num { op, value, .. }, Json::Number(n)) => {
                n.as_f64().is_some_and(|v| num_cmp(*op, v, *value))
            }
            (_, Json::String(s)) => self.on_text(s, regexes),
            (_, Json::Number(n)) if semantics::STRING_CONDITIONS_SEE_NUMBER_TEXT => {
                let mut buf = StackText::new();
                if write!(buf, "{n}").is_err() {
                    return false;
                }
                self.on_text(buf.as_str(), regexes)
            }
            (_, Json::Bool(b)) if semantics::EQUALITY_SEES_NULL_AND_BOOL => {
                self.on_text(if *b { "true" } else { "false" }, regexes)
            }
            (_, Json::Null) if semantics::EQUALITY_SEES_NULL_AND_BOOL => {
                self.on_text("null", regexes)
            }
            _ => false,
        }
    }
}

/// A small fixed buffer for formatting a number without allocating.
pub(crate) struct StackText {
    buf: [u8; 64],
    len: usize,
}

impl StackText {
    pub fn new() -> StackText {
        StackText {
            buf: [0; 64],
            len: 0,
        }
    }
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A compiled JSON condition.
#[derive(Debug)]
pub(crate) enum JsonTest {
    Check(Check),
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

/// A compiled JSON pattern.
#[derive(Debug)]
pub(crate) struct JsonMatcher {
    pub expr: Expr<(Vec<Step>, JsonTest)>,
    pub regexes: Vec<regex::Regex>,
}

/// Follows `steps` from `root` to the one value they select (None for wildcard steps: use
/// [`any_selected`]).
pub(crate) fn resolve<'v>(root: &'v Json, steps: &[Step]) -> Option<&'v Json> {
    let mut node = root;
    for s in steps {
        node = match (s, node) {
            (Step::Key(k), Json::Object(m)) => m.get(k.as_str())?,
            (Step::Index(i), Json::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(node)
}

/// Whether some value selected by `steps` (every element at a `[*]`, and every member of an
/// object there ([`semantics::ANY_INDEX_SEES_OBJECT_MEMBERS`]); every field at a `.*`)
/// satisfies `f`. Never descends into an array without an index or `[*]`
/// ([`semantics::NO_IMPLICIT_ARRAY_DESCENT`]).
pub(crate) fn any_selected(root: &Json, steps: &[Step], f: &mut dyn FnMut(&Json) -> bool) -> bool {
    let Some((first, rest)) = steps.split_first() else {
        return f(root);
    };
    match (first, root) {
        (Step::Key(k), Json::Object(m)) => {
            m.get(k.as_str()).is_some_and(|n| any_selected(n, rest, f))
        }
        (Step::Index(i), Json::Array(a)) => a.get(*i).is_some_and(|n| any_selected(n, rest, f)),
        (Step::AnyIndex, Json::Array(a)) => a.iter().any(|n| any_selected(n, rest, f)),
        (Step::AnyIndex, Json::Object(m)) if semantics::ANY_INDEX_SEES_OBJECT_MEMBERS => {
            m.values().any(|n| any_selected(n, rest, f))
        }
        (Step::AnyKey, Json::Object(m)) => m.values().any(|n| any_selected(n, rest, f)),
        _ => false,
    }
}

impl JsonMatcher {
    /// Evaluates on a parsed message (which must be an object).
    pub fn matches(&self, root: &Json) -> bool {
        if semantics::JSON_REQUIRES_WHOLE_OBJECT && !root.is_object() {
            return false;
        }
        eval_expr(&self.expr, &mut |(steps, test)| match test {
            JsonTest::NotExists => !any_selected(root, steps, &mut |_| true),
            JsonTest::IsNull => any_selected(root, steps, &mut |n| match n {
                Json::Null => true,
                Json::Array(a) => semantics::IS_NULL_SEES_NULL_IN_ARRAY && a.contains(&Json::Null),
                _ => false,
            }),
            JsonTest::IsTrue => any_selected(root, steps, &mut |n| *n == Json::Bool(true)),
            JsonTest::IsFalse => any_selected(root, steps, &mut |n| *n == Json::Bool(false)),
            JsonTest::Check(c) => any_selected(root, steps, &mut |n| c.on_json(n, &self.regexes)),
        })
    }
}

/// A compiled space-delimited pattern.
#[derive(Debug)]
pub(crate) struct SpaceMatcher {
    /// Per spec: its name (None for unnamed/ellipsis), and its condition.
    pub specs: Vec<SpaceSpec>,
    /// Index of the `...` spec, if any.
    pub ellipsis: Option<usize>,
    pub regexes: Vec<regex::Regex>,
}

/// One compiled field spec.
#[derive(Debug)]
pub(crate) struct SpaceSpec {
    pub name: Option<String>,
    /// Condition leaves refer to spec indices.
    pub cond: Option<Expr<(usize, Check)>>,
}

impl SpaceMatcher {
    /// Number of specs that stand for exactly one field.
    fn fixed(&self) -> usize {
        self.specs.len() - usize::from(self.ellipsis.is_some())
    }

    /// Where the specs land for an event with `n` fields; None if it has too few. Without `...`
    /// the last spec takes the surplus ([`semantics::LAST_FIELD_TAKES_SURPLUS`]).
    pub fn layout(&self, n: usize) -> Option<Layout> {
        let fixed = self.fixed();
        let extra = n.checked_sub(fixed)?;
        if self.ellipsis.is_none() && extra > 0 && !semantics::LAST_FIELD_TAKES_SURPLUS {
            return None;
        }
        Some(Layout {
            ellipsis: self.ellipsis,
            extra,
            last: self.specs.len().saturating_sub(1),
        })
    }

    /// Evaluates with the given layout; `text(range)` gives the text covering a range of fields.
    pub fn matches<'m>(
        &self,
        layout: Layout,
        text: impl Fn(std::ops::Range<usize>) -> &'m str,
    ) -> bool {
        self.specs.iter().all(|s| match &s.cond {
            None => true,
            Some(e) => eval_expr(e, &mut |(spec, check)| {
                check.on_text(text(layout.fields_of(*spec)), &self.regexes)
            }),
        })
    }
}

/// Where the specs land for one event.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    ellipsis: Option<usize>,
    /// Fields beyond one per spec: covered by the ellipsis, or else by the last spec.
    extra: usize,
    /// Index of the last spec.
    last: usize,
}

impl Layout {
    /// The fields a spec covers.
    pub fn fields_of(&self, spec: usize) -> std::ops::Range<usize> {
        match self.ellipsis {
            Some(e) if spec == e => e..e + self.extra,
            Some(e) if spec > e => spec - 1 + self.extra..spec + self.extra,
            Some(_) => spec..spec + 1,
            None if spec == self.last => spec..spec + 1 + self.extra,
            None => spec..spec + 1,
        }
    }

    /// The spec covering field `i` in a pattern with `...` (None: covered by the ellipsis).
    pub fn spec_of(&self, i: usize) -> Option<usize> {
        match self.ellipsis {
            None => Some(i.min(self.last)),
            Some(e) if i < e => Some(i),
            Some(e) if i < e + self.extra => None,
            Some(_) => Some(i + 1 - self.extra),
        }
    }
}

fn eval_expr<C>(e: &Expr<C>, leaf: &mut impl FnMut(&C) -> bool) -> bool {
    match e {
        Expr::Leaf(c) => leaf(c),
        Expr::And(v) => v.iter().all(|e| eval_expr(e, leaf)),
        Expr::Or(v) => v.iter().any(|e| eval_expr(e, leaf)),
    }
}

fn map_expr<C, D>(
    e: &Expr<C>,
    f: &mut impl FnMut(&C) -> Result<D, PatternError>,
) -> Result<Expr<D>, PatternError> {
    Ok(match e {
        Expr::Leaf(c) => Expr::Leaf(f(c)?),
        Expr::And(v) => Expr::And(v.iter().map(|e| map_expr(e, f)).collect::<Result<_, _>>()?),
        Expr::Or(v) => Expr::Or(v.iter().map(|e| map_expr(e, f)).collect::<Result<_, _>>()?),
    })
}

/// Compiles a parsed pattern.
pub(crate) fn compile(ast: &Ast) -> Result<Matcher, PatternError> {
    Ok(match ast {
        Ast::MatchAll => Matcher::MatchAll,
        Ast::Regex(r) => Matcher::Regex(r.compiled.clone()),
        Ast::Terms(items) => {
            let mut literals: Vec<String> = Vec::new();
            let mut index = |t: &str| match literals.iter().position(|l| l == t) {
                Some(i) => i,
                None => {
                    literals.push(t.to_owned());
                    literals.len() - 1
                }
            };
            // `?` terms count only when every term of the pattern is a `?` term.
            let ignore_or = semantics::OR_TERMS_IGNORED_WITH_OTHER_TERMS
                && items.iter().any(|it| it.op != TermOp::Or);
            let mut alternatives: Vec<Vec<usize>> = Vec::new();
            let mut all: Vec<usize> = Vec::new();
            let mut exclusions = Vec::new();
            for it in items {
                if ignore_or && it.op == TermOp::Or {
                    continue;
                }
                let i = index(&it.text);
                match it.op {
                    TermOp::Not => exclusions.push(i),
                    TermOp::Or => alternatives.push(vec![i]),
                    TermOp::And => all.push(i),
                }
            }
            if !all.is_empty() {
                alternatives.push(all);
            }
            Matcher::Terms(TermsMatcher {
                literals,
                alternatives,
                exclusions,
            })
        }
        Ast::Json(e) => {
            let mut regexes = Vec::new();
            let expr = map_expr(e, &mut |c: &JsonCond| {
                let test = match &c.test {
                    Test::Cmp(op, v) => JsonTest::Check(Check::from_value(*op, v, &mut regexes)?),
                    Test::IsNull => JsonTest::IsNull,
                    Test::IsTrue => JsonTest::IsTrue,
                    Test::IsFalse => JsonTest::IsFalse,
                    Test::NotExists => JsonTest::NotExists,
                };
                Ok((c.selector.steps.clone(), test))
            })?;
            Matcher::Json(JsonMatcher { expr, regexes })
        }
        Ast::Space(specs) => {
            let names: Vec<Option<&str>> = specs.iter().map(FieldSpec::name).collect();
            let mut regexes = Vec::new();
            let mut out = Vec::with_capacity(specs.len());
            let mut ellipsis = None;
            // `[]` extracts every field by position, like `[...]`.
            if semantics::EMPTY_PATTERN_EXTRACTS_EVERY_FIELD
                && matches!(specs.as_slice(), [FieldSpec::Empty(_)])
            {
                ellipsis = Some(0);
            }
            for (i, s) in specs.iter().enumerate() {
                if matches!(s, FieldSpec::Ellipsis(_)) {
                    ellipsis = Some(i);
                }
                let cond = match s {
                    FieldSpec::Cond(e, _) => Some(map_expr(e, &mut |c: &SpaceCond| {
                        // The parser has checked that every named field exists.
                        let spec = names
                            .iter()
                            .position(|n| *n == Some(c.field.as_str()))
                            .unwrap_or(i);
                        Ok((spec, Check::from_value(c.op, &c.value, &mut regexes)?))
                    })?),
                    _ => None,
                };
                out.push(SpaceSpec {
                    name: s.name().map(str::to_owned),
                    cond,
                });
            }
            Matcher::Space(SpaceMatcher {
                specs: out,
                ellipsis,
                regexes,
            })
        }
    })
}

/// Literals that must all occur in a message for an expression to possibly match: `leaf` gives a
/// leaf's own; `&&` takes the union, `||` the intersection. Used as an exact prefilter.
fn required<C>(e: &Expr<C>, leaf: &impl Fn(&C) -> Vec<String>) -> Vec<String> {
    match e {
        Expr::Leaf(c) => leaf(c),
        Expr::And(v) => {
            let mut out: Vec<String> = Vec::new();
            for r in v.iter().map(|e| required(e, leaf)) {
                for l in r {
                    if !out.contains(&l) {
                        out.push(l);
                    }
                }
            }
            out
        }
        Expr::Or(v) => {
            let mut sets = v.iter().map(|e| required(e, leaf));
            let first = sets.next().unwrap_or_default();
            sets.fold(first, |acc, s| {
                acc.into_iter().filter(|l| s.contains(l)).collect()
            })
        }
    }
}

/// Shorter literals are not worth a prefilter entry: they occur often (every occurrence is a
/// match of the literal search) and rule little out. Leaving one out only weakens the
/// prefilter, never its exactness.
const MIN_REQUIRED_LITERAL: usize = 3;

/// Could `l` be (part of) the JSON text of a number? Then it need not occur in the raw message.
fn could_be_number_text(l: &str) -> bool {
    l.bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
}

impl JsonMatcher {
    /// Literals every matching message contains, **provided the message has no backslash** (no
    /// JSON escapes, so keys and string values appear verbatim): `"key"` for each key a condition
    /// needs to reach, and the literal part of a positive string comparison.
    pub fn required_literals(&self) -> Vec<String> {
        required(&self.expr, &|(steps, test): &(Vec<Step>, JsonTest)| {
            if matches!(test, JsonTest::NotExists) {
                return Vec::new();
            }
            let mut v: Vec<String> = steps
                .iter()
                .filter_map(|s| match s {
                    // The key itself, unquoted: in a message that is escaped JSON text (the
                    // usual form) the quoted key would be the escaped `\"key\"`, and a literal
                    // without quotes serves both forms with one automaton.
                    Step::Key(k) if k.len() >= MIN_REQUIRED_LITERAL => Some(k.clone()),
                    Step::Key(_) | Step::Index(_) | Step::AnyIndex | Step::AnyKey => None,
                })
                .collect();
            if let JsonTest::Check(Check::Str { pat, negate: false }) = test {
                if pat.literal.len() >= MIN_REQUIRED_LITERAL && !could_be_number_text(&pat.literal)
                {
                    v.push(pat.literal.clone());
                }
            }
            v
        })
    }
}

impl SpaceMatcher {
    /// Literals every matching message contains: the literal part of each positive string
    /// comparison (fields are slices of the message).
    pub fn required_literals(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in &self.specs {
            if let Some(e) = &s.cond {
                let leaf = |(_, check): &(usize, Check)| match check {
                    Check::Str { pat, negate: false }
                        if pat.literal.len() >= MIN_REQUIRED_LITERAL =>
                    {
                        vec![pat.literal.clone()]
                    }
                    _ => Vec::new(),
                };
                for l in required(e, &leaf) {
                    if !out.contains(&l) {
                        out.push(l);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::Pattern;

    /// The prefilter's literals for one pattern (JSON or space-delimited).
    fn required_of(source: &str) -> Vec<String> {
        let p = Pattern::parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
        match p.matcher() {
            Matcher::Json(m) => m.required_literals(),
            Matcher::Space(m) => m.required_literals(),
            other => panic!("{source}: no required literals for {other:?}"),
        }
    }

    /// What the prefilter asks of a message: an exact prefilter that asks nothing passes every
    /// behaviour test, so its literals are checked here (a filter left without them is parsed or
    /// split for every event).
    #[test]
    fn required_literals_of_json_patterns() {
        for (pattern, want) in [
            // The key and the value of a positive string comparison.
            (
                r#"{ $.eventType = "UpdateTrail" }"#,
                &["eventType", "UpdateTrail"][..],
            ),
            // A numeric condition needs its key only.
            ("{ $.latency > 100 }", &["latency"]),
            // Keys and values shorter than three bytes are not worth a search.
            (r#"{ $.id = "abc" }"#, &["abc"]),
            (r#"{ $.level = "ab" }"#, &["level"]),
            // `!=` matches messages without its value; NOT EXISTS without its key.
            (r#"{ $.level != "ERROR" }"#, &["level"]),
            ("{ $.missing NOT EXISTS }", &[]),
            // A string that could be a number's text need not occur: `= "404"` sees `404`.
            (r#"{ $.status = "404" }"#, &["status"]),
            (r#"{ $.ratio = "1.5e-3" }"#, &["ratio"]),
            // `&&`: every leaf's literals, once each; `||`: only those common to every branch.
            (
                r#"{ $.user.name = "alice" && $.user.role = "admin" }"#,
                &["user", "name", "alice", "role", "admin"],
            ),
            (r#"{ $.foo = "bar" || $.foo = "baz" }"#, &["foo"]),
            (r#"{ $.foo = "bar" || $.other IS NULL }"#, &[]),
            // Wildcard steps and indices are no literals; the keys around them are.
            (r#"{ $.items[*].sku = "B-7" }"#, &["items", "sku", "B-7"]),
        ] {
            assert_eq!(required_of(pattern), want, "{pattern}");
        }
    }

    #[test]
    fn required_literals_of_space_delimited_patterns() {
        for (pattern, want) in [
            ("[ip, user = frank, ...]", &["frank"][..]),
            // A string value that looks like a number is kept (fields are slices of the message:
            // it is there verbatim); an unquoted number is a numeric condition and asks nothing.
            (
                "[a = ERROR, b != \"xyz\", c = ab, status = \"404\"]",
                &["ERROR", "404"],
            ),
            // One entry per literal, also when several fields ask for it.
            ("[w1 = ERROR && w1 != ERRORS, w2 = *ERROR*]", &["ERROR"]),
            ("[w1 = ERROR || w1 = FATAL, w2]", &[]),
            ("[w1 = ERROR || w1 = *ERROR*, w2]", &["ERROR"]),
        ] {
            assert_eq!(required_of(pattern), want, "{pattern}");
        }
    }
}
