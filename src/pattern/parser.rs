//! The parser: pattern text → [`Ast`] with byte spans, or a [`PatternError`] naming the spot.

use super::ast::*;
use super::error::{PatternError, PatternErrorKind as K};
use super::limits::{
    MAX_NESTING_DEPTH, MAX_PATTERN_CHARS, MAX_REGEX_PER_PATTERN, MAX_WILDCARDS_PER_SELECTOR,
    MAX_WILDCARD_SELECTORS,
};
use super::regex::parse_regex;
use super::semantics;

type PResult<T> = Result<T, PatternError>;

/// Parses a whole pattern.
pub(crate) fn parse(src: &str) -> PResult<Ast> {
    let chars = src.chars().count();
    if chars > MAX_PATTERN_CHARS {
        let start = src
            .char_indices()
            .nth(MAX_PATTERN_CHARS)
            .map_or(src.len(), |(i, _)| i);
        return Err(PatternError::new(
            K::TooLong {
                chars,
                max: MAX_PATTERN_CHARS,
            },
            start..src.len(),
            src,
        ));
    }
    let start = src.len() - src.trim_start().len();
    let end = src.trim_end().len();
    if start >= end {
        return Ok(Ast::MatchAll);
    }
    let body = &src[start..end];
    let mut p = Parser {
        src,
        pos: start,
        end,
        depth: 0,
    };
    let ast = if body.starts_with('{') {
        p.json()?
    } else if body.starts_with('[') {
        p.space()?
    } else if body.len() >= 2
        && body.starts_with('%')
        && body[1..].find('%') == Some(body.len() - 2)
    {
        let source = &body[1..body.len() - 1];
        Ast::Regex(RegexLit {
            compiled: parse_regex(src, start + 1, source)?,
            source: source.to_owned(),
            span: Span(start..end),
        })
    } else {
        p.terms()?
    };
    check_regex_count(src, &ast)?;
    check_wildcard_count(src, &ast)?;
    Ok(ast)
}

/// At most [`MAX_WILDCARD_SELECTORS`] conditions of a JSON pattern may use a wildcard selector.
fn check_wildcard_count(src: &str, ast: &Ast) -> PResult<()> {
    let Ast::Json(e) = ast else { return Ok(()) };
    let mut spans = Vec::new();
    e.for_each_leaf(&mut |c: &JsonCond| {
        if c.selector.steps.iter().any(Step::is_wildcard) {
            spans.push(c.selector.span.0.clone());
        }
    });
    match spans.get(MAX_WILDCARD_SELECTORS) {
        Some(span) => Err(PatternError::new(
            K::TooManyWildcards(
                "at most 3 selectors with a wildcard ([*] or .*) are allowed in one filter pattern",
            ),
            span.clone(),
            src,
        )),
        None => Ok(()),
    }
}

fn check_regex_count(src: &str, ast: &Ast) -> PResult<()> {
    let mut spans: Vec<std::ops::Range<usize>> = Vec::new();
    let mut push = |v: &Value| {
        if let Value::Regex(r) = v {
            spans.push(r.span.0.clone());
        }
    };
    match ast {
        Ast::Json(e) => e.for_each_leaf(&mut |c: &JsonCond| {
            if let Test::Cmp(_, v) = &c.test {
                push(v)
            }
        }),
        Ast::Space(specs) => {
            for s in specs {
                if let FieldSpec::Cond(e, _) = s {
                    e.for_each_leaf(&mut |c: &SpaceCond| push(&c.value));
                }
            }
        }
        _ => {}
    }
    if let Some(span) = spans.get(MAX_REGEX_PER_PATTERN) {
        return Err(PatternError::new(
            K::TooManyRegexes {
                max: MAX_REGEX_PER_PATTERN,
            },
            span.clone(),
            src,
        ));
    }
    Ok(())
}

/// The characters of `text` (which starts at byte `offset` of the pattern) that `ok` refuses, and
/// the span from the first to the last of them; None if there are none.
fn invalid_chars(
    text: &str,
    offset: usize,
    ok: fn(char) -> bool,
) -> Option<(std::ops::Range<usize>, String)> {
    let mut span: Option<std::ops::Range<usize>> = None;
    let mut chars = String::new();
    for (i, c) in text.char_indices() {
        if !ok(c) {
            let at = offset + i;
            let start = span.as_ref().map_or(at, |s| s.start);
            span = Some(start..at + c.len_utf8());
            chars.push(c);
        }
    }
    span.map(|s| (s, chars))
}

struct Parser<'s> {
    src: &'s str,
    pos: usize,
    /// End of the trimmed pattern.
    end: usize,
    depth: usize,
}

fn describe(c: Option<char>) -> String {
    match c {
        None => "the end of the pattern".to_owned(),
        Some(c) => format!("{c:?}"),
    }
}

impl<'s> Parser<'s> {
    fn err<T>(&self, kind: K, span: std::ops::Range<usize>) -> PResult<T> {
        Err(PatternError::new(kind, span, self.src))
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..self.end].chars().next()
    }

    fn rest(&self) -> &'s str {
        &self.src[self.pos..self.end]
    }

    fn here_span(&self) -> std::ops::Range<usize> {
        let len = self.peek().map_or(0, char::len_utf8);
        self.pos..self.pos + len
    }

    fn expected<T>(&self, expected: &'static str) -> PResult<T> {
        self.err(
            K::Expected {
                expected,
                found: describe(self.peek()),
            },
            self.here_span(),
        )
    }

    fn skip_ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start().len();
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    // ---------------------------------------------------------------- terms

    fn terms(&mut self) -> PResult<Ast> {
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            let Some(c) = self.peek() else { break };
            let item_start = self.pos;
            let op = match c {
                '?' => TermOp::Or,
                '-' => TermOp::Not,
                _ => TermOp::And,
            };
            if op != TermOp::And {
                self.pos += 1;
                if semantics::ALLOW_SPACE_AFTER_PREFIX {
                    self.skip_ws();
                }
                match self.peek() {
                    None => return self.expected("a term after the '?' or '-' prefix"),
                    Some(c) if c.is_whitespace() => {
                        return self.expected("a term right after the '?' or '-' prefix")
                    }
                    _ => {}
                }
            }
            let text = if self.peek() == Some('"') {
                let t = self.quoted()?;
                if let Some(c) = self.peek() {
                    if !c.is_whitespace() {
                        return self.expected("whitespace after the closing quote");
                    }
                }
                t
            } else {
                let start = self.pos;
                while let Some(c) = self.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    if c == '"' {
                        return self.err(
                            K::Expected {
                                expected:
                                    "whitespace before a quoted term (or quote the whole term)",
                                found: describe(Some(c)),
                            },
                            self.here_span(),
                        );
                    }
                    self.pos += c.len_utf8();
                }
                let t = &self.src[start..self.pos];
                if semantics::REGEX_MUST_BE_WHOLE_TERM_PATTERN
                    && t.len() >= 2
                    && t.starts_with('%')
                    && t.ends_with('%')
                {
                    return self.err(K::RegexWithTerms, start..self.pos);
                }
                if let Some((span, chars)) = invalid_chars(t, start, semantics::is_bare_term_char) {
                    return self.err(K::InvalidTermCharacters(chars), span);
                }
                t.to_owned()
            };
            items.push(TermItem {
                op,
                text,
                span: Span(item_start..self.pos),
            });
        }
        Ok(Ast::Terms(items))
    }

    /// Reads a `"…"` string at the cursor, unescaping `\"` and `\\`.
    fn quoted(&mut self) -> PResult<String> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.src[self.pos..self.end].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => {
                    let mut look = chars.clone();
                    match look.next() {
                        Some((_, n)) if semantics::unescapes(n) => {
                            out.push(n);
                            chars = look;
                        }
                        _ => out.push('\\'),
                    }
                }
                c => out.push(c),
            }
        }
        self.err(K::UnterminatedQuote, open..open + 1)
    }

    // ---------------------------------------------------------------- shared expression grammar

    fn expr<C>(&mut self, leaf: &mut dyn FnMut(&mut Self) -> PResult<C>) -> PResult<Expr<C>> {
        let mut ors = Vec::new();
        loop {
            let mut ands = Vec::new();
            loop {
                let e = self.unary(leaf)?;
                match e {
                    Expr::And(v) => ands.extend(v),
                    e => ands.push(e),
                }
                self.skip_ws();
                if !self.eat("&&") {
                    break;
                }
            }
            let e = if ands.len() == 1 {
                ands.pop().unwrap_or_else(|| Expr::And(Vec::new()))
            } else {
                Expr::And(ands)
            };
            match e {
                Expr::Or(v) => ors.extend(v),
                e => ors.push(e),
            }
            self.skip_ws();
            if !self.eat("||") {
                break;
            }
        }
        self.skip_ws();
        if let Some('&' | '|') = self.peek() {
            return self.expected("'&&' or '||'");
        }
        Ok(if ors.len() == 1 {
            ors.pop().unwrap_or_else(|| Expr::Or(Vec::new()))
        } else {
            Expr::Or(ors)
        })
    }

    fn unary<C>(&mut self, leaf: &mut dyn FnMut(&mut Self) -> PResult<C>) -> PResult<Expr<C>> {
        self.skip_ws();
        if self.peek() == Some('(') {
            let open = self.pos;
            if self.depth >= MAX_NESTING_DEPTH {
                return self.err(
                    K::NestingTooDeep {
                        max: MAX_NESTING_DEPTH,
                    },
                    open..open + 1,
                );
            }
            self.pos += 1;
            self.depth += 1;
            let e = self.expr(leaf);
            self.depth -= 1;
            let e = e?;
            if !self.eat(")") {
                return match self.peek() {
                    None | Some('}' | ']' | ',') => self.err(K::UnclosedParen, open..open + 1),
                    _ => self.expected("'&&', '||' or ')'"),
                };
            }
            Ok(e)
        } else {
            Ok(Expr::Leaf(leaf(self)?))
        }
    }

    fn op(&mut self) -> Option<CmpOp> {
        for (s, op) in [
            ("!=", CmpOp::Ne),
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("=", CmpOp::Eq),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
        ] {
            if self.eat(s) {
                return Some(op);
            }
        }
        None
    }

    /// A comparison value after `op`. `extra_stop` are characters that end a bare value; `json`
    /// says the value is in a JSON pattern (where a bare `null` is rejected).
    fn value(&mut self, op: CmpOp, extra_stop: &[char], json: bool) -> PResult<Value> {
        self.skip_ws();
        let start = self.pos;
        let v = match self.peek() {
            Some('"') => Value::Str(StrPat::from_text(&self.quoted()?)),
            Some('%') => {
                let body_start = self.pos + 1;
                let Some(len) = self.src[body_start..self.end].find('%') else {
                    return self.err(
                        K::Expected {
                            expected: "a closing '%' for the regular expression",
                            found: "the end of the pattern".to_owned(),
                        },
                        start..start + 1,
                    );
                };
                let source = self.src[body_start..body_start + len].to_owned();
                self.pos = body_start + len + 1;
                Value::Regex(RegexLit {
                    compiled: parse_regex(self.src, body_start, &source)?,
                    source,
                    span: Span(start..self.pos),
                })
            }
            _ => {
                while let Some(c) = self.peek() {
                    if c.is_whitespace()
                        || matches!(c, '(' | ')' | '&' | '|' | '"' | '=' | '!' | '<' | '>')
                        || extra_stop.contains(&c)
                    {
                        break;
                    }
                    self.pos += c.len_utf8();
                }
                let t = &self.src[start..self.pos];
                if t.is_empty() {
                    return self.expected("a value (a string, a number or a %regex%)");
                }
                if let Some((span, chars)) = invalid_chars(t, start, semantics::is_bare_value_char)
                {
                    return self.err(K::InvalidValueCharacters(chars), span);
                }
                if json && semantics::NULL_COMPARISON_IS_INVALID && t == "null" {
                    return self.err(K::NullComparison(op.as_str()), start..self.pos);
                }
                match semantics::parse_number(t) {
                    Some(value) => Value::Num(Number {
                        text: t.to_owned(),
                        value,
                    }),
                    None => Value::Str(StrPat::from_text(t)),
                }
            }
        };
        if !matches!(op, CmpOp::Eq | CmpOp::Ne) && !matches!(v, Value::Num(_)) {
            return self.err(
                K::NumberExpected {
                    op: op.as_str(),
                    found: format!("{:?}", &self.src[start..self.pos]),
                },
                start..self.pos,
            );
        }
        Ok(v)
    }

    // ---------------------------------------------------------------- JSON

    fn json(&mut self) -> PResult<Ast> {
        let open = self.pos;
        self.pos += 1;
        self.skip_ws();
        if self.peek().is_none() {
            return self.err(K::UnclosedBrace, open..open + 1);
        }
        let e = self.expr(&mut |p: &mut Self| p.json_cond())?;
        if !self.eat("}") {
            return match self.peek() {
                None => self.err(K::UnclosedBrace, open..open + 1),
                Some(')') => self.err(
                    K::Expected {
                        expected: "'&&', '||' or '}' (this ')' closes nothing)",
                        found: "')'".to_owned(),
                    },
                    self.here_span(),
                ),
                _ => self.expected("'&&', '||' or '}'"),
            };
        }
        if self.pos < self.end {
            return self.err(K::TrailingInput, self.pos..self.end);
        }
        Ok(Ast::Json(e))
    }

    fn selector(&mut self) -> PResult<Selector> {
        let start = self.pos;
        if !self.eat("$") {
            return self.expected("a selector starting with '$' (for example $.eventType)");
        }
        let mut steps = Vec::new();
        let mut wildcards = 0;
        loop {
            let step_start = self.pos;
            let step = match self.peek() {
                Some('.') => {
                    let dot = self.pos;
                    self.pos += 1;
                    match self.peek() {
                        Some('*') => {
                            self.pos += 1;
                            Step::AnyKey
                        }
                        // `$.['cluster.name']`: bracket notation for a key with other characters.
                        Some('[') => match self.bracket_key()? {
                            Some(k) => Step::Key(k),
                            None => {
                                return self.err(
                                    K::InvalidSelector(
                                        "expected a quoted key like ['cluster.name'] after '.'",
                                    ),
                                    dot..self.here_span().end,
                                )
                            }
                        },
                        _ => {
                            let name_start = self.pos;
                            while let Some(c) = self.peek() {
                                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                                    self.pos += 1;
                                } else {
                                    break;
                                }
                            }
                            if self.pos == name_start {
                                return self.err(
                                    K::InvalidSelector(
                                        "expected a property name (letters, digits, '-', '_'), '*' or ['key'] after '.'",
                                    ),
                                    dot..self.here_span().end.max(dot + 1),
                                );
                            }
                            Step::Key(self.src[name_start..self.pos].to_owned())
                        }
                    }
                }
                Some('[') => {
                    let open = self.pos;
                    if let Some(k) = self.bracket_key()? {
                        Step::Key(k)
                    } else {
                        if steps.is_empty() {
                            return self.err(
                                K::InvalidSelector("an array index must follow a property"),
                                open..open + 1,
                            );
                        }
                        self.pos += 1;
                        if self.eat("*") {
                            if !self.eat("]") {
                                return self.expected("']' to close the wildcard index [*]");
                            }
                            Step::AnyIndex
                        } else {
                            let num_start = self.pos;
                            while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
                                self.pos += 1;
                            }
                            if self.pos == num_start {
                                return self.err(
                                    K::InvalidSelector(
                                        "expected a non-negative array index like [0], the wildcard [*] or a quoted key ['key']",
                                    ),
                                    open..self.here_span().end,
                                );
                            }
                            let Ok(i) = self.src[num_start..self.pos].parse::<usize>() else {
                                return self.err(K::IndexTooLarge, num_start..self.pos);
                            };
                            if !self.eat("]") {
                                return self.expected("']' to close the array index");
                            }
                            Step::Index(i)
                        }
                    }
                }
                _ => break,
            };
            if step.is_wildcard() {
                wildcards += 1;
                if wildcards > MAX_WILDCARDS_PER_SELECTOR {
                    return self.err(
                        K::TooManyWildcards("a selector may hold only one wildcard ([*] or .*)"),
                        step_start..self.pos,
                    );
                }
            }
            steps.push(step);
        }
        if steps.is_empty() {
            return self.err(
                K::InvalidSelector("'$' alone is the whole message; add a property, e.g. $.name"),
                start..self.pos,
            );
        }
        Ok(Selector {
            steps,
            span: Span(start..self.pos),
        })
    }

    /// At a `[`: reads `['key']` (or `["key"]`) and returns the key; `None` (cursor unmoved) if
    /// the bracket holds no quote.
    fn bracket_key(&mut self) -> PResult<Option<String>> {
        let open = self.pos;
        let quote = match self.src[open..self.end].chars().nth(1) {
            Some(q @ ('\'' | '"')) => q,
            _ => return Ok(None),
        };
        let key_start = open + 2;
        let Some(len) = self.src[key_start..self.end].find(quote) else {
            return self.err(
                K::InvalidSelector("the quoted key is never closed"),
                open + 1..open + 2,
            );
        };
        let key = self.src[key_start..key_start + len].to_owned();
        self.pos = key_start + len + 1;
        if !self.eat("]") {
            return self.expected("']' after the quoted key");
        }
        if key.is_empty() {
            return self.err(
                K::InvalidSelector("the quoted key is empty"),
                open..self.pos,
            );
        }
        Ok(Some(key))
    }

    fn word(&self) -> &'s str {
        let r = self.rest();
        let n = r
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(r.len());
        &r[..n]
    }

    fn json_cond(&mut self) -> PResult<JsonCond> {
        self.skip_ws();
        let start = self.pos;
        let selector = self.selector()?;
        self.skip_ws();
        let test = if let Some(op) = self.op() {
            Test::Cmp(op, self.value(op, &['}'], true)?)
        } else {
            let w_start = self.pos;
            let w = self.word();
            let upper = w.to_ascii_uppercase();
            if semantics::KEYWORDS_UPPERCASE_ONLY && w != upper {
                return self.expected(
                    "an operator (=, !=, <, >, <=, >=) or IS NULL, IS TRUE, IS FALSE, NOT EXISTS (upper case)",
                );
            }
            match upper.as_str() {
                "IS" => {
                    self.pos += w.len();
                    self.skip_ws();
                    let k_start = self.pos;
                    let k = self.word();
                    let test = match k {
                        "NULL" => Test::IsNull,
                        "TRUE" => Test::IsTrue,
                        "FALSE" => Test::IsFalse,
                        "NOT" => return self.err(K::IsNotUnsupported, w_start..k_start + k.len()),
                        _ => return self.expected("NULL, TRUE or FALSE after IS"),
                    };
                    self.pos += k.len();
                    test
                }
                "NOT" => {
                    self.pos += w.len();
                    self.skip_ws();
                    if self.word() != "EXISTS" {
                        return self.expected("EXISTS after NOT");
                    }
                    self.pos += "EXISTS".len();
                    Test::NotExists
                }
                "EXISTS" => return self.err(K::ExistsUnsupported, w_start..w_start + w.len()),
                _ => return self.expected(
                    "an operator (=, !=, <, >, <=, >=) or IS NULL, IS TRUE, IS FALSE, NOT EXISTS",
                ),
            }
        };
        Ok(JsonCond {
            selector,
            test,
            span: Span(start..self.pos),
        })
    }

    // ---------------------------------------------------------------- space-delimited

    fn space(&mut self) -> PResult<Ast> {
        let open = self.pos;
        self.pos += 1;
        let mut specs = Vec::new();
        loop {
            self.skip_ws();
            let start = self.pos;
            let spec = match self.peek() {
                None => return self.err(K::UnclosedBracket, open..open + 1),
                Some(',') | Some(']') => FieldSpec::Empty(Span(start..start)),
                Some('.') if self.rest().starts_with("...") => {
                    self.pos += 3;
                    FieldSpec::Ellipsis(Span(start..self.pos))
                }
                Some(_) => {
                    let name_end = self.name_end();
                    if name_end == self.pos && self.peek() != Some('(') {
                        return self.expected("a field name, '...', ',' or ']'");
                    }
                    let save = self.pos;
                    self.pos = name_end;
                    self.skip_ws();
                    if matches!(self.peek(), Some(',') | Some(']') | None) && name_end > save {
                        FieldSpec::Named(self.src[save..name_end].to_owned(), Span(save..name_end))
                    } else {
                        self.pos = save;
                        let e = self.expr(&mut |p: &mut Self| p.space_cond())?;
                        FieldSpec::Cond(e, Span(start..self.pos))
                    }
                }
            };
            specs.push(spec);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(']') => {
                    self.pos += 1;
                    break;
                }
                None => return self.err(K::UnclosedBracket, open..open + 1),
                Some(_) => return self.expected("',' or ']' after the field"),
            }
        }
        if self.pos < self.end {
            return self.err(K::TrailingInput, self.pos..self.end);
        }
        self.check_specs(&specs)?;
        Ok(Ast::Space(specs))
    }

    fn name_end(&self) -> usize {
        let r = self.rest();
        self.pos
            + r.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(r.len())
    }

    fn space_cond(&mut self) -> PResult<SpaceCond> {
        self.skip_ws();
        let start = self.pos;
        let end = self.name_end();
        if end == start {
            return self.expected("a field name");
        }
        let field = self.src[start..end].to_owned();
        self.pos = end;
        self.skip_ws();
        let Some(op) = self.op() else {
            return self.err(
                K::InvalidFieldSpec(
                    "expected an operator (=, !=, <, >, <=, >=) after the field name in a condition",
                ),
                self.here_span(),
            );
        };
        let value = self.value(op, &[',', ']'], false)?;
        Ok(SpaceCond {
            field,
            field_span: Span(start..end),
            op,
            value,
            span: Span(start..self.pos),
        })
    }

    fn check_specs(&self, specs: &[FieldSpec]) -> PResult<()> {
        let mut ellipses = 0;
        let mut names: Vec<&str> = Vec::new();
        for s in specs {
            if let FieldSpec::Ellipsis(span) = s {
                ellipses += 1;
                if ellipses > semantics::MAX_ELLIPSES {
                    return self.err(K::MultipleEllipses, span.0.clone());
                }
            }
            if let Some(n) = s.name() {
                if names.contains(&n) {
                    let span = match s {
                        FieldSpec::Named(_, sp) | FieldSpec::Cond(_, sp) => sp.0.clone(),
                        _ => 0..0,
                    };
                    return self.err(K::DuplicateField(n.to_owned()), span);
                }
                names.push(n);
            }
        }
        for s in specs {
            if let FieldSpec::Cond(e, _) = s {
                let mut bad: Option<&SpaceCond> = None;
                e.for_each_leaf(&mut |c: &SpaceCond| {
                    if bad.is_none() && !names.contains(&c.field.as_str()) {
                        bad = Some(c);
                    }
                });
                if let Some(c) = bad {
                    if !semantics::UNKNOWN_CONDITION_FIELD_IS_OWN_FIELD {
                        return self.err(K::UnknownField(c.field.clone()), c.field_span.0.clone());
                    }
                }
                if !semantics::CROSS_FIELD_CONDITIONS {
                    let own = s.name();
                    let mut other = None;
                    e.for_each_leaf(&mut |c: &SpaceCond| {
                        if other.is_none() && Some(c.field.as_str()) != own {
                            other = Some(c.field_span.0.clone());
                        }
                    });
                    if let Some(sp) = other {
                        return self.err(
                            K::InvalidFieldSpec("a condition may only name its own field"),
                            sp,
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

/// Parses a whole JSON selector (`$.a.b[0]`), as used by metric values and dimensions.
pub(crate) fn parse_selector(text: &str) -> PResult<Vec<Step>> {
    let mut p = Parser {
        src: text,
        pos: 0,
        end: text.len(),
        depth: 0,
    };
    let s = p.selector()?;
    if p.pos < p.end {
        return p.err(K::TrailingInput, p.pos..p.end);
    }
    Ok(s.steps)
}
