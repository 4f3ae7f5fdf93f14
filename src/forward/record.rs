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

/// How records get their partition key (`LOGRELAY_PARTITION_KEY`).
///
/// Kinesis sends every record of one partition key to one shard, and a shard takes at most 1 MB/s
/// or 1,000 records/s of writes (Kinesis Data Streams Developer Guide, "Quotas and limits"), so the
/// key decides both ordering and how hot one log stream may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PartitionKeyMode {
    /// `<logGroup>/<logStream>` ([`partition_key`]): a stream's records stay in order in one shard.
    #[default]
    Stream,
    /// The id of the record's first event ([`event_id_key`]): one stream's records spread over every
    /// shard, for streams hotter than one shard; records of one stream are no longer ordered
    /// relative to each other (the events within a record are).
    EventId,
}

impl std::str::FromStr for PartitionKeyMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "stream" => Ok(PartitionKeyMode::Stream),
            "event-id" => Ok(PartitionKeyMode::EventId),
            other => Err(format!(
                "unknown partition key {other:?} (expected stream or event-id)"
            )),
        }
    }
}

impl std::fmt::Display for PartitionKeyMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PartitionKeyMode::Stream => "stream",
            PartitionKeyMode::EventId => "event-id",
        })
    }
}

/// Longest [`event_id_key`], in bytes. CloudWatch's event ids are 56 digits; a longer id is replaced
/// by its hash so that the space a record keeps for its key is bounded.
pub const MAX_EVENT_ID_KEY_BYTES: usize = 64;

/// The partition key of a record in [`PartitionKeyMode::EventId`]: the event id itself when it is
/// 1–64 bytes long, else `#` and 16 hex digits of its FNV-1a 64 hash (an empty id gives the hash of
/// nothing, never an empty key, which Kinesis rejects).
pub fn event_id_key(id: &str) -> String {
    if !id.is_empty() && id.len() <= MAX_EVENT_ID_KEY_BYTES {
        return id.to_owned();
    }
    format!("#{:016x}", fnv1a(id.bytes()))
}

fn fnv1a(bytes: impl Iterator<Item = u8>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
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
    let hash = fnv1a(log_group.bytes().chain([b'/']).chain(log_stream.bytes()));
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
    fn partition_key_mode_parses_and_prints() {
        for mode in [PartitionKeyMode::Stream, PartitionKeyMode::EventId] {
            assert_eq!(mode.to_string().parse::<PartitionKeyMode>(), Ok(mode));
        }
        assert_eq!(PartitionKeyMode::default(), PartitionKeyMode::Stream);
        let err = "event_id".parse::<PartitionKeyMode>().unwrap_err();
        assert!(
            err.contains("\"event_id\"") && err.contains("stream or event-id"),
            "{err}"
        );
    }

    #[test]
    fn event_id_key_is_the_id_or_a_bounded_hash() {
        let id = "37000000000000000000000000000000000000000000000000000001";
        assert_eq!(event_id_key(id), id);
        let long = "9".repeat(65);
        let k = event_id_key(&long);
        assert_eq!(k.len(), 17);
        assert!(k.starts_with('#'));
        assert_eq!(k, event_id_key(&long));
        assert_ne!(k, event_id_key(&"9".repeat(66)));
        assert_eq!(event_id_key("").len(), 17);
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

    #[test]
    fn a_key_of_257_characters_is_the_first_one_to_be_hashed() {
        // 200 + 1 + 56 = 257 characters: one too many for Kinesis, so it is cut and hashed.
        let k = partition_key(&"g".repeat(200), &"s".repeat(56));
        assert_eq!(k.chars().count(), MAX_PARTITION_KEY_CHARS);
        assert_eq!(
            k,
            format!("{}/{}#5b380a9a0ea3e16e", "g".repeat(200), "s".repeat(38))
        );
    }

    #[test]
    fn the_hash_is_fnv_1a_64() {
        // The published FNV-1a 64 test vectors (offset basis, "a", "foobar"): keys stay the same
        // across versions, so a stream keeps its shard.
        assert_eq!(event_id_key(""), "#cbf29ce484222325");
        assert_eq!(fnv1a("a".bytes()), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a("foobar".bytes()), 0x8594_4171_f739_67e8);
        assert_eq!(event_id_key(&"9".repeat(65)), "#f2f9bcc1d5426454");
    }
}
