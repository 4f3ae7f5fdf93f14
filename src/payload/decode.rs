//! Decoding: the Lambda event envelope, base64, and gzip inflated member by member under the
//! decompressed-size cap, into buffers kept from one payload to the next; then
//! [`parse`](super::parse).
//!
//! This is the only module allowed to construct a gzip decoder (see `clippy.toml`): every path that
//! inflates goes through the cap.

use super::error::strip_position;
use super::kinesis::{parse_ndjson, DecodedRecord, RecordFormat};
use super::parse::parse;
use super::{LogsData, PayloadError, DEFAULT_MAX_DECOMPRESSED_BYTES, RETAINED_BUFFER_BYTES};
use base64::Engine as _;
use serde::Deserialize;
use std::borrow::Cow;

/// A decoded payload, borrowing from the [`Decoder`] (and from the input for `decode_gzip`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// The compressed bytes as received, for byte-for-byte pass-through.
    pub gzip: &'a [u8],
    /// Size of the decompressed JSON in bytes.
    pub decompressed_len: usize,
    /// The document.
    pub data: LogsData<'a>,
}

/// Decodes subscription payloads, reusing its buffers from one call to the next.
#[derive(Debug)]
pub struct Decoder {
    max_decompressed: usize,
    gzip: Vec<u8>,
    json: Vec<u8>,
    /// The messages that had JSON escapes, unescaped, one after the other.
    unescaped: String,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_MAX_DECOMPRESSED_BYTES)
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    awslogs: AwsLogs<'a>,
}

#[derive(Deserialize)]
struct AwsLogs<'a> {
    #[serde(borrow)]
    data: Cow<'a, str>,
}

const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

impl Decoder {
    /// A decoder that refuses payloads inflating to more than `max_decompressed` bytes.
    pub fn new(max_decompressed: usize) -> Self {
        Decoder {
            max_decompressed,
            gzip: Vec::new(),
            json: Vec::new(),
            unescaped: String::new(),
        }
    }

    /// The decompressed size cap in bytes.
    pub fn max_decompressed(&self) -> usize {
        self.max_decompressed
    }

    /// Decodes a whole Lambda event body (the JSON the Lambda runtime delivers).
    pub fn decode_event<'s>(&'s mut self, event_json: &[u8]) -> Result<Decoded<'s>, PayloadError> {
        let envelope: Envelope<'_> =
            serde_json::from_slice(event_json).map_err(|e| PayloadError::Envelope {
                line: e.line(),
                column: e.column(),
                reason: strip_position(&e),
            })?;
        self.decode_data(envelope.awslogs.data.as_bytes())
    }

    /// Decodes base64 into the (reused) gzip buffer.
    fn decode_base64(&mut self, data_base64: &[u8]) -> Result<(), PayloadError> {
        shrink(&mut self.gzip);
        self.gzip.clear();
        reserve_replacing(&mut self.gzip, data_base64.len() / 4 * 3 + 3, usize::MAX);
        // Padding optional, as BASE64 takes it: padded when the length is a multiple of four.
        let simd = if data_base64.len().is_multiple_of(4) {
            &base64_simd::STANDARD
        } else {
            &base64_simd::STANDARD_NO_PAD
        };
        if simd.decode_append(data_base64, &mut self.gzip).is_ok() {
            return Ok(());
        }
        // Not valid base64: decoded again for the error's offset and character.
        self.gzip.clear();
        BASE64
            .decode_vec(data_base64, &mut self.gzip)
            .map_err(|e| base64_error(e, data_base64.len()))
    }

    /// Decodes the base64 `awslogs.data` string.
    pub fn decode_data<'s>(&'s mut self, data_base64: &[u8]) -> Result<Decoded<'s>, PayloadError> {
        self.decode_base64(data_base64)?;
        let decompressed_len = inflate(&self.gzip, &mut self.json, self.max_decompressed)?;
        let data = parse(&self.json, &mut self.unescaped)?;
        Ok(Decoded {
            gzip: &self.gzip,
            decompressed_len,
            data,
        })
    }

    /// Decodes the base64 data of a Kinesis record: a gzip subscription document (`cwl`, or a
    /// CloudWatch Logs destination's record) or `ndjson` lines (see [`super::kinesis`]).
    pub fn decode_record<'s>(
        &'s mut self,
        data_base64: &[u8],
    ) -> Result<DecodedRecord<'s>, PayloadError> {
        self.decode_base64(data_base64)?;
        let Some(&first) = self.gzip.first() else {
            return Err(PayloadError::EmptyGzip);
        };
        match RecordFormat::of(&self.gzip) {
            Some(RecordFormat::Cwl) => {
                let decompressed_len = inflate(&self.gzip, &mut self.json, self.max_decompressed)?;
                let data = parse(&self.json, &mut self.unescaped)?;
                Ok(DecodedRecord {
                    format: RecordFormat::Cwl,
                    payloads: vec![Decoded {
                        gzip: &self.gzip,
                        decompressed_len,
                        data,
                    }],
                })
            }
            Some(RecordFormat::Ndjson) => Ok(DecodedRecord {
                format: RecordFormat::Ndjson,
                payloads: parse_ndjson(&self.gzip)?,
            }),
            None => Err(PayloadError::RecordFormat { first }),
        }
    }

    /// Decodes raw gzip bytes (what a Kinesis record from a CloudWatch Logs destination holds).
    pub fn decode_gzip<'s>(&'s mut self, gzip: &'s [u8]) -> Result<Decoded<'s>, PayloadError> {
        let decompressed_len = inflate(gzip, &mut self.json, self.max_decompressed)?;
        let data = parse(&self.json, &mut self.unescaped)?;
        Ok(Decoded {
            gzip,
            decompressed_len,
            data,
        })
    }
}

/// Makes room for `len` bytes in an empty `buf`: a buffer too small is replaced (nothing to copy)
/// by one with a quarter of headroom (at most `max` bytes), so that the next payloads, often a
/// little larger, reuse it instead of each reallocating it, which would leave holes in the heap
/// that the next allocations do not fit and make them touch fresh pages.
fn reserve_replacing(buf: &mut Vec<u8>, len: usize, max: usize) {
    if buf.capacity() < len {
        *buf = Vec::with_capacity(len.saturating_add(len / 4).min(max));
    }
}

fn shrink(buf: &mut Vec<u8>) {
    if buf.capacity() > RETAINED_BUFFER_BYTES {
        buf.clear();
        buf.shrink_to(RETAINED_BUFFER_BYTES);
    }
}

fn base64_error(e: base64::DecodeError, len: usize) -> PayloadError {
    use base64::DecodeError as E;
    let (offset, reason) = match e {
        E::InvalidByte(offset, byte) => (offset, format!("invalid character 0x{byte:02x}")),
        E::InvalidLength(n) => (n, format!("invalid length {n}")),
        E::InvalidLastSymbol(offset, byte) => {
            (offset, format!("invalid last character 0x{byte:02x}"))
        }
        E::InvalidPadding => (len, "invalid padding".to_owned()),
    };
    PayloadError::Base64 { offset, reason }
}

/// Inflates every gzip member of `gzip` into `out` (cleared first), stopping at `cap + 1` bytes.
/// Returns the decompressed length.
///
/// zlib-rs inflates straight into the spare capacity of `out` (no zeroing of the buffer first, as
/// `Read::read_to_end` does), checks each member's header, CRC-32 and length, and the buffer grows
/// geometrically but never past `cap + 1` bytes, so a gzip bomb costs at most that much memory.
fn inflate(gzip: &[u8], out: &mut Vec<u8>, cap: usize) -> Result<usize, PayloadError> {
    shrink(out);
    out.clear();
    if gzip.is_empty() {
        return Err(PayloadError::EmptyGzip);
    }
    let limit = cap.saturating_add(1);
    // The last member's ISIZE (its length modulo 2^32) sizes the first reservation: a hint only,
    // bounded by the cap and by deflate's best ratio, never trusted.
    let hint = gzip
        .len()
        .checked_sub(4)
        .and_then(|at| gzip.get(at..))
        .and_then(|tail| <[u8; 4]>::try_from(tail).ok())
        .map_or(0, |tail| u32::from_le_bytes(tail) as usize);
    let first = hint
        .min(gzip.len().saturating_mul(1032))
        .max(64 * 1024)
        .min(limit);
    reserve_replacing(out, first, limit);
    let mut offset = 0usize;
    let mut member = 0usize;
    while offset < gzip.len() {
        member += 1;
        let input = &gzip[offset..];
        if member > 1 && !input.starts_with(&[0x1f, 0x8b]) {
            return Err(PayloadError::TrailingData {
                offset,
                len: input.len(),
                first: input[0],
            });
        }
        offset += inflate_member(input, out, limit).map_err(|e| e.at(member, offset, cap))?;
        if out.len() > cap {
            return Err(PayloadError::TooLarge { cap });
        }
    }
    Ok(out.len())
}

/// Why one gzip member did not inflate, before [`MemberError::at`] says which member.
enum MemberError {
    Truncated,
    Corrupt(String),
    TooLarge,
}

impl MemberError {
    fn at(self, member: usize, offset: usize, cap: usize) -> PayloadError {
        match self {
            MemberError::Truncated => PayloadError::GzipTruncated { member, offset },
            MemberError::Corrupt(reason) => PayloadError::GzipCorrupt {
                member,
                offset,
                reason,
            },
            MemberError::TooLarge => PayloadError::TooLarge { cap },
        }
    }
}

/// Inflates the gzip member at the start of `input`, appending to `out` up to `limit` bytes in all.
/// Returns how many bytes of `input` the member took.
fn inflate_member(input: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<usize, MemberError> {
    let mut inflater = flate2::Decompress::new_gzip(15);
    loop {
        if out.len() == out.capacity() {
            if out.len() >= limit {
                return Err(MemberError::TooLarge);
            }
            let grow = out.capacity().max(64 * 1024).min(limit - out.len());
            out.reserve_exact(grow);
        }
        let consumed = inflater.total_in() as usize;
        let rest = input.get(consumed..).unwrap_or_default();
        let before = out.len();
        let status = inflater
            .decompress_vec(rest, out, flate2::FlushDecompress::None)
            .map_err(|e| {
                MemberError::Corrupt(e.message().unwrap_or("invalid gzip data").to_owned())
            })?;
        match status {
            flate2::Status::StreamEnd => return Ok(inflater.total_in() as usize),
            _ if out.len() == out.capacity() => {} // more room needed
            _ if inflater.total_in() as usize == consumed && out.len() == before => {
                // Neither input taken nor output made with room to spare: the input ended.
                return Err(MemberError::Truncated);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::testing::{gz, DOC};
    use crate::payload::{EventId, Message, MessageType};

    #[test]
    fn base64_decoding_takes_and_refuses_exactly_what_the_base64_crate_does() {
        // The SIMD decoder, and the fallback for its errors, against BASE64 alone: the same bytes
        // or the same error, for valid encodings with and without padding, for random strings of
        // the alphabet (most with trailing bits set), and with a stray byte anywhere.
        use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n";
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut d = Decoder::default();
        let (mut valid, mut invalid) = (0, 0);
        for n in 0..30_000u32 {
            let len = (crate::json::xorshift(&mut state) % 100) as usize;
            let mut input: Vec<u8> = match n % 3 {
                0 => {
                    let bytes: Vec<u8> = (0..len)
                        .map(|_| crate::json::xorshift(&mut state) as u8)
                        .collect();
                    if n % 2 == 0 {
                        STANDARD.encode(&bytes)
                    } else {
                        STANDARD_NO_PAD.encode(&bytes)
                    }
                    .into_bytes()
                }
                _ => (0..len)
                    .map(|_| alphabet[(crate::json::xorshift(&mut state) % 64) as usize])
                    .collect(),
            };
            if n % 5 == 0 && !input.is_empty() {
                let at = (crate::json::xorshift(&mut state) as usize) % input.len();
                input[at] = alphabet[(crate::json::xorshift(&mut state) as usize) % alphabet.len()];
            }
            let expected = BASE64
                .decode(&input)
                .map_err(|e| base64_error(e, input.len()));
            let got = d.decode_base64(&input).map(|()| d.gzip.clone());
            assert_eq!(got, expected, "{:?}", String::from_utf8_lossy(&input));
            if got.is_ok() {
                valid += 1;
            } else {
                invalid += 1;
            }
        }
        assert!(
            valid > 10_000 && invalid > 5_000,
            "{valid} valid, {invalid} invalid"
        );
    }

    #[test]
    fn decodes_and_borrows() {
        let bytes = gz(DOC);
        let mut d = Decoder::default();
        let dec = d.decode_gzip(&bytes).unwrap();
        assert_eq!(dec.decompressed_len, DOC.len());
        assert_eq!(dec.data.message_type, MessageType::DataMessage);
        assert_eq!(dec.data.log_events.len(), 2);
        assert!(matches!(
            dec.data.log_events[0].message,
            Message::Text(Cow::Borrowed("plain"))
        ));
        assert!(matches!(dec.data.log_group, Cow::Borrowed(_)));
        assert!(matches!(
            dec.data.subscription_filters[0],
            Cow::Borrowed("f1")
        ));
        assert_eq!(dec.data.log_events[1].message, "esc\"aped\n");
        assert_eq!(dec.data.log_events[0].id, EventId::Str(Cow::Borrowed("1")));
        assert_eq!(dec.data.log_events[1].id, EventId::Int(2));
        assert_eq!(dec.data.policy_level, None);
    }

    #[test]
    fn multi_member_gzip_is_decoded_whole() {
        let (a, b) = DOC.split_at(100);
        let mut bytes = gz(a);
        bytes.extend(gz(b));
        let mut d = Decoder::default();
        let dec = d.decode_gzip(&bytes).unwrap();
        assert_eq!(dec.decompressed_len, DOC.len());
        assert_eq!(dec.data.log_events.len(), 2);
    }

    /// A payload document of about `len` bytes (one event whose message is `len` bytes of 'x').
    fn doc_of(len: usize) -> String {
        DOC.replace("\"plain\"", &format!("\"{}\"", "x".repeat(len)))
    }

    #[test]
    fn a_gzip_bomb_never_holds_more_than_the_cap() {
        let cap = 1024 * 1024;
        // A small last member, so that its length (the reservation's hint) is no help: the buffer
        // grows step by step up to the cap.
        let mut bomb = gz(&doc_of(10 * cap));
        bomb.extend(gz(DOC));
        let mut d = Decoder::new(cap);
        let e = d.decode_gzip(&bomb).unwrap_err();
        assert!(
            matches!(e, PayloadError::TooLarge { cap: c } if c == cap),
            "{e}"
        );
        // The buffer grew to the cap (+1 byte, to see it was passed) and not past it.
        assert!(
            d.json.capacity() <= cap + 1,
            "{} > {}",
            d.json.capacity(),
            cap + 1
        );
    }

    #[test]
    fn buffers_shrink_back_after_a_large_payload() {
        let large = doc_of(2 * RETAINED_BUFFER_BYTES);
        let base64 = |s: &str| BASE64.encode(gz(s)).into_bytes();
        let mut d = Decoder::default();
        assert!(d.decode_data(&base64(&large)).is_ok());
        assert!(d.json.capacity() > RETAINED_BUFFER_BYTES);
        // The next (small) payload gives back what is held beyond the retained size.
        assert!(d.decode_data(&base64(DOC)).is_ok());
        assert!(
            d.json.capacity() <= RETAINED_BUFFER_BYTES,
            "{}",
            d.json.capacity()
        );
        assert!(
            d.gzip.capacity() <= RETAINED_BUFFER_BYTES,
            "{}",
            d.gzip.capacity()
        );
    }
}
