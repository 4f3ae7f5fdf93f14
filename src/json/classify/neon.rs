//! The NEON backend, for aarch64, where NEON is part of the baseline (no run-time detection).
//!
//! NEON has no `movemask`: the compare results (bytes `0xff` or `0`) are ANDed with the weights
//! 1, 2, 4, … 128 of each byte within its half, and three rounds of pairwise additions sum each
//! eight bytes into one, four vectors at a time, giving 64 mask bits in one register.

use super::{Masks, BLOCK16, BLOCK64};
use std::arch::aarch64::{
    uint8x16_t, vandq_u8, vceqq_u8, vcltq_u8, vdupq_n_u8, vgetq_lane_u64, vld1q_u8, vpaddq_u8,
    vqtbl1q_u8, vreinterpretq_u64_u8, vshrq_n_u8, vtstq_u8,
};

/// Loads 16 bytes.
#[inline(always)]
fn load(c: &[u8; BLOCK16]) -> uint8x16_t {
    // SAFETY: `c` is 16 readable bytes; NEON is enabled on every aarch64 target.
    unsafe { vld1q_u8(c.as_ptr()) }
}

/// Bit `16 * k + i` set when byte `i` of `m[k]` is `0xff` (each byte `0xff` or `0`).
#[inline(always)]
fn movemask4(m: [uint8x16_t; 4]) -> u64 {
    const WEIGHTS: [u8; 16] = [1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128];
    let w = load(&WEIGHTS);
    // SAFETY: register-only NEON instructions; NEON is enabled on every aarch64 target.
    unsafe {
        let s0 = vpaddq_u8(vandq_u8(m[0], w), vandq_u8(m[1], w));
        let s1 = vpaddq_u8(vandq_u8(m[2], w), vandq_u8(m[3], w));
        let s = vpaddq_u8(s0, s1);
        vgetq_lane_u64::<0>(vreinterpretq_u64_u8(vpaddq_u8(s, s)))
    }
}

/// The four classes of 16 bytes, as byte masks: quote, backslash, control, two-byte escape.
///
/// The two-byte-escape letters `"` `\` `b` `f` `n` `r` `t` (0x22, 0x5c, 0x62, 0x66, 0x6e, 0x72,
/// 0x74) are found with two table lookups, by high and by low nibble: a byte is one of them when
/// the two entries share a bit. Bit 0: high nibble 2, 6 or 7 with low nibble 2 (`"` `b` `r`);
/// bit 1: 0x5c; bit 2: high 6 with low 6 or 0xe (`f` `n`); bit 3: 0x74. The tests check the
/// tables against the letters of the escaping table.
#[inline(always)]
fn classes(v: uint8x16_t) -> [uint8x16_t; 4] {
    const BY_HIGH: [u8; 16] = [0, 0, 1, 0, 0, 2, 1 | 4, 1 | 8, 0, 0, 0, 0, 0, 0, 0, 0];
    const BY_LOW: [u8; 16] = [0, 0, 1, 0, 8, 0, 4, 0, 0, 0, 0, 0, 2, 0, 4, 0];
    let (by_high, by_low) = (load(&BY_HIGH), load(&BY_LOW));
    // SAFETY: register-only NEON instructions; NEON is enabled on every aarch64 target.
    unsafe {
        let high = vqtbl1q_u8(by_high, vshrq_n_u8::<4>(v));
        let low = vqtbl1q_u8(by_low, vandq_u8(v, vdupq_n_u8(0x0f)));
        [
            vceqq_u8(v, vdupq_n_u8(b'"')),
            vceqq_u8(v, vdupq_n_u8(b'\\')),
            vcltq_u8(v, vdupq_n_u8(0x20)),
            vtstq_u8(high, low),
        ]
    }
}

/// The masks of 16 bytes.
#[inline(always)]
pub(super) fn masks16(c: &[u8; BLOCK16]) -> Masks<u16> {
    let m = movemask4(classes(load(c)));
    Masks {
        quote: m as u16,
        backslash: (m >> 16) as u16,
        control: (m >> 32) as u16,
        two_byte: (m >> 48) as u16,
    }
}

/// The masks of a 64-byte block: its four quarters, one mask per class.
#[inline(always)]
pub(super) fn masks64(block: &[u8; BLOCK64]) -> Masks<u64> {
    let quarter = |k: usize| {
        let mut q = [0u8; BLOCK16];
        q.copy_from_slice(&block[BLOCK16 * k..BLOCK16 * (k + 1)]);
        classes(load(&q))
    };
    let [q0, q1, q2, q3] = [quarter(0), quarter(1), quarter(2), quarter(3)];
    let class = |i: usize| movemask4([q0[i], q1[i], q2[i], q3[i]]);
    Masks {
        quote: class(0),
        backslash: class(1),
        control: class(2),
        two_byte: class(3),
    }
}
