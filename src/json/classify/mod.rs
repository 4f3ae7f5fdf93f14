//! Classifying the bytes of JSON string content a block at a time: bit `i` of each mask for byte
//! `i` of the block.
//!
//! One interface, one backend per instruction set:
//! - [`masks16`]: the masks of 16 bytes, from the backend this build enables at compile time
//!   (`sse2` on x86-64, where SSE2 is part of the baseline; `neon` on aarch64, where NEON is;
//!   `swar`, eight bytes at a time in a `u64`, elsewhere);
//! - [`masks64`]: the masks of 64 bytes (`neon` on aarch64, four [`masks16`] elsewhere);
//! - `avx2::masks64`: the same from two 32-byte halves, for callers that checked at run time that
//!   the CPU has AVX2 (the string-end scan).
//!
//! `portable` (byte by byte) is the reference: the tests check every other backend against it.

mod portable;

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "aarch64")]
mod neon;
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2;
#[cfg(any(
    test,
    not(any(
        all(target_arch = "x86_64", target_feature = "sse2"),
        target_arch = "aarch64"
    ))
))]
mod swar;

/// Bytes per block of [`masks16`].
pub const BLOCK16: usize = 16;
/// Bytes per block of [`masks64`].
pub const BLOCK64: usize = 64;

/// The letters of the two-byte escapes (`"` `\` `b` `f` `n` `r` `t`): the [`Masks::two_byte`]
/// class, from the escaping table.
pub(crate) const TWO_BYTE_LETTERS: [u8; 7] = {
    let table = super::escape::escape_out_table();
    let mut letters = [0u8; 7];
    let (mut c, mut n) = (0, 0);
    while c < 256 {
        let letter = table[c];
        if letter != 0 && letter != super::escape::UNICODE {
            letters[n] = letter;
            n += 1;
        }
        c += 1;
    }
    letters
};

/// Quote, backslash, control-character and two-byte-escape masks of a block: bit `i` for byte `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Masks<T> {
    /// `"`.
    pub quote: T,
    /// `\`.
    pub backslash: T,
    /// The control characters U+0000 to U+001F, which JSON string content cannot hold unescaped.
    pub control: T,
    /// The characters that, escaped, make a two-byte escape: `"` `\` `b` `f` `n` `r` `t` (see
    /// the escaping table).
    pub two_byte: T,
}

/// Whether `c` ends a run of plain string content: a quote, a backslash or a control character
/// (the bytes that [`write_str`](super::write_str) escapes). The vector backends test for the
/// same bytes; the tests check them against this.
#[inline(always)]
pub fn is_special(c: u8) -> bool {
    super::escape::ESCAPE_OUT[usize::from(c)] != 0
}

/// The masks of 16 bytes.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub fn masks16(c: &[u8; BLOCK16]) -> Masks<u16> {
    sse2::masks16(c)
}

/// The masks of 16 bytes.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
pub fn masks16(c: &[u8; BLOCK16]) -> Masks<u16> {
    neon::masks16(c)
}

/// The masks of 16 bytes.
#[cfg(not(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    target_arch = "aarch64"
)))]
#[inline(always)]
pub fn masks16(c: &[u8; BLOCK16]) -> Masks<u16> {
    swar::masks16(c)
}

/// The masks of a 64-byte block.
#[inline(always)]
pub fn masks64(block: &[u8; BLOCK64]) -> Masks<u64> {
    #[cfg(target_arch = "aarch64")]
    return neon::masks64(block);
    #[cfg(not(target_arch = "aarch64"))]
    from_quarters(block, masks16)
}

/// The masks of a 64-byte block from those of its four 16-byte quarters, by `f`.
#[cfg_attr(all(target_arch = "aarch64", not(test)), allow(dead_code))]
#[inline(always)]
fn from_quarters(block: &[u8; BLOCK64], f: impl Fn(&[u8; BLOCK16]) -> Masks<u16>) -> Masks<u64> {
    let mut m = Masks {
        quote: 0,
        backslash: 0,
        control: 0,
        two_byte: 0,
    };
    for (k, chunk) in block.chunks_exact(BLOCK16).enumerate() {
        let mut c = [0u8; BLOCK16];
        c.copy_from_slice(chunk);
        let q = f(&c);
        m.quote |= u64::from(q.quote) << (16 * k);
        m.backslash |= u64::from(q.backslash) << (16 * k);
        m.control |= u64::from(q.control) << (16 * k);
        m.two_byte |= u64::from(q.two_byte) << (16 * k);
    }
    m
}

/// Bit `i` set when `block[i]` is [special](is_special).
#[inline(always)]
pub fn special16(block: &[u8; BLOCK16]) -> u32 {
    let m = masks16(block);
    u32::from(m.quote | m.backslash | m.control)
}

/// Index of the first [special](is_special) byte at or after `i`: 16 bytes at a time, then eight
/// at a time for the tail.
#[inline]
pub fn find_special(b: &[u8], mut i: usize) -> Option<usize> {
    while let Some(block) = b
        .get(i..i + BLOCK16)
        .and_then(|s| <&[u8; BLOCK16]>::try_from(s).ok())
    {
        match special16(block) {
            0 => i += BLOCK16,
            m => return Some(i + m.trailing_zeros() as usize),
        }
    }
    portable::find_special_swar(b, i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::xorshift;

    /// Bytes around the interesting values as often as anywhere else.
    fn random_block<const N: usize>(rng: &mut u64) -> [u8; N] {
        let special = b"\"\\bfnrtu/\x1f\x20\x7f\x80\x00";
        let mut block = [0u8; N];
        for c in &mut block {
            let r = xorshift(rng);
            *c = if r.is_multiple_of(3) {
                special[(r >> 8) as usize % special.len()]
            } else {
                r as u8
            };
        }
        block
    }

    #[test]
    fn special16_finds_quotes_backslashes_and_controls() {
        assert_eq!(special16(b"ab\"cd\\\x1fghijklmno"), 0b110_0100);
        assert_eq!(special16(b"plain text \xc3\xa9 ok"), 0);
    }

    #[test]
    fn the_portable_masks_and_is_special_agree_with_the_escaping_table() {
        for c in 0u8..=255 {
            let mut block = [b'a'; BLOCK16];
            block[3] = c;
            let m = portable::masks16(&block);
            let special = (m.quote | m.backslash | m.control) & (1 << 3) != 0;
            assert_eq!(special, is_special(c), "{c:#x}");
            assert_eq!(is_special(c), c < 0x20 || c == b'"' || c == b'\\', "{c:#x}");
        }
    }

    #[test]
    fn the_two_byte_letters_are_those_of_rfc_8259() {
        let mut letters = TWO_BYTE_LETTERS;
        letters.sort_unstable();
        assert_eq!(&letters, b"\"\\bfnrt");
    }

    /// Every byte value at every position of a block of another value, then random blocks.
    fn blocks16() -> Vec<[u8; BLOCK16]> {
        let mut blocks = Vec::new();
        for v in 0..=255u8 {
            for at in 0..BLOCK16 {
                let mut block = [v.wrapping_add(0x61); BLOCK16];
                block[at] = v;
                blocks.push(block);
            }
        }
        let mut rng = 42u64;
        blocks.extend((0..5000).map(|_| random_block::<BLOCK16>(&mut rng)));
        blocks
    }

    /// The build's backend (SSE2 on x86_64, NEON on aarch64, SWAR elsewhere) against the
    /// byte-by-byte reference.
    #[test]
    fn masks16_agree_with_portable() {
        for block in blocks16() {
            assert_eq!(masks16(&block), portable::masks16(&block), "{block:?}");
        }
    }

    /// The SWAR fallback against the byte-by-byte reference, on every target.
    #[test]
    fn swar_masks16_agree_with_portable() {
        for block in blocks16() {
            assert_eq!(
                swar::masks16(&block),
                portable::masks16(&block),
                "{block:?}"
            );
        }
    }

    /// The build's 64-byte masks (NEON on aarch64, four `masks16` elsewhere) against four
    /// byte-by-byte ones.
    #[test]
    fn masks64_agree_with_portable() {
        let mut rng = 5u64;
        for quarters in blocks16().chunks_exact(4) {
            let mut block = [0u8; BLOCK64];
            for (k, q) in quarters.iter().enumerate() {
                block[BLOCK16 * k..BLOCK16 * (k + 1)].copy_from_slice(q);
            }
            let want = from_quarters(&block, portable::masks16);
            assert_eq!(masks64(&block), want, "{block:?}");
            let block = random_block::<BLOCK64>(&mut rng);
            assert_eq!(
                masks64(&block),
                from_quarters(&block, portable::masks16),
                "{block:?}"
            );
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_masks_agree_with_the_others() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let mut rng = 7u64;
        for _ in 0..5000 {
            let block = random_block::<BLOCK64>(&mut rng);
            // SAFETY: AVX2 is present (checked above).
            assert_eq!(
                unsafe { avx2::masks64(&block) },
                masks64(&block),
                "{block:?}"
            );
        }
    }

    #[test]
    fn find_special_agrees_with_a_byte_by_byte_search() {
        let mut rng = 99u64;
        for _ in 0..5000 {
            let len = (xorshift(&mut rng) % 80) as usize;
            let mut b: Vec<u8> = (0..len)
                .map(|_| {
                    let r = xorshift(&mut rng);
                    if r.is_multiple_of(17) {
                        b"\"\\\x01\x1f"[(r >> 8) as usize % 4]
                    } else {
                        b' ' + (r % 90) as u8
                    }
                })
                .collect();
            if xorshift(&mut rng).is_multiple_of(2) {
                b.retain(|&c| !is_special(c));
            }
            let from = (xorshift(&mut rng) % 20) as usize;
            let want = (from..b.len()).find(|&i| is_special(b[i]));
            assert_eq!(find_special(&b, from), want, "{b:?} from {from}");
        }
    }
}
