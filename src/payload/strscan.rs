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
    #[cfg(target_arch = "aarch64")]
    return scan_with(b, start, neon::masks);
    #[cfg(not(target_arch = "aarch64"))]
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

/// The masks of a 64-byte block, from its four 16-byte quarters (on aarch64, [`neon::masks`]
/// instead; this one is then the reference in the tests).
#[cfg_attr(target_arch = "aarch64", allow(dead_code))]
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

/// The masks of 16 bytes with NEON (baseline on aarch64).
#[cfg(target_arch = "aarch64")]
#[inline(always)]
pub(super) fn masks16(c: &[u8; 16]) -> Masks<u16> {
    neon::masks16(c)
}

/// The masks of 16 bytes on targets with neither SSE2 nor NEON: [`masks16_swar`].
#[cfg(not(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    target_arch = "aarch64"
)))]
#[inline(always)]
pub(super) fn masks16(c: &[u8; 16]) -> Masks<u16> {
    masks16_swar(c)
}

/// [`masks16`] without vector instructions, eight bytes at a time in a `u64` (SWAR): the fallback
/// for targets with neither SSE2 nor NEON, checked against [`masks16_portable`] on every target.
#[cfg_attr(
    any(
        all(target_arch = "x86_64", target_feature = "sse2"),
        target_arch = "aarch64"
    ),
    allow(dead_code)
)]
#[inline(always)]
fn masks16_swar(c: &[u8; 16]) -> Masks<u16> {
    let (lo, hi) = c.split_at(8);
    let word = |h: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(h);
        u64::from_le_bytes(w)
    };
    let (lo, hi) = (swar::masks8(word(lo)), swar::masks8(word(hi)));
    Masks {
        quote: u16::from(lo.quote) | u16::from(hi.quote) << 8,
        backslash: u16::from(lo.backslash) | u16::from(hi.backslash) << 8,
        control: u16::from(lo.control) | u16::from(hi.control) << 8,
        two_byte: u16::from(lo.two_byte) | u16::from(hi.two_byte) << 8,
    }
}

/// Byte classification in a `u64`, without carries between bytes (unlike the zero-byte test of
/// `scan.rs`'s `find_special`, which may also flag bytes after the first match, every flag here is
/// exact, as a full mask needs).
mod swar {
    use super::Masks;

    const LO7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const HI: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;

    /// Bit 7 of each byte set when the byte is zero: `(v & 0x7f) + 0x7f` carries into bit 7 when
    /// a low bit is set (never out of the byte), the `| v` adds bit 7 itself.
    #[inline(always)]
    fn zero_bytes(v: u64) -> u64 {
        !(((v & LO7) + LO7) | v) & HI
    }

    /// Bit 7 of each byte set when the byte equals `c`.
    #[inline(always)]
    fn eq(x: u64, c: u8) -> u64 {
        zero_bytes(x ^ (ONES * u64::from(c)))
    }

    /// Bit `i` for byte `i`, from a word whose bytes are `0x80` or `0`: `(m >> 7)` has bit `8i`
    /// for byte `i`; the multiplier moves it to bit `56 + i`, and no two partial products meet.
    #[inline(always)]
    fn bits(m: u64) -> u8 {
        ((m >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
    }

    /// The masks of eight bytes (little-endian word: byte `i` is bit `i`).
    #[inline(always)]
    pub(super) fn masks8(x: u64) -> Masks<u8> {
        let quote = eq(x, b'"');
        let backslash = eq(x, b'\\');
        // A byte is below 0x20 when bits 5 to 7 are clear.
        let control = zero_bytes(x & 0xE0E0_E0E0_E0E0_E0E0);
        let two_byte =
            quote | backslash | eq(x, b'b') | eq(x, b'f') | eq(x, b'n') | eq(x, b'r') | eq(x, b't');
        Masks {
            quote: bits(quote),
            backslash: bits(backslash),
            control: bits(control),
            two_byte: bits(two_byte),
        }
    }
}

/// The masks with NEON, which every aarch64 CPU has (no run-time detection).
///
/// NEON has no `movemask`: the compare results (bytes `0xff` or `0`) are ANDed with the weights
/// 1, 2, 4, … 128 of each byte within its half, and three rounds of pairwise additions sum each
/// eight bytes into one, four vectors at a time, giving 64 mask bits in one register.
#[cfg(target_arch = "aarch64")]
mod neon {
    use super::{Masks, BLOCK};
    use std::arch::aarch64::{
        uint8x16_t, vandq_u8, vceqq_u8, vcltq_u8, vdupq_n_u8, vgetq_lane_u64, vld1q_u8, vpaddq_u8,
        vqtbl1q_u8, vreinterpretq_u64_u8, vshrq_n_u8, vtstq_u8,
    };

    /// Loads 16 bytes.
    #[inline(always)]
    fn load(c: &[u8; 16]) -> uint8x16_t {
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
    /// The two-byte-escape characters `"` `\` `b` `f` `n` `r` `t` (0x22, 0x5c, 0x62, 0x66, 0x6e,
    /// 0x72, 0x74) are found with two table lookups, by high and by low nibble: a byte is one of
    /// them when the two entries share a bit. Bit 0: high nibble 2, 6 or 7 with low nibble 2
    /// (`"` `b` `r`); bit 1: 0x5c; bit 2: high 6 with low 6 or 0xe (`f` `n`); bit 3: 0x74.
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

    /// [`super::masks16`] with NEON.
    #[inline(always)]
    pub(super) fn masks16(c: &[u8; 16]) -> Masks<u16> {
        let m = movemask4(classes(load(c)));
        Masks {
            quote: m as u16,
            backslash: (m >> 16) as u16,
            control: (m >> 32) as u16,
            two_byte: (m >> 48) as u16,
        }
    }

    /// [`super::masks`] with NEON: the block's four quarters, one mask per class.
    #[inline(always)]
    pub(super) fn masks(block: &[u8; BLOCK]) -> Masks<u64> {
        let quarter = |k: usize| {
            let mut q = [0u8; 16];
            q.copy_from_slice(&block[16 * k..16 * k + 16]);
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
}

/// [`masks16`] byte by byte: the reference in the tests.
#[cfg_attr(not(test), allow(dead_code))]
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

    /// 16-byte blocks for the mask tests: every byte value at every position (in a block of
    /// another value), then random blocks, half of them from the bytes around the classes' edges.
    fn blocks16() -> Vec<[u8; 16]> {
        let mut blocks = Vec::new();
        for v in 0..=255u8 {
            for at in 0..16 {
                let mut block = [v.wrapping_add(0x61); 16];
                block[at] = v;
                blocks.push(block);
            }
        }
        let special = b"\"\\bfnrt\x1f\x20\x7f\x80\x00/uaBFNRT\x22\x5c\xdc\xe2";
        let mut rng = 42u64;
        for k in 0..4000 {
            let mut block = [0u8; 16];
            for c in &mut block {
                let r = xorshift(&mut rng);
                *c = if k % 2 == 0 {
                    special[(r >> 8) as usize % special.len()]
                } else {
                    r as u8
                };
            }
            blocks.push(block);
        }
        blocks
    }

    /// The 64-byte masks of a block from a 16-byte mask function.
    fn masks64_with(block: &[u8; BLOCK], f: fn(&[u8; 16]) -> Masks<u16>) -> Masks<u64> {
        let mut m = Masks {
            quote: 0,
            backslash: 0,
            control: 0,
            two_byte: 0,
        };
        for (k, chunk) in block.chunks_exact(16).enumerate() {
            let q = f(chunk.try_into().unwrap());
            m.quote |= u64::from(q.quote) << (16 * k);
            m.backslash |= u64::from(q.backslash) << (16 * k);
            m.control |= u64::from(q.control) << (16 * k);
            m.two_byte |= u64::from(q.two_byte) << (16 * k);
        }
        m
    }

    /// The build's `masks16` (SSE2 on x86_64, NEON on aarch64, SWAR elsewhere) against the
    /// byte-by-byte reference.
    #[test]
    fn masks_agree_with_portable() {
        for block in blocks16() {
            assert_eq!(masks16(&block), masks16_portable(&block), "{block:?}");
        }
    }

    /// The SWAR fallback against the byte-by-byte reference, on every target.
    #[test]
    fn swar_masks_agree_with_portable() {
        for block in blocks16() {
            assert_eq!(masks16_swar(&block), masks16_portable(&block), "{block:?}");
        }
        // The whole string scan with SWAR masks, against the byte-by-byte scan.
        let mut rng = 11u64;
        for _ in 0..5000 {
            let len = (xorshift(&mut rng) % 300) as usize;
            let alphabet = b"\\\"nu/ax\x01";
            let mut b: Vec<u8> = (0..len)
                .map(|_| alphabet[(xorshift(&mut rng) >> 8) as usize % alphabet.len()])
                .collect();
            b.extend_from_slice(&[b'"'; 70]);
            let swar = scan_with(&b, 0, |block| masks64_with(block, masks16_swar));
            if let Some(got) = swar {
                assert_eq!(Some(got), naive(&b, 0), "{:?}", String::from_utf8_lossy(&b));
            }
            assert_eq!(
                swar,
                scan_with(&b, 0, |block| masks64_with(block, masks16_portable))
            );
        }
    }

    /// NEON's 64-byte masks and string scan against the byte-by-byte masks.
    #[cfg(target_arch = "aarch64")]
    #[test]
    fn neon_masks_and_scan_agree_with_portable() {
        let blocks = blocks16();
        for quarters in blocks.chunks_exact(4) {
            let mut block = [0u8; BLOCK];
            for (k, q) in quarters.iter().enumerate() {
                block[16 * k..16 * k + 16].copy_from_slice(q);
            }
            assert_eq!(
                neon::masks(&block),
                masks64_with(&block, masks16_portable),
                "{block:?}"
            );
            assert_eq!(neon::masks(&block), masks(&block), "{block:?}");
        }
        let mut rng = 7u64;
        for _ in 0..20_000 {
            let len = (xorshift(&mut rng) % 300) as usize;
            let alphabet = b"\\\"nu/ax\x01";
            let mut b: Vec<u8> = (0..len)
                .map(|_| alphabet[(xorshift(&mut rng) >> 8) as usize % alphabet.len()])
                .collect();
            b.extend_from_slice(&[b'"'; 70]);
            assert_eq!(
                scan_with(&b, 0, neon::masks),
                scan_with(&b, 0, |block| masks64_with(block, masks16_portable)),
                "{:?}",
                String::from_utf8_lossy(&b)
            );
        }
    }
}
