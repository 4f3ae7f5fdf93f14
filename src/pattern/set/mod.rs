//! Evaluating many filters on one event with shared work.
//!
//! - this module: [`FilterSet`] (building the set, the prefilter, evaluation) and its [`Scratch`];
//! - `literals`: finding all literals of the set in a message, plain or escaped, with the searcher
//!   that suits their number;
//! - `bits`: the bit sets of found literals and candidate patterns;
//! - `captures`: what a matching filter saw ([`Captures`], [`FieldValue`]);
//! - `field_ref`: resolving a `$.selector` / `$name` / `$N` reference against a pattern.

mod bits;
mod captures;
mod field_ref;
mod literals;

use super::compile::Matcher;
use super::fields::{covered_text, split_fields};
use super::Pattern;
use crate::json::{self, EscapedStr};
use bits::BitSet;
use captures::{CapInner, CapMessage};
pub use captures::{Captures, FieldValue};
pub(crate) use field_ref::{field_ref, RefTarget};
use literals::Literals;
use serde_json::Value as Json;
use std::cell::OnceCell;

/// Many filters evaluated together on each event.
///
/// Shared work per event: all literal terms of all term filters are found in one search (results in
/// a bitset); only the filters whose literals occur are candidates; the message is
/// parsed as JSON at most once (only if a JSON filter is a candidate and the message starts with
/// `{`), and split into fields at most once (only if a space-delimited filter is a candidate).
///
/// The same search also finds, for JSON and space-delimited filters, literals every matching
/// message must contain (keys a JSON condition needs, the literal part of `= "value"`
/// comparisons). A filter whose literals are not all present is skipped, and if no JSON
/// (space-delimited) filter remains for an event, the message is not parsed (split) at all.
#[derive(Debug)]
pub struct FilterSet {
    patterns: Vec<Pattern>,
    /// Per pattern: its literal indices → global literal ids (term patterns only).
    literal_ids: Vec<Vec<usize>>,
    /// Per pattern: global ids of the literals a match needs (JSON and space-delimited patterns).
    required: Vec<Vec<usize>>,
    /// Whether some JSON pattern has required literals (which do not hold when the message
    /// contains a backslash, i.e. possibly JSON escapes).
    json_required: bool,
    /// The non-empty literals, searched in text.
    text_literals: Literals,
    /// The same literals in their escaped JSON form, searched in escaped messages (see
    /// [`FilterSet::eval_escaped`]); `None` when escaping changes none of them (`text_literals`
    /// then serves) or when they could not be built.
    escaped_literals: Option<Literals>,
    /// Whether escaped messages can be searched (the literals could be built).
    raw_ok: bool,
    /// Per global literal id: the patterns that become candidates when it occurs.
    triggers: Vec<Vec<usize>>,
    /// Patterns that are candidates whatever literals occur.
    unconditional: BitSet,
    /// JSON patterns with required literals: candidates whenever the message has a backslash.
    json_with_required: BitSet,
    /// Patterns that need the message text beyond its literals: regex, JSON, space-delimited.
    needs_text: BitSet,
    /// Global ids of the empty literal, which occurs in every message.
    always: Vec<usize>,
    literal_count: usize,
    any_json: bool,
    any_space: bool,
}

/// Reusable working memory for [`FilterSet::eval`]; make one per thread with
/// [`FilterSet::scratch`].
#[derive(Debug, Default)]
pub struct Scratch {
    /// Literals found in the current event (by global literal id).
    found: BitSet,
    /// Candidate patterns of the current event.
    candidates: BitSet,
    /// The unescaped message, for [`FilterSet::eval_escaped`].
    text: String,
    fields: Vec<(usize, usize)>,
    json: Option<Json>,
    /// Whether the message holds a backslash (JSON required literals do not apply then).
    backslash: bool,
}

impl FilterSet {
    /// Builds the set (and its shared literal automaton).
    pub fn new(patterns: impl IntoIterator<Item = Pattern>) -> FilterSet {
        FilterSet::build(patterns, true)
    }

    /// Builds the set; without `prefilter`, JSON and space-delimited filters are always evaluated
    /// (used by [`Pattern::test`], which thereby serves as the reference for the prefilter).
    pub(crate) fn build(patterns: impl IntoIterator<Item = Pattern>, prefilter: bool) -> FilterSet {
        let patterns: Vec<Pattern> = patterns.into_iter().collect();
        let mut texts: Vec<String> = Vec::new();
        let mut intern = |l: &str| match texts.iter().position(|x| x == l) {
            Some(i) => i,
            None => {
                texts.push(l.to_owned());
                texts.len() - 1
            }
        };
        let mut literal_ids = Vec::with_capacity(patterns.len());
        let mut required = Vec::with_capacity(patterns.len());
        let (mut any_json, mut any_space, mut json_required) = (false, false, false);
        for p in &patterns {
            let mut ids = Vec::new();
            let mut req = Vec::new();
            match p.matcher() {
                Matcher::Terms(t) => ids = t.literals.iter().map(|l| intern(l)).collect(),
                Matcher::Json(m) => {
                    any_json = true;
                    if prefilter {
                        req = m.required_literals().iter().map(|l| intern(l)).collect();
                        json_required |= !req.is_empty();
                    }
                }
                Matcher::Space(m) => {
                    any_space = true;
                    if prefilter {
                        req = m.required_literals().iter().map(|l| intern(l)).collect();
                    }
                }
                Matcher::MatchAll | Matcher::Regex(_) => {}
            }
            literal_ids.push(ids);
            required.push(req);
        }
        let mut always = Vec::new();
        let mut ac_ids = Vec::new();
        let mut ac_texts = Vec::new();
        for (id, t) in texts.iter().enumerate() {
            if t.is_empty() {
                always.push(id);
            } else {
                ac_ids.push(id);
                ac_texts.push(t.as_str());
            }
        }
        let text_literals = Literals::new(&ac_ids, &ac_texts);
        // The literals as the payloads escape them: a literal with a control character that has no
        // two-byte escape gets `\u00XX`, a form an `EscapedStr` never holds, so it is never found in
        // one, as it is never in its text.
        let escaped_texts: Vec<String> = ac_texts.iter().map(|t| json::escape(t)).collect();
        let escaped_literals = if escaped_texts.iter().zip(&ac_texts).all(|(e, t)| e == t) {
            None
        } else {
            let texts: Vec<&str> = escaped_texts.iter().map(String::as_str).collect();
            Some(Literals::new(&ac_ids, &texts))
        };
        let raw_ok = text_literals.plain.is_empty()
            && escaped_literals.as_ref().is_none_or(|l| l.plain.is_empty());

        // Candidates: a pattern is evaluated only if it can match given the literals found.
        let mut triggers = vec![Vec::new(); texts.len()];
        let mut unconditional = BitSet::new(patterns.len());
        let mut json_with_required = BitSet::new(patterns.len());
        let mut needs_text = BitSet::new(patterns.len());
        for (i, p) in patterns.iter().enumerate() {
            let m = p.matcher();
            if matches!(m, Matcher::Regex(_) | Matcher::Json(_) | Matcher::Space(_)) {
                needs_text.insert(i);
            }
            match m {
                // With no literal present, a term pattern's verdict is fixed: if it is false, a
                // match needs one of its literals.
                Matcher::Terms(t) if !t.matches(|_| false) => {
                    for &g in &literal_ids[i] {
                        triggers[g].push(i);
                    }
                }
                Matcher::Json(_) | Matcher::Space(_) if !required[i].is_empty() => {
                    // Every required literal must occur: any one of them triggers.
                    triggers[required[i][0]].push(i);
                    if matches!(m, Matcher::Json(_)) {
                        json_with_required.insert(i);
                    }
                }
                _ => unconditional.insert(i),
            }
        }
        for t in &mut triggers {
            t.dedup();
        }
        FilterSet {
            patterns,
            literal_ids,
            required,
            json_required,
            text_literals,
            escaped_literals,
            raw_ok,
            always,
            literal_count: texts.len(),
            triggers,
            unconditional,
            json_with_required,
            needs_text,
            any_json,
            any_space,
        }
    }

    /// Number of filters.
    pub fn len(&self) -> usize {
        self.patterns.len()
    }

    /// Whether the set has no filters.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Filter `index` (panics if out of range, like slice indexing).
    pub fn pattern(&self, index: usize) -> &Pattern {
        &self.patterns[index]
    }

    /// Working memory sized for this set.
    pub fn scratch(&self) -> Scratch {
        Scratch {
            found: BitSet::new(self.literal_count),
            candidates: BitSet::new(self.patterns.len()),
            text: String::new(),
            fields: Vec::with_capacity(32),
            json: None,
            backslash: false,
        }
    }

    /// Evaluates every filter on one message; calls `on_match(i, &captures)` for each matching
    /// filter `i`, in increasing `i`.
    pub fn eval<F: FnMut(usize, &Captures<'_>)>(
        &self,
        message: &str,
        scratch: &mut Scratch,
        on_match: F,
    ) {
        self.find_literals(message.as_bytes(), false, scratch);
        scratch.backslash =
            self.json_required && memchr::memchr(b'\\', message.as_bytes()).is_some();
        self.candidates(scratch);
        self.eval_candidates(message, scratch, on_match);
    }

    /// The rest of [`eval`](Self::eval) once `scratch.candidates` is set (from the literals of
    /// this message, found in it or in its escaped form).
    fn eval_candidates<F: FnMut(usize, &Captures<'_>)>(
        &self,
        message: &str,
        scratch: &mut Scratch,
        mut on_match: F,
    ) {
        self.prepare_text(message, scratch);
        let scratch = &*scratch;
        for i in scratch.candidates.iter() {
            let Some(p) = self.patterns.get(i) else {
                break;
            };
            let inner = match p.matcher() {
                Matcher::MatchAll => Some(CapInner::Empty),
                Matcher::Regex(r) => r.is_match(message).then_some(CapInner::Empty),
                Matcher::Terms(t) => self.terms_match(i, t, scratch).then_some(CapInner::Empty),
                Matcher::Json(m) => match &scratch.json {
                    Some(root) if m.matches(root) => Some(CapInner::Json { root }),
                    _ => None,
                },
                Matcher::Space(m) => {
                    let fields = scratch.fields.as_slice();
                    match m.layout(fields.len()) {
                        Some(layout) if m.matches(layout, |r| covered_text(message, fields, r)) => {
                            Some(CapInner::Space { fields, m, layout })
                        }
                        _ => None,
                    }
                }
            };
            if let Some(inner) = inner {
                on_match(
                    i,
                    &Captures {
                        message: CapMessage::Text(message),
                        pattern: p,
                        inner,
                    },
                );
            }
        }
    }

    /// Evaluates every filter on a message given as escaped JSON string content, with the same
    /// results as [`eval`](Self::eval) on the unescaped message.
    ///
    /// When no filter needs more than its literals (term patterns), the literals are searched in
    /// the escaped text itself and the message is unescaped only for a match; otherwise it is
    /// unescaped into the scratch space and evaluated as text.
    pub fn eval_escaped<F: FnMut(usize, &Captures<'_>)>(
        &self,
        message: EscapedStr<'_>,
        scratch: &mut Scratch,
        mut on_match: F,
    ) {
        let raw = message.as_raw();
        if self.raw_ok {
            self.find_literals(raw.as_bytes(), true, scratch);
            scratch.backslash = self.json_required && message.contains_backslash();
            self.candidates(scratch);
            if !scratch.candidates.intersects(&self.needs_text) {
                // The text is unescaped only if a caller asks a match for it.
                let unescaped = OnceCell::new();
                for i in scratch.candidates.iter() {
                    let Some(p) = self.patterns.get(i) else {
                        break;
                    };
                    let hit = match p.matcher() {
                        Matcher::MatchAll => true,
                        Matcher::Terms(t) => self.terms_match(i, t, scratch),
                        Matcher::Regex(_) | Matcher::Json(_) | Matcher::Space(_) => false,
                    };
                    if hit {
                        on_match(
                            i,
                            &Captures {
                                message: CapMessage::Escaped(message, &unescaped),
                                pattern: p,
                                inner: CapInner::Empty,
                            },
                        );
                    }
                }
                return;
            }
        }
        // The message is unescaped into the scratch space (taken out while it is borrowed).
        let mut text = std::mem::take(&mut scratch.text);
        text.clear();
        message.unescape_into(&mut text);
        if self.raw_ok {
            // The literals found in the escaped text are those of the text: only the text work
            // (JSON, fields, regex) remains.
            self.eval_candidates(&text, scratch, on_match);
        } else {
            self.eval(&text, scratch, on_match);
        }
        scratch.text = text;
    }

    fn terms_match(&self, i: usize, t: &super::compile::TermsMatcher, s: &Scratch) -> bool {
        let ids = &self.literal_ids[i];
        t.matches(|l| ids.get(l).is_some_and(|&g| s.found.contains(g)))
    }

    /// Sets `s.found` to the literals occurring in `hay`. With `escaped`, `hay` is escaped JSON
    /// string content with two-byte escapes only, and the literals are searched in their escaped
    /// form: a literal occurs in the unescaped text exactly where its escaped form occurs in the
    /// escaped text starting outside an escape sequence.
    fn find_literals(&self, hay: &[u8], escaped: bool, s: &mut Scratch) {
        s.found.reset(self.literal_count);
        for &id in &self.always {
            s.found.insert(id);
        }
        let literals = match (escaped, &self.escaped_literals) {
            (true, Some(l)) => l,
            _ => &self.text_literals,
        };
        literals.find(hay, escaped, &mut s.found);
    }

    /// Sets `s.candidates` from `s.found` and `s.backslash`: the patterns the prefilter lets through.
    fn candidates(&self, s: &mut Scratch) {
        s.candidates.copy_from(&self.unconditional);
        if s.backslash {
            s.candidates.union_with(&self.json_with_required);
        }
        for g in s.found.iter() {
            for &i in self.triggers.get(g).map_or(&[][..], Vec::as_slice) {
                if self.may_match(i, s) {
                    s.candidates.insert(i);
                }
            }
        }
    }

    /// The shared text work: parse the message as JSON and split it into fields, each only if a
    /// candidate needs it.
    fn prepare_text(&self, message: &str, s: &mut Scratch) {
        s.json = None;
        if self.any_json
            && message.trim_start().starts_with('{')
            && self.wanted(s, |m| matches!(m, Matcher::Json(_)))
        {
            // serde_json stops at its recursion limit (128) with an error: no match, no overflow.
            s.json = serde_json::from_str::<Json>(message).ok();
        }
        s.fields.clear();
        if self.any_space && self.wanted(s, |m| matches!(m, Matcher::Space(_))) {
            split_fields(message, &mut s.fields);
        }
    }

    /// Whether some candidate pattern is of the given kind.
    fn wanted(&self, s: &Scratch, kind: impl Fn(&Matcher) -> bool) -> bool {
        s.candidates
            .iter()
            .any(|i| self.patterns.get(i).is_some_and(|p| kind(p.matcher())))
    }

    /// The prefilter: false only if pattern `i` cannot match this event.
    fn may_match(&self, i: usize, s: &Scratch) -> bool {
        let Some(req) = self.required.get(i) else {
            return true;
        };
        if req.is_empty() {
            return true;
        }
        if s.backslash && matches!(self.patterns[i].matcher(), Matcher::Json(_)) {
            return true;
        }
        req.iter().all(|&g| s.found.contains(g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(patterns: &[&str]) -> FilterSet {
        FilterSet::new(patterns.iter().map(|p| Pattern::parse(p).unwrap()))
    }

    #[test]
    fn the_prefilter_evaluates_no_filter_whose_literals_are_absent() {
        let set = set(&[
            "ERROR",
            "{ $.level = \"ERROR\" }",
            "[level = \"ERROR\", ...]",
        ]);
        assert_eq!((set.len(), set.is_empty()), (3, false));
        assert_eq!(set.pattern(1).source(), "{ $.level = \"ERROR\" }");
        let none = FilterSet::new([]);
        assert_eq!((none.len(), none.is_empty()), (0, true));
        let mut scratch = set.scratch();
        let mut hits = Vec::new();
        set.eval(r#"{"level":"INFO"}"#, &mut scratch, |i, _| hits.push(i));
        assert!(hits.is_empty());
        // No filter was a candidate, so the message was neither parsed nor split.
        assert_eq!(scratch.candidates.iter().count(), 0);
        assert!(scratch.json.is_none());
        assert!(scratch.fields.is_empty());
        // The same through the escaped path (the JSON's quotes escaped, no backslash in its text).
        let escaped = EscapedStr::new(r#"{\"level\":\"INFO\"}"#).unwrap();
        set.eval_escaped(escaped, &mut scratch, |i, _| hits.push(i));
        assert!(hits.is_empty());
        assert_eq!(scratch.candidates.iter().count(), 0);
        // With the literal present, all three are candidates and the JSON filter matches.
        set.eval(r#"{"level":"ERROR"}"#, &mut scratch, |i, _| hits.push(i));
        assert_eq!(scratch.candidates.iter().collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(hits, [0, 1]);
    }

    #[test]
    fn a_field_position_past_the_message_s_fields_has_no_value() {
        // With `...` any position is a valid reference; one past the fields reads nothing.
        let p = Pattern::parse("[a, ...]").unwrap();
        let refs: Vec<_> = ["$1", "$2", "$3", "$9"]
            .iter()
            .map(|r| p.field_ref(r).unwrap())
            .collect();
        let set = FilterSet::new([p]);
        let mut scratch = set.scratch();
        let mut got = Vec::new();
        set.eval("x y", &mut scratch, |_, c| {
            got = refs
                .iter()
                .map(|r| c.get(r).and_then(|v| v.to_text().map(|t| t.into_owned())))
                .collect();
        });
        assert_eq!(got, [Some("x".into()), Some("y".into()), None, None]);
    }

    #[test]
    fn escaped_messages_are_searched_for_literals_that_escaping_changes() {
        // Every literal of the first set changes when escaped (a tab, a quote): the escaped message
        // must be searched for the escaped forms. The second also has a literal escaping keeps.
        let cases: [(&[&str], &str, &[usize]); 5] = [
            (&["\"a\tb\"", "\"q\\\"\""], r"x a\tb y", &[0]),
            (&["\"a\tb\"", "\"q\\\"\""], r#"x q\" y"#, &[1]),
            (&["\"a\tb\"", "\"q\\\"\""], r"x a b y", &[]),
            (
                &["{ $.msg = \"say \\\"hi\\\"\" }"],
                r#"{\"msg\":\"say \\\"hi\\\"\"}"#,
                &[0],
            ),
            (
                &["{ $.msg = \"say \\\"hi\\\"\" }"],
                r#"{\"msg\":\"say hi\"}"#,
                &[],
            ),
        ];
        for (patterns, raw, want) in cases {
            let set = set(patterns);
            let mut scratch = set.scratch();
            let mut hits = Vec::new();
            set.eval_escaped(EscapedStr::new(raw).unwrap(), &mut scratch, |i, _| {
                hits.push(i)
            });
            assert_eq!(hits, want, "{patterns:?} on {raw}");
        }
    }
}
