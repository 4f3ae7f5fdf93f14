//! AST → matcher. The matchers here evaluate one condition or expression against an event's
//! shared, already-prepared views (the parsed JSON, the split fields, the found-literal bits).

use super::ast::*;
use super::error::PatternError;
use super::regex::compile as compile_regex;
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

/// Terms in disjunctive normal form, as indices into `literals`.
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
    Str { pat: StrPat, negate: bool },
    Num { op: CmpOp, value: f64 },
    Regex { index: usize, negate: bool },
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
            Value::Num(n) => Check::Num { op, value: n.value },
            Value::Str(p) => Check::Str {
                pat: p.clone(),
                negate: op == CmpOp::Ne,
            },
            Value::Regex(r) => {
                regexes.push(compile_regex(&r.source)?);
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
            Check::Num { op, value } => {
                semantics::parse_number(s).is_some_and(|v| num_cmp(*op, v, *value))
            }
        }
    }

    /// On a JSON node.
    fn on_json(&self, node: &Json, regexes: &[regex::Regex]) -> bool {
        match (self, node) {
            (Check::Num { .. }, Json::String(s)) => {
                semantics::NUMERIC_CONDITIONS_SEE_NUMERIC_STRINGS && self.on_text(s, regexes)
            }
            (Check::Num { op, value }, Json::Number(n)) => {
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
    /// Distinct selectors in order of first appearance, with their printed form (for
    /// extractedValues).
    pub selectors: Vec<(String, Vec<Step>)>,
}

/// Follows `steps` from `root`.
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

impl JsonMatcher {
    /// Evaluates on a parsed message (which must be an object).
    pub fn matches(&self, root: &Json) -> bool {
        if semantics::JSON_REQUIRES_WHOLE_OBJECT && !root.is_object() {
            return false;
        }
        eval_expr(&self.expr, &mut |(steps, test)| {
            let node = resolve(root, steps);
            match test {
                JsonTest::NotExists => node.is_none(),
                JsonTest::IsNull => matches!(node, Some(Json::Null)),
                JsonTest::IsTrue => matches!(node, Some(Json::Bool(true))),
                JsonTest::IsFalse => matches!(node, Some(Json::Bool(false))),
                JsonTest::Check(c) => node.is_some_and(|n| c.on_json(n, &self.regexes)),
            }
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

    /// Maps spec index → field index for an event with `n` fields, if the count fits.
    pub fn layout(&self, n: usize) -> Option<Layout> {
        let fixed = self.fixed();
        match self.ellipsis {
            None => (n == fixed).then_some(Layout {
                ellipsis: None,
                extra: 0,
            }),
            Some(e) => n.checked_sub(fixed).map(|extra| Layout {
                ellipsis: Some(e),
                extra,
            }),
        }
    }

    /// Evaluates on the split fields (`text(i)` gives field i).
    pub fn matches<'m>(&self, n: usize, text: impl Fn(usize) -> &'m str) -> bool {
        let Some(layout) = self.layout(n) else {
            return false;
        };
        self.specs.iter().all(|s| match &s.cond {
            None => true,
            Some(e) => eval_expr(e, &mut |(spec, check)| {
                check.on_text(text(layout.field_of(*spec)), &self.regexes)
            }),
        })
    }
}

/// Where the specs land for one event.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    ellipsis: Option<usize>,
    /// Fields covered by the ellipsis.
    extra: usize,
}

impl Layout {
    /// Field index of a (non-ellipsis) spec.
    pub fn field_of(&self, spec: usize) -> usize {
        match self.ellipsis {
            Some(e) if spec > e => spec - 1 + self.extra,
            _ => spec,
        }
    }

    /// The spec covering field `i` (None: covered by the ellipsis).
    pub fn spec_of(&self, i: usize) -> Option<usize> {
        match self.ellipsis {
            None => Some(i),
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

/// Prints a selector in its normalised form (`$.a[0].b`).
pub(crate) fn selector_text(steps: &[Step]) -> String {
    let mut s = String::from("$");
    for st in steps {
        // Writing to a String cannot fail.
        let _ = match st {
            Step::Key(k) => write!(s, ".{k}"),
            Step::Index(i) => write!(s, "[{i}]"),
        };
    }
    s
}

/// Compiles a parsed pattern.
pub(crate) fn compile(ast: &Ast) -> Result<Matcher, PatternError> {
    Ok(match ast {
        Ast::MatchAll => Matcher::MatchAll,
        Ast::Regex(r) => Matcher::Regex(compile_regex(&r.source)?),
        Ast::Terms(items) => {
            let mut literals: Vec<String> = Vec::new();
            let mut index = |t: &str| match literals.iter().position(|l| l == t) {
                Some(i) => i,
                None => {
                    literals.push(t.to_owned());
                    literals.len() - 1
                }
            };
            let mut alternatives: Vec<Vec<usize>> = Vec::new();
            let mut exclusions = Vec::new();
            for it in items {
                let i = index(&it.text);
                match it.op {
                    TermOp::Not => exclusions.push(i),
                    TermOp::Or => alternatives.push(vec![i]),
                    TermOp::And => match alternatives.last_mut() {
                        Some(a) => a.push(i),
                        None => alternatives.push(vec![i]),
                    },
                }
            }
            Matcher::Terms(TermsMatcher {
                literals,
                alternatives,
                exclusions,
            })
        }
        Ast::Json(e) => {
            let mut regexes = Vec::new();
            let mut selectors: Vec<(String, Vec<Step>)> = Vec::new();
            let expr = map_expr(e, &mut |c: &JsonCond| {
                if !selectors.iter().any(|(_, s)| *s == c.selector.steps) {
                    selectors.push((selector_text(&c.selector.steps), c.selector.steps.clone()));
                }
                let test = match &c.test {
                    Test::Cmp(op, v) => JsonTest::Check(Check::from_value(*op, v, &mut regexes)?),
                    Test::IsNull => JsonTest::IsNull,
                    Test::IsTrue => JsonTest::IsTrue,
                    Test::IsFalse => JsonTest::IsFalse,
                    Test::NotExists => JsonTest::NotExists,
                };
                Ok((c.selector.steps.clone(), test))
            })?;
            Matcher::Json(JsonMatcher {
                expr,
                regexes,
                selectors,
            })
        }
        Ast::Space(specs) => {
            let names: Vec<Option<&str>> = specs.iter().map(FieldSpec::name).collect();
            let mut regexes = Vec::new();
            let mut out = Vec::with_capacity(specs.len());
            let mut ellipsis = None;
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
                    Step::Key(_) => None,
                    Step::Index(_) => None,
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
