//! The reference backend: byte by byte (the compiler vectorises what it can), used by the tests
//! only; and SWAR for short tails.

use super::{is_special, Masks, BLOCK16, TWO_BYTE_LETTERS};

/// The masks of 16 bytes, one predicate per mask.
#[cfg_attr(not(test), allow(dead_code))]
#[inline(always)]
pub(super) fn masks16(c: &[u8; BLOCK16]) -> Masks<u16> {
    let bits = |f: &dyn Fn(u8) -> bool| {
        c.iter()
            .enumerate()
            .fold(0u16, |m, (i, &c)| m | (u16::from(f(c)) << i))
    };
    Masks {
        quote: bits(&|c| c == b'"'),
        backslash: bits(&|c| c == b'\\'),
        control: bits(&|c| c < 0x20),
        two_byte: bits(&|c| TWO_BYTE_LETTERS.contains(&c)),
    }
}

/// Index of the first [special](is_special) byte at or after `i`. Eight bytes at a time (SWAR):
/// for a byte `x` of the word, `(x - 1) & !x & 0x80` is set when `x` is zero and
/// `(x - 0x20) & !x & 0x80` when `x < 0x20`; borrows only run upwards, so the lowest flagged byte
/// is the first match.
#[inline]
pub(super) fn find_special_swar(b: &[u8], mut i: usize) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const QUOTE: u64 = LO * b'"' as u64;
    const BACKSLASH: u64 = LO * b'\\' as u64;
    const SPACE: u64 = LO * 0x20;
    while let Some(word) = b.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let x = u64::from_le_bytes(w);
        let q = x ^ QUOTE;
        let s = x ^ BACKSLASH;
        let m =
            ((q.wrapping_sub(LO) & !q) | (s.wrapping_sub(LO) & !s) | (x.wrapping_sub(SPACE) & !x))
                & HI;
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if is_special(c) {
            return Some(i);
        }
        i += 1;
    }
    None
}
