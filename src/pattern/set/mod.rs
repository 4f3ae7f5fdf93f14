//! Evaluating many filters on one event with shared work.

use super::ast::Step;
use super::compile::{resolve, Layout, Matcher, SpaceMatcher};
use super::error::{PatternError, PatternErrorKind};
use super::fields::{covered_text, split_fields};
use super::{semantics, FieldRef, Pattern, PatternKind};
use crate::json::{self, EscapedStr};
use aho_corasick::{packed, AhoCorasick, Input, MatchKind, Span};
use serde_json::Value as Json;
use std::borrow::Cow;
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
    /// Patterns that are candidates whatever literals occur (bitset over patterns).
    unconditional: Vec<u64>,
    /// JSON patterns with required literals: candidates whenever the message has a backslash.
    json_with_required: Vec<u64>,
    /// Patterns that need the message text beyond its literals: regex, JSON, space-delimited.
    needs_text: Vec<u64>,
    /// Global ids of the empty literal, which occurs in every message.
    always: Vec<usize>,
    literal_count: usize,
    any_json: bool,
    any_space: bool,
    /// Finds `\\` (an unescaped backslash) in escaped text; built once, not per message.
    escaped_backslash: memchr::memmem::Finder<'static>,
}

/// Reusable working memory for [`FilterSet::eval`]; make one per thread with
/// [`FilterSet::scratch`].
#[derive(Debug, Default)]
pub struct Scratch {
    found: Vec<u64>,
    /// Candidate patterns of the current event (bitset).
    candidates: Vec<u64>,
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
        let words = patterns.len().div_ceil(64);
        let mut triggers = vec![Vec::new(); texts.len()];
        let mut unconditional = vec![0; words];
        let mut json_with_required = vec![0; words];
        let mut needs_text = vec![0; words];
        for (i, p) in patterns.iter().enumerate() {
            let m = p.matcher();
            if matches!(m, Matcher::Regex(_) | Matcher::Json(_) | Matcher::Space(_)) {
                set_bit(&mut needs_text, i);
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
                        set_bit(&mut json_with_required, i);
                    }
                }
                _ => set_bit(&mut unconditional, i),
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
            escaped_backslash: memchr::memmem::Finder::new(b"\\\\").into_owned(),
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
            found: vec![0; self.literal_count.div_ceil(64)],
            candidates: vec![0; self.patterns.len().div_ceil(64)],
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
        for i in BitIter::new(&scratch.candidates) {
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
            // In escaped text an unescaped backslash is written `\\`.
            scratch.backslash =
                self.json_required && self.escaped_backslash.find(raw.as_bytes()).is_some();
            self.candidates(scratch);
            let text_needed = scratch
                .candidates
                .iter()
                .zip(&self.needs_text)
                .any(|(c, n)| c & n != 0);
            if !text_needed {
                // The text is unescaped only if a caller asks a match for it.
                let unescaped = OnceCell::new();
                for i in BitIter::new(&scratch.candidates) {
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
        t.matches(|l| ids.get(l).is_some_and(|&g| bit(&s.found, g)))
    }

    /// Sets `s.found` to the literals occurring in `hay`. With `escaped`, `hay` is escaped JSON
    /// string content with two-byte escapes only, and the literals are searched in their escaped
    /// form: a literal occurs in the unescaped text exactly where its escaped form occurs in the
    /// escaped text starting outside an escape sequence.
    fn find_literals(&self, hay: &[u8], escaped: bool, s: &mut Scratch) {
        let words = self.literal_count.div_ceil(64);
        s.found.clear();
        s.found.resize(words, 0);
        for &id in &self.always {
            set_bit(&mut s.found, id);
        }
        let literals = match (escaped, &self.escaped_literals) {
            (true, Some(l)) => l,
            _ => &self.text_literals,
        };
        literals.find(hay, escaped, &mut s.found);
    }

    /// Sets `s.candidates` from `s.found` and `s.backslash`: the patterns the prefilter lets through.
    fn candidates(&self, s: &mut Scratch) {
        s.candidates.clear();
        s.candidates.extend_from_slice(&self.unconditional);
        if s.backslash {
            for (c, j) in s.candidates.iter_mut().zip(&self.json_with_required) {
                *c |= j;
            }
        }
        for g in BitIter::new(&s.found) {
            for &i in self.triggers.get(g).map_or(&[][..], Vec::as_slice) {
                if self.may_match(i, s) {
                    set_bit(&mut s.candidates, i);
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
        BitIter::new(&s.candidates).any(|i| self.patterns.get(i).is_some_and(|p| kind(p.matcher())))
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
        req.iter().all(|&g| bit(&s.found, g))
    }
}

/// One set of literals and its searchers.
#[derive(Debug)]
struct Literals {
    /// The automaton (leftmost-longest: one match per start position, see [`Literals::find`]),
    /// for more than [`FEW_LITERALS`]; `ids[k]` is the global literal id of its pattern k.
    ac: Option<AhoCorasick>,
    /// The same literals for an overlapping search, used when a message has many literal starts.
    overlapping: Option<AhoCorasick>,
    /// When there are at most [`FEW_LITERALS`]: a substring searcher per literal (one SIMD pass
    /// each beats the automaton's and Teddy's overhead), with its global id.
    few: Vec<(memchr::memmem::Finder<'static>, usize)>,
    ids: Vec<usize>,
    /// Per automaton pattern k: the global ids of the literals that are prefixes of it (itself
    /// included): they all occur where it does.
    prefixes: Vec<Vec<usize>>,
    /// Per automaton pattern k: whether its first byte can be inside an escape sequence (`\`,
    /// `"` `n` `t` `r` `b` `f`), so that in escaped text an occurrence must be checked.
    risky: Vec<bool>,
    /// Fallback if the automata (needed for more than [`FEW_LITERALS`]) could not be built:
    /// (global id, text).
    plain: Vec<(usize, String)>,
    /// The literals in groups of at most [`TEDDY_GROUP`], each with a SIMD searcher (Teddy) and,
    /// per literal, the global ids of the literals of the group that are its prefixes; when the
    /// CPU has no Teddy, empty (the automaton serves).
    groups: Vec<(packed::Searcher, Vec<Vec<usize>>)>,
}

impl Literals {
    fn new(ids: &[usize], texts: &[&str]) -> Literals {
        let build = |kind: MatchKind| {
            AhoCorasick::builder()
                .match_kind(kind)
                .build(texts)
                .map_err(|e| tracing::warn!(error = %e, "literal automaton not built; searching terms one by one"))
                .ok()
        };
        // A few literals are searched one by one: no automaton (nor Teddy) is built for them.
        let one_by_one = texts.len() <= FEW_LITERALS;
        let (ac, overlapping) = if one_by_one {
            (None, None)
        } else {
            match (
                build(MatchKind::LeftmostLongest),
                build(MatchKind::Standard),
            ) {
                (Some(a), Some(b)) => (Some(a), Some(b)),
                _ => (None, None),
            }
        };
        let plain = if !one_by_one && ac.is_none() {
            ids.iter()
                .zip(texts)
                .map(|(&id, t)| (id, (*t).to_owned()))
                .collect()
        } else {
            Vec::new()
        };
        let few = if one_by_one {
            texts
                .iter()
                .zip(ids)
                .map(|(t, &id)| (memchr::memmem::Finder::new(t.as_bytes()).into_owned(), id))
                .collect()
        } else {
            Vec::new()
        };
        let prefixes = prefix_ids(ids, texts);
        let risky = texts
            .iter()
            .map(|t| {
                matches!(
                    t.as_bytes().first(),
                    Some(b'\\' | b'"' | b'n' | b't' | b'r' | b'b' | b'f')
                )
            })
            .collect();
        let mut groups = Vec::new();
        if ac.is_some() && texts.len() > 1 {
            for (gi, gt) in ids.chunks(TEDDY_GROUP).zip(texts.chunks(TEDDY_GROUP)) {
                let searcher = packed::Config::new()
                    .match_kind(packed::MatchKind::LeftmostLongest)
                    .builder()
                    .extend(gt)
                    .build();
                let Some(searcher) = searcher else {
                    groups.clear();
                    break;
                };
                groups.push((searcher, prefix_ids(gi, gt)));
            }
        }
        Literals {
            ac,
            overlapping,
            few,
            ids: ids.to_vec(),
            prefixes,
            risky,
            plain,
            groups,
        }
    }

    /// Sets in `found` the bits of the literals occurring in `hay` (with `escaped`, only
    /// occurrences that start outside an escape sequence count).
    fn find(&self, hay: &[u8], escaped: bool, found: &mut [u64]) {
        if !self.few.is_empty() {
            for (k, (finder, id)) in self.few.iter().enumerate() {
                let hit = if self.checked(escaped, k) {
                    // Overlapping search: an occurrence inside an escape sequence may hide one
                    // that starts within it (`tat` in `\tatat` at 1, inside `\t`, and at 3).
                    let mut pos = 0;
                    let mut hit = false;
                    while let Some(i) = hay.get(pos..).and_then(|h| finder.find(h)) {
                        if !in_escape(hay, pos + i) {
                            hit = true;
                            break;
                        }
                        pos += i + 1;
                    }
                    hit
                } else {
                    finder.find(hay).is_some()
                };
                if hit {
                    set_bit(found, *id);
                }
            }
        } else if !self.groups.is_empty() && self.find_in_groups(hay, escaped, found) {
            // Done by the SIMD searchers.
        } else if let (Some(ac), Some(over)) = (&self.ac, &self.overlapping) {
            let search = |pos: usize| {
                ac.find(Input::new(hay).span(pos..hay.len()))
                    .map(|m| (m.pattern().as_usize(), m.start()))
            };
            if !self.restarting(hay, escaped, found, 0, &self.prefixes, search) {
                // Short, frequent literals: one overlapping pass finishes the message.
                for m in over.find_overlapping_iter(hay) {
                    let k = m.pattern().as_usize();
                    if !self.checked(escaped, k) || !in_escape(hay, m.start()) {
                        if let Some(&id) = self.ids.get(k) {
                            set_bit(found, id);
                        }
                    }
                }
            }
        }
        for (id, t) in &self.plain {
            if memchr::memmem::find(hay, t.as_bytes()).is_some() {
                set_bit(found, *id);
            }
        }
    }

    /// [`find`](Self::find) with the group searchers. False (and `found` to be completed another
    /// way) when a group meets more than [`MAX_LITERAL_RESTARTS`] starts.
    fn find_in_groups(&self, hay: &[u8], escaped: bool, found: &mut [u64]) -> bool {
        let mut k0 = 0;
        for (searcher, prefixes) in &self.groups {
            let search = |pos: usize| {
                searcher
                    .find_in(hay, Span::from(pos..hay.len()))
                    .map(|m| (m.pattern().as_usize(), m.start()))
            };
            if !self.restarting(hay, escaped, found, k0, prefixes, search) {
                return false;
            }
            k0 += prefixes.len();
        }
        true
    }

    /// A leftmost-longest search (`search(pos)`: the pattern index and start of the first match
    /// at or after `pos`) restarted one byte after each match start: it visits every position
    /// where a literal starts, with the longest literal there, whose `prefixes` are the literals
    /// starting there. `k0` is the index in this set of the searcher's pattern 0. False when more
    /// than [`MAX_LITERAL_RESTARTS`] starts were met (`found` then holds only some literals).
    fn restarting(
        &self,
        hay: &[u8],
        escaped: bool,
        found: &mut [u64],
        k0: usize,
        prefixes: &[Vec<usize>],
        search: impl Fn(usize) -> Option<(usize, usize)>,
    ) -> bool {
        let mut pos = 0;
        for _ in 0..MAX_LITERAL_RESTARTS {
            let Some((k, start)) = search(pos) else {
                return true;
            };
            if !self.checked(escaped, k0 + k) || !in_escape(hay, start) {
                for &id in prefixes.get(k).map_or(&[][..], Vec::as_slice) {
                    set_bit(found, id);
                }
            }
            pos = start + 1;
            if pos >= hay.len() {
                return true;
            }
        }
        false
    }

    /// Whether an occurrence of pattern `k` must be checked not to start inside an escape
    /// sequence: in escaped text, for a literal whose first byte can be part of one.
    fn checked(&self, escaped: bool, k: usize) -> bool {
        escaped && self.risky.get(k).copied().unwrap_or(true)
    }
}

/// Up to this many literals, each is searched on its own with `memmem` (measured: two `memmem`
/// passes beat one Teddy pass; see `bench/NOTES.md`).
const FEW_LITERALS: usize = 2;

/// Literals per SIMD searcher: Teddy stays fast up to about this many.
const TEDDY_GROUP: usize = 16;

/// Per literal of `texts`: the global ids (`ids`, in the same order) of the literals of `texts`
/// that are prefixes of it, itself included.
fn prefix_ids(ids: &[usize], texts: &[&str]) -> Vec<Vec<usize>> {
    texts
        .iter()
        .map(|t| {
            texts
                .iter()
                .zip(ids)
                .filter(|(p, _)| t.starts_with(**p))
                .map(|(_, &id)| id)
                .collect()
        })
        .collect()
}

/// Literal starts per message after which [`Literals::find`] switches to one overlapping
/// pass.
const MAX_LITERAL_RESTARTS: usize = 32;

/// Whether `start` is inside an escape sequence of escaped JSON string content: it follows an odd
/// run of backslashes.
fn in_escape(hay: &[u8], start: usize) -> bool {
    hay.get(..start)
        .map_or(0, |b| b.iter().rev().take_while(|&&c| c == b'\\').count())
        % 2
        == 1
}

/// The indices of the set bits of a bitset, in increasing order.
struct BitIter<'a> {
    words: &'a [u64],
    word: usize,
    cur: u64,
}

impl<'a> BitIter<'a> {
    fn new(words: &'a [u64]) -> Self {
        BitIter {
            words,
            word: 0,
            cur: words.first().copied().unwrap_or(0),
        }
    }
}

impl Iterator for BitIter<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        while self.cur == 0 {
            self.word += 1;
            self.cur = *self.words.get(self.word)?;
        }
        let b = self.cur.trailing_zeros() as usize;
        self.cur &= self.cur - 1;
        Some(self.word * 64 + b)
    }
}

fn bit(v: &[u64], i: usize) -> bool {
    v.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
}

fn set_bit(v: &mut [u64], i: usize) {
    if let Some(w) = v.get_mut(i / 64) {
        *w |= 1 << (i % 64);
    }
}

/// What a matching filter saw in the event.
#[derive(Debug)]
pub struct Captures<'a> {
    message: CapMessage<'a>,
    pattern: &'a Pattern,
    inner: CapInner<'a>,
}

/// The message of a match: text, or escaped text unescaped on first use.
#[derive(Debug)]
enum CapMessage<'a> {
    Text(&'a str),
    Escaped(EscapedStr<'a>, &'a OnceCell<String>),
}

#[derive(Debug)]
enum CapInner<'a> {
    Empty,
    Json {
        root: &'a Json,
    },
    Space {
        fields: &'a [(usize, usize)],
        m: &'a SpaceMatcher,
        layout: Layout,
    },
}

/// A value taken from an event.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue<'a> {
    /// Text (a space-delimited field, a JSON string).
    Str(Cow<'a, str>),
    /// A JSON number.
    Number(f64),
    /// A JSON boolean.
    Bool(bool),
    /// JSON `null`.
    Null,
    /// A JSON object or array.
    Composite,
}

impl FieldValue<'_> {
    /// The value as a number: numbers, and strings that parse as a finite number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FieldValue::Number(n) => Some(*n),
            FieldValue::Str(s) => semantics::parse_number(s.trim()),
            _ => None,
        }
    }

    /// The value as a dimension value; None for objects and arrays.
    pub fn to_text(&self) -> Option<Cow<'_, str>> {
        Some(match self {
            FieldValue::Str(s) => Cow::Borrowed(s.as_ref()),
            FieldValue::Number(n) => Cow::Owned(n.to_string()),
            FieldValue::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
            FieldValue::Null => Cow::Borrowed("null"),
            FieldValue::Composite => return None,
        })
    }
}

fn json_value(node: &Json) -> FieldValue<'_> {
    match node {
        Json::String(s) => FieldValue::Str(Cow::Borrowed(s)),
        Json::Number(n) => n.as_f64().map_or(FieldValue::Composite, FieldValue::Number),
        Json::Bool(b) => FieldValue::Bool(*b),
        Json::Null => FieldValue::Null,
        Json::Array(_) | Json::Object(_) => FieldValue::Composite,
    }
}

impl Captures<'_> {
    /// The message this match is about.
    pub fn message(&self) -> &str {
        match &self.message {
            CapMessage::Text(t) => t,
            CapMessage::Escaped(e, cell) => cell.get_or_init(|| e.unescape()),
        }
    }

    /// The pattern that matched.
    pub fn pattern(&self) -> &Pattern {
        self.pattern
    }

    /// The value a FieldRef (made by the pattern of the filter being reported) points at in this
    /// event.
    pub fn get(&self, r: &FieldRef) -> Option<FieldValue<'_>> {
        match (&self.inner, &r.target) {
            (CapInner::Json { root, .. }, RefTarget::Json(steps)) => {
                resolve(root, steps).map(json_value)
            }
            (CapInner::Space { fields, layout, .. }, RefTarget::SpaceSpec(spec)) => {
                self.covered(fields, layout.fields_of(*spec))
            }
            // Without `...` positions are specs (the last one may take several fields).
            (CapInner::Space { fields, m, layout }, RefTarget::SpacePos(i)) => {
                if m.ellipsis.is_none() {
                    self.covered(fields, layout.fields_of(*i))
                } else {
                    self.covered(fields, *i..*i + 1)
                }
            }
            _ => None,
        }
    }

    fn covered(
        &self,
        fields: &[(usize, usize)],
        range: std::ops::Range<usize>,
    ) -> Option<FieldValue<'_>> {
        if range.is_empty() || range.end > fields.len() {
            return None;
        }
        Some(FieldValue::Str(Cow::Borrowed(covered_text(
            self.message(),
            fields,
            range,
        ))))
    }

    /// The extractedValues as TestMetricFilter would report them (allocates; for CLI/tests): the
    /// fields of a space-delimited pattern, nothing for other kinds.
    pub fn extracted(&self) -> Vec<(String, String)> {
        match &self.inner {
            CapInner::Empty => Vec::new(),
            // Only space-delimited patterns extract values (see
            // semantics::EXTRACTED_VALUES_ONLY_FOR_SPACE_DELIMITED).
            CapInner::Json { .. } => Vec::new(),
            CapInner::Space { fields, m, layout } if m.ellipsis.is_none() => (0..m.specs.len())
                .map(|j| {
                    let key = match m.specs.get(j).and_then(|s| s.name.as_deref()) {
                        Some(n) => format!("${n}"),
                        None => format!("${}", j + 1),
                    };
                    let text = covered_text(self.message(), fields, layout.fields_of(j));
                    (key, text.to_owned())
                })
                .collect(),
            CapInner::Space { fields, m, layout } => fields
                .iter()
                .enumerate()
                .map(|(i, &(a, b))| {
                    let key = match layout
                        .spec_of(i)
                        .and_then(|s| m.specs.get(s))
                        .and_then(|s| s.name.as_deref())
                    {
                        Some(n) => format!("${n}"),
                        None => format!("${}", i + 1),
                    };
                    (key, self.message().get(a..b).unwrap_or("").to_owned())
                })
                .collect(),
        }
    }
}

/// What a [`FieldRef`] points at.
#[derive(Clone, Debug)]
pub(crate) enum RefTarget {
    Json(Vec<Step>),
    SpaceSpec(usize),
    /// 0-based field position.
    SpacePos(usize),
}

pub(crate) fn field_ref(p: &Pattern, reference: &str) -> Result<FieldRef, PatternError> {
    let err = |msg: String| {
        Err(PatternError::new(
            PatternErrorKind::FieldRef(msg),
            0..reference.len(),
            reference,
        ))
    };
    let target = match p.matcher() {
        Matcher::Json(_) => {
            if !reference.starts_with("$.") {
                return err(format!(
                    "a JSON pattern's values are referenced by a selector like $.field, not {reference:?}"
                ));
            }
            let steps = super::parser::parse_selector(reference)?;
            if steps.iter().any(Step::is_wildcard) {
                return err(format!(
                    "{reference} holds a wildcard and so may select many values; a metric value or dimension must select one"
                ));
            }
            RefTarget::Json(steps)
        }
        Matcher::Space(m) => {
            let Some(rest) = reference.strip_prefix('$') else {
                return err(format!(
                    "a space-delimited pattern's fields are referenced as $name or $N, not {reference:?}"
                ));
            };
            if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
                match rest.parse::<usize>() {
                    Ok(n) if n >= 1 && (m.ellipsis.is_some() || n <= m.specs.len()) => {
                        RefTarget::SpacePos(n - 1)
                    }
                    _ => {
                        return err(format!(
                        "{reference} is not a field position of this pattern (it has {} fields)",
                        m.specs.len()
                    ))
                    }
                }
            } else {
                match m.specs.iter().position(|s| s.name.as_deref() == Some(rest)) {
                    Some(i) => RefTarget::SpaceSpec(i),
                    None => {
                        return err(format!(
                            "the pattern has no field named {rest:?} (fields covered by '...' are referenced by position, $N)"
                        ))
                    }
                }
            }
        }
        _ => {
            let kind = match p.kind() {
                PatternKind::MatchAll => "match-all",
                PatternKind::Regex => "regex",
                _ => "term",
            };
            return err(format!(
                "{reference:?} refers to a field, but this is a {kind} pattern: only JSON and space-delimited patterns have fields"
            ));
        }
    };
    Ok(FieldRef {
        text: reference.to_owned(),
        target,
    })
}
