//! The SSE2 backend (x86-64 baseline): vector compares and byte masks.

use super::{Masks, BLOCK16, TWO_BYTE_LETTERS};

/// The masks of 16 bytes.
#[inline(always)]
pub(super) fn masks16(c: &[u8; BLOCK16]) -> Masks<u16> {
    // SAFETY: the function only needs SSE2, which this build enables (the module is compiled only
    // with `target_feature = "sse2"`, part of the x86-64 baseline).
    unsafe { masks16_sse2(c) }
}

#[target_feature(enable = "sse2")]
#[inline]
fn masks16_sse2(c: &[u8; BLOCK16]) -> Masks<u16> {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_set_epi64x, _mm_setzero_si128,
    };
    let (lo, hi) = c.split_at(8);
    let word = |h: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(h);
        i64::from_le_bytes(w)
    };
    let v = _mm_set_epi64x(word(hi), word(lo));
    let eq = |b: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(b as i8));
    let quote = eq(b'"');
    let backslash = eq(b'\\');
    // Unsigned v <= 0x1f: min(v, 0x1f) == v.
    let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
    let two_byte = TWO_BYTE_LETTERS
        .iter()
        .fold(_mm_setzero_si128(), |m, &c| _mm_or_si128(m, eq(c)));
    Masks {
        quote: _mm_movemask_epi8(quote) as u16,
        backslash: _mm_movemask_epi8(backslash) as u16,
        control: _mm_movemask_epi8(control) as u16,
        two_byte: _mm_movemask_epi8(two_byte) as u16,
    }
}
