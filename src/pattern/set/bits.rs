//! A fixed-size set of small indices (literal ids, pattern indices), one bit each.

/// A set of indices below the length it was sized for; indices past it are never members (adding
/// one does nothing), as slice `get` would treat them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    /// The empty set of indices `0..len`.
    pub(super) fn new(len: usize) -> BitSet {
        BitSet {
            words: vec![0; len.div_ceil(64)],
        }
    }

    /// Empties the set and sizes it for indices `0..len`, keeping its memory.
    pub(super) fn reset(&mut self, len: usize) {
        self.words.clear();
        self.words.resize(len.div_ceil(64), 0);
    }

    /// Makes the set a copy of `other`, keeping its memory.
    pub(super) fn copy_from(&mut self, other: &BitSet) {
        self.words.clear();
        self.words.extend_from_slice(&other.words);
    }

    pub(super) fn contains(&self, i: usize) -> bool {
        self.words
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    pub(super) fn insert(&mut self, i: usize) {
        if let Some(w) = self.words.get_mut(i / 64) {
            *w |= 1 << (i % 64);
        }
    }

    /// Adds the members of `other`.
    pub(super) fn union_with(&mut self, other: &BitSet) {
        for (w, o) in self.words.iter_mut().zip(&other.words) {
            *w |= o;
        }
    }

    /// Whether the two sets share a member.
    pub(super) fn intersects(&self, other: &BitSet) -> bool {
        self.words.iter().zip(&other.words).any(|(a, b)| a & b != 0)
    }

    /// The members, in increasing order.
    pub(super) fn iter(&self) -> Iter<'_> {
        Iter {
            words: &self.words,
            word: 0,
            cur: self.words.first().copied().unwrap_or(0),
        }
    }
}

/// The members of a [`BitSet`], in increasing order.
pub(super) struct Iter<'a> {
    words: &'a [u64],
    word: usize,
    cur: u64,
}

impl Iterator for Iter<'_> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_in_order_across_words() {
        let mut s = BitSet::new(200);
        for i in [199, 0, 64, 63, 130, 64] {
            s.insert(i);
        }
        assert_eq!(s.iter().collect::<Vec<_>>(), [0, 63, 64, 130, 199]);
        assert!(s.contains(130) && !s.contains(131));
        // Past the sized length: never a member.
        s.insert(256);
        assert!(!s.contains(256));
        assert_eq!(s.iter().count(), 5);
    }

    #[test]
    fn union_intersects_reset() {
        let (mut a, mut b) = (BitSet::new(100), BitSet::new(100));
        a.insert(3);
        b.insert(70);
        assert!(!a.intersects(&b));
        a.union_with(&b);
        assert!(a.intersects(&b));
        assert_eq!(a.iter().collect::<Vec<_>>(), [3, 70]);
        let mut c = BitSet::default();
        c.copy_from(&a);
        assert_eq!(c, a);
        a.reset(10);
        assert_eq!(a.iter().next(), None);
        assert_eq!(BitSet::new(0).iter().next(), None);
    }
}
