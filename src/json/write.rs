//! The small JSON writer toolkit beside [`write_str`](super::write_str): content already escaped,
//! and integers. Writing to a `Vec` cannot fail, so none of these returns an error.

/// Writes JSON string content that is already in [`write_str`](super::write_str)'s form, quoted.
pub fn write_content(out: &mut Vec<u8>, content: &str) {
    out.reserve(content.len() + 2);
    out.push(b'"');
    out.extend_from_slice(content.as_bytes());
    out.push(b'"');
}

/// Appends the decimal form of `n` to `out` (what `write!(out, "{n}")` writes).
pub fn write_i64(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Appends the decimal form of `n` to `out` (what `write!(out, "{n}")` writes).
pub fn write_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_written_as_fmt_writes_them() {
        for n in [
            0,
            7,
            10,
            99,
            100,
            1_700_000_000_123,
            -1,
            -10,
            i64::MIN,
            i64::MAX,
        ] {
            let mut v = Vec::new();
            write_i64(&mut v, n);
            assert_eq!(String::from_utf8(v).unwrap(), n.to_string());
        }
        let mut v = Vec::new();
        write_u64(&mut v, u64::MAX);
        assert_eq!(String::from_utf8(v).unwrap(), u64::MAX.to_string());
    }
}
