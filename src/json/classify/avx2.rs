//! The AVX2 backend: the masks of a 64-byte block from two 32-byte halves. Callers check at run
//! time that the CPU has AVX2.

use super::{Masks, BLOCK64, TWO_BYTE_LETTERS};

/// The masks of a 64-byte block. Callable only where AVX2 is enabled: from a function with
/// `#[target_feature(enable = "avx2")]`, or in `unsafe` after `is_x86_feature_detected!("avx2")`.
#[target_feature(enable = "avx2")]
#[inline]
pub(crate) fn masks64(block: &[u8; BLOCK64]) -> Masks<u64> {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_min_epu8, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8, _mm256_set_epi64x, _mm256_setzero_si256,
    };
    let word = |k: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&block[8 * k..8 * k + 8]);
        i64::from_le_bytes(w)
    };
    let half = |v: __m256i| {
        let eq = |b: u8| _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b as i8));
        let quote = eq(b'"');
        let backslash = eq(b'\\');
        // Unsigned v <= 0x1f: min(v, 0x1f) == v.
        let control = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v);
        let two_byte = TWO_BYTE_LETTERS
            .iter()
            .fold(_mm256_setzero_si256(), |m, &c| _mm256_or_si256(m, eq(c)));
        let bits = |m: __m256i| u64::from(_mm256_movemask_epi8(m) as u32);
        Masks {
            quote: bits(quote),
            backslash: bits(backslash),
            control: bits(control),
            two_byte: bits(two_byte),
        }
    };
    let lo = half(_mm256_set_epi64x(word(3), word(2), word(1), word(0)));
    let hi = half(_mm256_set_epi64x(word(7), word(6), word(5), word(4)));
    Masks {
        quote: lo.quote | hi.quote << 32,
        backslash: lo.backslash | hi.backslash << 32,
        control: lo.control | hi.control << 32,
        two_byte: lo.two_byte | hi.two_byte << 32,
    }
}
