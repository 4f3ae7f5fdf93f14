//! What one Kinesis record is, how big it counts, and its partition key.

/// Longest partition key Kinesis accepts, in Unicode characters (PutRecords API reference).
pub const MAX_PARTITION_KEY_CHARS: usize = 256;

/// One Kinesis record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The partition key (1–256 characters).
    pub partition_key: String,
    /// The record data.
    pub data: Vec<u8>,
    /// Log events this record completes (an event split over several records counts in its last
    /// part only, so the counts of a payload's records add up to its selected events).
    pub events: usize,
}

impl Record {
    /// The size Kinesis counts against the record and request limits: data plus partition key
    /// (UTF-8 bytes, which is never less than the character count).
    pub fn size(&self) -> usize {
        self.data.len() + self.partition_key.len()
    }
}

/// The partition key of a payload's records: `<logGroup>/<logStream>`.
///
/// All records of one log stream go to the same shard, so a stream's events stay in order within
/// the shard, and streams spread over shards. A key longer than 256 characters keeps its first 239
/// characters followed by `#` and 16 hex digits of the FNV-1a 64 hash of the whole key: deterministic
/// (across runs and Rust versions) and still distinct for streams that share a long prefix.
pub fn partition_key(log_group: &str, log_stream: &str) -> String {
    let chars = log_group.chars().count() + 1 + log_stream.chars().count();
    if chars <= MAX_PARTITION_KEY_CHARS {
        let mut k = String::with_capacity(log_group.len() + 1 + log_stream.len());
        k.push_str(log_group);
        k.push('/');
        k.push_str(log_stream);
        return k;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in log_group.bytes().chain([b'/']).chain(log_stream.bytes()) {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let keep = MAX_PARTITION_KEY_CHARS - 17;
    let mut k: String = log_group
        .chars()
        .chain(['/'])
        .chain(log_stream.chars())
        .take(keep)
        .collect();
    k.push_str(&format!("#{hash:016x}"));
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_key_is_group_slash_stream() {
        assert_eq!(
            partition_key("/aws/lambda/f", "2024/01/01/[$LATEST]x"),
            "/aws/lambda/f/2024/01/01/[$LATEST]x"
        );
        assert_eq!(partition_key("", ""), "/");
    }

    #[test]
    fn long_key_is_bounded_deterministic_and_distinct() {
        let group = "g".repeat(200);
        let a = partition_key(&group, &"é".repeat(100));
        let b = partition_key(&group, &format!("{}x", "é".repeat(99)));
        assert_eq!(a.chars().count(), MAX_PARTITION_KEY_CHARS);
        assert_eq!(b.chars().count(), MAX_PARTITION_KEY_CHARS);
        assert_ne!(a, b);
        assert_eq!(a, partition_key(&group, &"é".repeat(100)));
        let exactly = partition_key(&"g".repeat(200), &"s".repeat(55));
        assert_eq!(exactly.chars().count(), 256);
        assert!(!exactly.contains('#'));
    }
}
