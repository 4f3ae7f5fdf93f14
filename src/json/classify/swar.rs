//! The fallback for targets with neither SSE2 nor NEON: eight bytes at a time in a `u64` (SWAR).
//!
//! Unlike the zero-byte test of `portable::find_special_swar`, which may also flag bytes after the
//! first match (borrows run upwards), every flag here is exact, as a full mask needs.

use super::{Masks, BLOCK16, TWO_BYTE_LETTERS};

const LO7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
const HI: u64 = 0x8080_8080_8080_8080;
const ONES: u64 = 0x0101_0101_0101_0101;

/// Bit 7 of each byte set when the byte is zero: `(v & 0x7f) + 0x7f` carries into bit 7 when a
/// low bit is set (never out of the byte), the `| v` adds bit 7 itself.
#[inline(always)]
fn zero_bytes(v: u64) -> u64 {
    !(((v & LO7) + LO7) | v) & HI
}

/// Bit 7 of each byte set when the byte equals `c`.
#[inline(always)]
fn eq(x: u64, c: u8) -> u64 {
    zero_bytes(x ^ (ONES * u64::from(c)))
}

/// Bit `i` for byte `i`, from a word whose bytes are `0x80` or `0`: `(m >> 7)` has bit `8i` for
/// byte `i`; the multiplier moves it to bit `56 + i`, and no two partial products meet.
#[inline(always)]
fn bits(m: u64) -> u16 {
    ((m >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u16
}

/// The masks of eight bytes (a little-endian word: byte `i` is bit `i`).
#[inline(always)]
fn masks8(x: u64) -> Masks<u16> {
    let quote = eq(x, b'"');
    let backslash = eq(x, b'\\');
    // A byte is below 0x20 when bits 5 to 7 are clear.
    let control = zero_bytes(x & 0xE0E0_E0E0_E0E0_E0E0);
    let mut two_byte = 0;
    for letter in TWO_BYTE_LETTERS {
        two_byte |= eq(x, letter);
    }
    Masks {
        quote: bits(quote),
        backslash: bits(backslash),
        control: bits(control),
        two_byte: bits(two_byte),
    }
}

/// The masks of 16 bytes, as two words.
#[inline(always)]
pub(super) fn masks16(c: &[u8; BLOCK16]) -> Masks<u16> {
    let word = |k: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&c[8 * k..8 * k + 8]);
        u64::from_le_bytes(w)
    };
    let (lo, hi) = (masks8(word(0)), masks8(word(1)));
    Masks {
        quote: lo.quote | hi.quote << 8,
        backslash: lo.backslash | hi.backslash << 8,
        control: lo.control | hi.control << 8,
        two_byte: lo.two_byte | hi.two_byte << 8,
    }
}
