//! Finding the literals of a filter set in a message: one searcher for all of them, chosen by
//! their number (`memmem` per literal for a few, Teddy groups where the CPU has them, an
//! Aho-Corasick automaton otherwise), in text or in escaped JSON string content.

use super::bits::BitSet;
use crate::json::{in_escape, is_two_byte_escape_letter};
use aho_corasick::{packed, AhoCorasick, Input, MatchKind, Span};

/// One set of literals and its searchers.
#[derive(Debug)]
pub(super) struct Literals {
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
    pub(super) plain: Vec<(usize, String)>,
    /// The literals in groups of at most [`TEDDY_GROUP`], each with a SIMD searcher (Teddy) and,
    /// per literal, the global ids of the literals of the group that are its prefixes; when the
    /// CPU has no Teddy, empty (the automaton serves).
    groups: Vec<(packed::Searcher, Vec<Vec<usize>>)>,
}

impl Literals {
    pub(super) fn new(ids: &[usize], texts: &[&str]) -> Literals {
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
                t.as_bytes()
                    .first()
                    .is_some_and(|&b| is_two_byte_escape_letter(b))
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
    pub(super) fn find(&self, hay: &[u8], escaped: bool, found: &mut BitSet) {
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
                    found.insert(*id);
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
                            found.insert(id);
                        }
                    }
                }
            }
        }
        for (id, t) in &self.plain {
            if memchr::memmem::find(hay, t.as_bytes()).is_some() {
                found.insert(*id);
            }
        }
    }

    /// [`find`](Self::find) with the group searchers. False (and `found` to be completed another
    /// way) when a group meets more than [`MAX_LITERAL_RESTARTS`] starts.
    fn find_in_groups(&self, hay: &[u8], escaped: bool, found: &mut BitSet) -> bool {
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
        found: &mut BitSet,
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
                    found.insert(id);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The literals found in `text` (escaped with `json::escape` when `escaped`), as ids.
    fn found(l: &Literals, n: usize, text: &str, escaped: bool) -> Vec<usize> {
        let hay = if escaped {
            crate::json::escape(text)
        } else {
            text.to_owned()
        };
        let mut f = BitSet::new(n);
        l.find(hay.as_bytes(), escaped, &mut f);
        f.iter().collect()
    }

    #[test]
    fn every_searcher_finds_the_literals_of_the_text_and_none_inside_an_escape() {
        // More than a Teddy group: the second group's literals start with escape letters (`n`,
        // `t`, `r`, `b`, `f`), the first group's do not.
        let mut texts: Vec<String> = (0..TEDDY_GROUP).map(|i| format!("x{i:02}")).collect();
        texts.extend(["nice", "tab", "ready", "bell", "feed", "x0"].map(String::from));
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let ids: Vec<usize> = (0..texts.len()).collect();
        let with_groups = Literals::new(&ids, &refs);
        let mut automaton_only = Literals::new(&ids, &refs);
        assert!(!with_groups.groups.is_empty() || !cfg!(target_arch = "x86_64"));
        automaton_only.groups.clear();
        let many_starts = "x00 ".repeat(2 * MAX_LITERAL_RESTARTS) + "\tab";
        let messages = [
            "a\nice\tab\ready\u{8}ell\u{c}eed x03",
            "nice tab ready bell feed",
            "x15x0 \\nice",
            many_starts.as_str(),
        ];
        for text in messages {
            let want: Vec<usize> = ids
                .iter()
                .copied()
                .filter(|&i| text.contains(refs[i]))
                .collect();
            for (l, name) in [(&with_groups, "groups"), (&automaton_only, "automaton")] {
                for escaped in [false, true] {
                    assert_eq!(
                        found(l, ids.len(), text, escaped),
                        want,
                        "{name}, escaped {escaped}: {text:?}"
                    );
                }
            }
        }
    }
}
