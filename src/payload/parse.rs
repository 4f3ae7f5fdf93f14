//! Parsing the decompressed document: the one-pass fast parser ([`scan`](super::scan)) first,
//! `serde_json` when it gives up.

use super::error::strip_position;
use super::{scan, LogsData, PayloadError, RETAINED_BUFFER_BYTES};

/// Parses the decompressed document: the fast parser first, `serde_json` when it gives up (for the
/// error and its position, or for the rare valid document the fast parser does not take).
pub(super) fn parse<'a>(
    json: &'a [u8],
    unescaped: &'a mut String,
) -> Result<LogsData<'a>, PayloadError> {
    let text = utf8(json)?;
    shrink_string(unescaped);
    if let Some(data) = scan::parse(text, unescaped) {
        return Ok(data);
    }
    let data = serde_json::from_str(text).map_err(|e| PayloadError::Json {
        line: e.line(),
        column: e.column(),
        reason: strip_position(&e),
    })?;
    Ok(data)
}

/// `bytes` as UTF-8 text, or the offset of the first byte that is not.
pub(super) fn utf8(bytes: &[u8]) -> Result<&str, PayloadError> {
    // The SIMD check answers valid or not; std's, only for an invalid document, says where.
    simdutf8::basic::from_utf8(bytes).or_else(|_| {
        std::str::from_utf8(bytes).map_err(|e| PayloadError::Utf8 {
            offset: e.valid_up_to(),
        })
    })
}

fn shrink_string(buf: &mut String) {
    if buf.capacity() > RETAINED_BUFFER_BYTES {
        buf.clear();
        buf.shrink_to(RETAINED_BUFFER_BYTES);
    }
}
