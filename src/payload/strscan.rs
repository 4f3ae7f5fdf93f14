//! Finding the end of a long JSON string 64 bytes at a time, without a branch per escape.
//!
//! Log messages carry many escapes (`\n\tat …` in stack traces, `\"` in JSON logs): a scanner
//! that stops at each one pays a mispredicted branch per escape. Here each 64-byte block gives
//! three bitmasks (quotes, backslashes, control characters), the escaped characters are computed
//! from the backslash mask with integer arithmetic (odd and even runs of backslashes, as in
//! simdjson), and the closing quote is the first quote that is not escaped. Only the escaped
//! characters are then looked at, to classify the escapes.

/// What [`scan`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct StringEnd {
    /// Index of the closing quote.
    pub end: usize,
    /// Whether the content has a backslash (escapes).
    pub escaped: bool,
    /// Whether every escape is a two-byte one other than `\/` (see `EscapedStr`).
    pub simple: bool,
}

/// Bytes per block.
const BLOCK: usize = 64;

/// Scans the string content starting at `start` (just after its opening quote). `None` when the
/// content has a control character or an invalid escape, or when the text ends less than a block
/// after a block boundary before the closing quote (the caller then scans the string another way,
/// which settles those cases).
pub(super) fn scan(b: &[u8], start: usize) -> Option<StringEnd> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above; the check is cached after the first call).
        return unsafe { scan_avx2(b, start) };
    }
    scan_with(b, start, masks)
}

/// [`scan`] with AVX2: the block masks from two 32-byte halves instead of four 16-byte quarters.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn scan_avx2(b: &[u8], start: usize) -> Option<StringEnd> {
    scan_with(b, start, |block| masks_avx2(block))
}

/// [`scan`] with the block masks computed by `masks`.
#[inline(always)]
fn scan_with(
    b: &[u8],
    start: usize,
    masks: impl Fn(&[u8; BLOCK]) -> Masks<u64>,
) -> Option<StringEnd> {
    let mut j = start;
    let mut carry = 0u64;
    let mut kinds = 0u32;
    let mut any_backslash = 0u64;
    loop {
        let block: &[u8; BLOCK] = b.get(j..j + BLOCK)?.try_into().ok()?;
        let m = masks(block);
        let escaped = escaped_chars(m.backslash, &mut carry);
        let ends = m.quote & !escaped;
        // Bits before the closing quote (all bits when it is not in this block).
        let before = if ends == 0 {
            u64::MAX
        } else {
            (1u64 << ends.trailing_zeros()) - 1
        };
        if m.control & before != 0 {
            return None;
        }
        any_backslash |= m.backslash & before;
        // Escaped characters that make a two-byte escape need no further look; the others (`/`,
        // `u`, or an invalid escape) are classified one by one.
        let mut e = escaped & before & !m.two_byte;
        while e != 0 {
            let p = j + e.trailing_zeros() as usize;
            kinds |= 1 << ESCAPE[usize::from(*b.get(p)?)];
            e &= e - 1;
        }
        if ends != 0 {
            if kinds & (1 << ESC_INVALID) != 0 {
                return None;
            }
            // Two-byte escapes are not counted in `kinds`; only whether there are escapes matters.
            return Some(StringEnd {
                end: j + ends.trailing_zeros() as usize,
                escaped: any_backslash != 0,
                simple: kinds & (1 << ESC_SLASH | 1 << ESC_UNICODE) == 0,
            });
        }
        // The carry also covers a backslash ending the block whose escaped character starts
        // the next one.
        j += BLOCK;
    }
}

/// The characters escaped by a backslash (bit i: byte i follows an escaping backslash), given the
/// backslash mask of a block and the carry from the previous block (1 when its last byte was an
/// escaping backslash); updates the carry.
#[inline]
fn escaped_chars(backslash: u64, carry: &mut u64) -> u64 {
    const ODD: u64 = 0xAAAA_AAAA_AAAA_AAAA;
    let potential = backslash & !*carry;
    // Runs of backslashes starting on an odd bit come out inverted after the subtraction; the
    // xor with the odd bits sets, in every run, the bits of the escaping backslashes and of the
    // escaped character after the run.
    let maybe_escaped = potential << 1;
    let code = ((maybe_escaped | ODD).wrapping_sub(potential)) ^ ODD;
    let escaped = code ^ (backslash | *carry);
    let escape = code & backslash;
    *carry = escape >> 63;
    escaped
}

/// Quote, backslash, control-character and two-byte-escape masks of a block: bit `i` for byte `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Masks<T> {
    pub quote: T,
    pub backslash: T,
    pub control: T,
    /// The characters that, escaped, make a two-byte escape: `"` `\` `b` `f` `n` `r` `t`.
    pub two_byte: T,
}

/// The masks of a 64-byte block, from its four 16-byte quarters.
#[inline(always)]
fn masks(block: &[u8; BLOCK]) -> Masks<u64> {
    let mut m = Masks {
        quote: 0,
        backslash: 0,
        control: 0,
        two_byte: 0,
    };
    for (k, chunk) in block.chunks_exact(16).enumerate() {
        let mut c = [0u8; 16];
        c.copy_from_slice(chunk);
        let q = masks16(&c);
        m.quote |= u64::from(q.quote) << (16 * k);
        m.backslash |= u64::from(q.backslash) << (16 * k);
        m.control |= u64::from(q.control) << (16 * k);
        m.two_byte |= u64::from(q.two_byte) << (16 * k);
    }
    m
}

/// [`masks`] with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn masks_avx2(block: &[u8; BLOCK]) -> Masks<u64> {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_min_epu8, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8, _mm256_set_epi64x,
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
        let two_byte = _mm256_or_si256(
            _mm256_or_si256(
                _mm256_or_si256(quote, backslash),
                _mm256_or_si256(eq(b'b'), eq(b'f')),
            ),
            _mm256_or_si256(_mm256_or_si256(eq(b'n'), eq(b'r')), eq(b't')),
        );
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

/// The masks of 16 bytes (also the string scan of `scan.rs`, 16 bytes at a time).
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(super) fn masks16(c: &[u8; 16]) -> Masks<u16> {
    // SAFETY: the function only needs SSE2, which this build enables (the cfg above; SSE2 is part
    // of the x86-64 baseline).
    unsafe { masks16_sse2(c) }
}

/// [`masks16`] with SSE2: vector compares and byte masks.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[target_feature(enable = "sse2")]
#[inline]
fn masks16_sse2(c: &[u8; 16]) -> Masks<u16> {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_set_epi64x,
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
    let two_byte = _mm_or_si128(
        _mm_or_si128(
            _mm_or_si128(quote, backslash),
            _mm_or_si128(eq(b'b'), eq(b'f')),
        ),
        _mm_or_si128(_mm_or_si128(eq(b'n'), eq(b'r')), eq(b't')),
    );
    Masks {
        quote: _mm_movemask_epi8(quote) as u16,
        backslash: _mm_movemask_epi8(backslash) as u16,
        control: _mm_movemask_epi8(control) as u16,
        two_byte: _mm_movemask_epi8(two_byte) as u16,
    }
}

#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
pub(super) fn masks16(c: &[u8; 16]) -> Masks<u16> {
    masks16_portable(c)
}

/// [`masks16`] without vector code (other targets; and the reference in the tests).
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
#[inline(always)]
fn masks16_portable(c: &[u8; 16]) -> Masks<u16> {
    let bits = |f: &dyn Fn(u8) -> bool| {
        c.iter()
            .enumerate()
            .fold(0u16, |m, (i, &c)| m | (u16::from(f(c)) << i))
    };
    Masks {
        quote: bits(&|c| c == b'"'),
        backslash: bits(&|c| c == b'\\'),
        control: bits(&|c| c < 0x20),
        two_byte: bits(&|c| b"\"\\bfnrt".contains(&c)),
    }
}

/// [`ESCAPE`] values: not an escape, `\"` `\\` `\b` `\f` `\n` `\r` `\t`, `\/`, `\u`.
pub(super) const ESC_INVALID: u8 = 0;
pub(super) const ESC_TWO_BYTE: u8 = 1;
pub(super) const ESC_SLASH: u8 = 2;
pub(super) const ESC_UNICODE: u8 = 3;

/// What the byte after a backslash makes of the escape.
pub(super) static ESCAPE: [u8; 256] = {
    let mut t = [ESC_INVALID; 256];
    t[b'"' as usize] = ESC_TWO_BYTE;
    t[b'\\' as usize] = ESC_TWO_BYTE;
    t[b'b' as usize] = ESC_TWO_BYTE;
    t[b'f' as usize] = ESC_TWO_BYTE;
    t[b'n' as usize] = ESC_TWO_BYTE;
    t[b'r' as usize] = ESC_TWO_BYTE;
    t[b't' as usize] = ESC_TWO_BYTE;
    t[b'/' as usize] = ESC_SLASH;
    t[b'u' as usize] = ESC_UNICODE;
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference: byte by byte.
    fn naive(b: &[u8], start: usize) -> Option<StringEnd> {
        let (mut i, mut escaped, mut simple) = (start, false, true);
        loop {
            match *b.get(i)? {
                b'"' => {
                    return Some(StringEnd {
                        end: i,
                        escaped,
                        simple,
                    })
                }
                b'\\' => {
                    escaped = true;
                    match *b.get(i + 1)? {
                        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'/' | b'u' => simple = false,
                        _ => return None,
                    }
                    i += 2;
                }
                c if c < 0x20 => return None,
                _ => i += 1,
            }
        }
    }

    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn agrees_with_a_byte_by_byte_scan() {
        let alphabet = b"\\\\\\\\\"\"nntu/x a\x01\xc3\xa9";
        let mut rng = 0x1234_5678_9abc_def1u64;
        for _ in 0..50_000 {
            let len = (xorshift(&mut rng) % 300) as usize;
            let dense = xorshift(&mut rng).is_multiple_of(4);
            let mut b: Vec<u8> = (0..len)
                .map(|_| {
                    let r = xorshift(&mut rng);
                    if dense || r.is_multiple_of(5) {
                        alphabet[(r >> 8) as usize % alphabet.len()]
                    } else {
                        b'a' + (r % 26) as u8
                    }
                })
                .collect();
            b.extend_from_slice(&[b'"'; 70]);
            let start = (xorshift(&mut rng) % 3) as usize;
            let want = naive(&b, start);
            if let Some(got) = scan(&b, start) {
                assert_eq!(
                    Some(got),
                    want,
                    "{:?}",
                    String::from_utf8_lossy(&b[start..])
                );
            } else {
                // Only what the byte-by-byte scan rejects, or an end past the last full block.
                let past_blocks =
                    want.is_some_and(|w| (w.end - start) / BLOCK * BLOCK + start + BLOCK > b.len());
                assert!(
                    want.is_none() || past_blocks,
                    "{:?}",
                    String::from_utf8_lossy(&b[start..])
                );
            }
        }
    }

    #[test]
    fn escapes_across_block_boundaries() {
        for run in 0..6 {
            for at in 58..70 {
                let mut b = vec![b'a'; at];
                b.extend(std::iter::repeat_n(b'\\', run));
                b.extend_from_slice(b"\"tail\"");
                b.extend_from_slice(&[b'x'; 140]);
                b.push(b'"');
                let want = naive(&b, 0);
                let got = scan(&b, 0);
                assert_eq!(got, want, "run {run} at {at}");
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_masks_and_scan_agree_with_the_others() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let mut rng = 7u64;
        for _ in 0..2000 {
            let mut block = [0u8; BLOCK];
            for c in &mut block {
                // Bytes around the interesting values as often as anywhere else.
                let r = xorshift(&mut rng);
                let special = b"\"\\bfnrt\x1f\x20\x7f\x80";
                *c = if r.is_multiple_of(3) {
                    special[(r >> 8) as usize % special.len()]
                } else {
                    r as u8
                };
            }
            // SAFETY: AVX2 is present (checked above).
            assert_eq!(unsafe { masks_avx2(&block) }, masks(&block), "{block:?}");
        }
        for _ in 0..20_000 {
            let len = (xorshift(&mut rng) % 300) as usize;
            let alphabet = b"\\\"nu/ax\x01";
            let mut b: Vec<u8> = (0..len)
                .map(|_| alphabet[(xorshift(&mut rng) >> 8) as usize % alphabet.len()])
                .collect();
            b.extend_from_slice(&[b'"'; 70]);
            // SAFETY: AVX2 is present (checked above).
            let avx2 = unsafe { scan_avx2(&b, 0) };
            assert_eq!(
                avx2,
                scan_with(&b, 0, masks),
                "{:?}",
                String::from_utf8_lossy(&b)
            );
        }
    }

    #[test]
    fn masks_agree_with_portable() {
        let mut rng = 42u64;
        for _ in 0..2000 {
            let mut block = [0u8; 16];
            for c in &mut block {
                *c = xorshift(&mut rng) as u8;
            }
            assert_eq!(masks16(&block), masks16_portable(&block), "{block:?}");
        }
    }
}
