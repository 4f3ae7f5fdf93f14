//! Finding the end of a long JSON string 64 bytes at a time, without a branch per escape.
//!
//! Log messages carry many escapes (`\n\tat …` in stack traces, `\"` in JSON logs): a scanner
//! that stops at each one pays a mispredicted branch per escape. Here each 64-byte block gives
//! three bitmasks (quotes, backslashes, control characters; see [`classify`](super::classify)), the
//! escaped characters are computed from the backslash mask with integer arithmetic (odd and even
//! runs of backslashes, as in simdjson), and the closing quote is the first quote that is not
//! escaped. Only the escaped characters are then looked at, to classify the escapes.

use super::classify::{self, Masks, BLOCK64};
use super::unescape::{ESCAPE, ESC_INVALID, ESC_SLASH, ESC_UNICODE};

/// What [`scan`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StringEnd {
    /// Index of the closing quote.
    pub end: usize,
    /// Whether the content has a backslash (escapes).
    pub escaped: bool,
    /// Whether every escape is a two-byte one other than `\/` (see [`EscapedStr`](super::EscapedStr)).
    pub simple: bool,
}

/// Scans the string content starting at `start` (just after its opening quote). `None` when the
/// content has a control character or an invalid escape, or when the text ends less than a block
/// after a block boundary before the closing quote (the caller then scans the string another way,
/// which settles those cases).
pub(crate) fn scan(b: &[u8], start: usize) -> Option<StringEnd> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above; the check is cached after the first call).
        return unsafe { scan_avx2(b, start) };
    }
    scan_with(b, start, classify::masks64)
}

/// [`scan`] with AVX2: the block masks from two 32-byte halves instead of four 16-byte quarters.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn scan_avx2(b: &[u8], start: usize) -> Option<StringEnd> {
    scan_with(b, start, |block| classify::avx2::masks64(block))
}

/// [`scan`] with the block masks computed by `masks`.
#[inline(always)]
fn scan_with(
    b: &[u8],
    start: usize,
    masks: impl Fn(&[u8; BLOCK64]) -> Masks<u64>,
) -> Option<StringEnd> {
    let mut j = start;
    let mut carry = 0u64;
    let mut kinds = 0u32;
    let mut any_backslash = 0u64;
    loop {
        let block: &[u8; BLOCK64] = b.get(j..j + BLOCK64)?.try_into().ok()?;
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
        j += BLOCK64;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::xorshift;

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
                let past_blocks = want.is_some_and(|w| {
                    (w.end - start) / BLOCK64 * BLOCK64 + start + BLOCK64 > b.len()
                });
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
    fn avx2_scan_agrees_with_the_portable_one() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let mut rng = 7u64;
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
                scan_with(&b, 0, classify::masks64),
                "{:?}",
                String::from_utf8_lossy(&b)
            );
        }
    }
}
