//! Grouping records into PutRecords requests within the Kinesis limits.

use super::{ForwardError, Record};
use std::ops::Range;

/// At most 500 records per PutRecords request (Kinesis Data Streams API reference, PutRecords).
pub const MAX_RECORDS_PER_REQUEST: usize = 500;

/// At most 5 MiB per PutRecords request, data plus partition keys of all records (Kinesis Data
/// Streams API reference, PutRecords; newer documentation allows 10 MiB, 5 MiB is the conservative
/// default that every stream accepts).
pub const MAX_REQUEST_BYTES: usize = 5 * 1024 * 1024;

/// At most 1 MiB per record, data plus partition key (Kinesis Data Streams API reference,
/// PutRecords; a stream's maximum record size can be raised to 10 MiB, see the developer guide,
/// "Handle large records").
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// Size limits of records and PutRecords requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Records per request ([`MAX_RECORDS_PER_REQUEST`]).
    pub max_records: usize,
    /// Bytes per request, data + partition keys ([`MAX_REQUEST_BYTES`]).
    pub max_batch_bytes: usize,
    /// Bytes per record, data + partition key ([`MAX_RECORD_BYTES`]).
    pub max_record_bytes: usize,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_records: MAX_RECORDS_PER_REQUEST,
            max_batch_bytes: MAX_REQUEST_BYTES,
            max_record_bytes: MAX_RECORD_BYTES,
        }
    }
}

impl BatchLimits {
    /// Checks that the limits can work: all positive, and a record fits in a request.
    pub fn validate(&self) -> Result<(), ForwardError> {
        if self.max_records == 0 || self.max_batch_bytes == 0 || self.max_record_bytes == 0 {
            return Err(ForwardError::InvalidLimits(format!(
                "all limits must be positive: {self:?}"
            )));
        }
        if self.max_record_bytes > self.max_batch_bytes {
            return Err(ForwardError::InvalidLimits(format!(
                "max_record_bytes {} is larger than max_batch_bytes {}",
                self.max_record_bytes, self.max_batch_bytes
            )));
        }
        Ok(())
    }

    /// The room left for data in one record with this partition key.
    pub fn max_data_bytes(&self, partition_key: &str) -> usize {
        self.max_record_bytes.saturating_sub(partition_key.len())
    }
}

/// Splits `records` into consecutive ranges, one per request, each within `limits`, in order.
/// No records give no range (so no request). A record over `max_record_bytes` is an error.
pub fn plan_batches(
    records: &[Record],
    limits: &BatchLimits,
) -> Result<Vec<Range<usize>>, ForwardError> {
    limits.validate()?;
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, r) in records.iter().enumerate() {
        let size = r.size();
        if size > limits.max_record_bytes {
            return Err(ForwardError::RecordTooLarge {
                index: i,
                size,
                limit: limits.max_record_bytes,
            });
        }
        if i > start && (i - start == limits.max_records || bytes + size > limits.max_batch_bytes) {
            ranges.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < records.len() {
        ranges.push(start..records.len());
    }
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(size: usize) -> Record {
        // Partition key "k" counts one byte.
        Record {
            partition_key: "k".into(),
            data: vec![0; size - 1],
            events: 1,
        }
    }

    fn plan(records: &[Record]) -> Vec<Range<usize>> {
        plan_batches(records, &BatchLimits::default()).unwrap()
    }

    #[test]
    fn empty_gives_no_batch() {
        assert!(plan(&[]).is_empty());
    }

    #[test]
    fn exactly_500_records_is_one_batch_501_is_two() {
        let r: Vec<Record> = (0..500).map(|_| rec(10)).collect();
        assert_eq!(plan(&r), vec![0..500]);
        let r: Vec<Record> = (0..501).map(|_| rec(10)).collect();
        assert_eq!(plan(&r), vec![0..500, 500..501]);
        let r: Vec<Record> = (0..1001).map(|_| rec(10)).collect();
        assert_eq!(plan(&r), vec![0..500, 500..1000, 1000..1001]);
    }

    #[test]
    fn exactly_5_mib_is_one_batch_one_byte_more_is_two() {
        let r: Vec<Record> = (0..5).map(|_| rec(MAX_RECORD_BYTES)).collect();
        assert_eq!(r.iter().map(Record::size).sum::<usize>(), MAX_REQUEST_BYTES);
        assert_eq!(plan(&r), vec![0..5]);
        let mut r = r;
        r.push(rec(1 + 1));
        assert_eq!(plan(&r), vec![0..5, 5..6]);
        // Bytes, not count, close the batch: 4 full records + one of 1 MiB - 1 + one of 2 bytes.
        let r = vec![
            rec(MAX_RECORD_BYTES),
            rec(MAX_RECORD_BYTES),
            rec(MAX_RECORD_BYTES),
            rec(MAX_RECORD_BYTES),
            rec(MAX_RECORD_BYTES - 1),
            rec(2),
        ];
        assert_eq!(plan(&r), vec![0..5, 5..6]);
    }

    #[test]
    fn one_record_at_the_limit_fits_one_over_does_not() {
        assert_eq!(plan(&[rec(MAX_RECORD_BYTES)]), vec![0..1]);
        let err = plan_batches(
            &[rec(10), rec(MAX_RECORD_BYTES + 1)],
            &BatchLimits::default(),
        )
        .unwrap_err();
        assert!(
            matches!(err, ForwardError::RecordTooLarge { index: 1, size, limit: MAX_RECORD_BYTES } if size == MAX_RECORD_BYTES + 1)
        );
    }

    #[test]
    fn partition_key_counts_toward_the_size() {
        let r = Record {
            partition_key: "0123456789".into(),
            data: vec![0; MAX_RECORD_BYTES - 9],
            events: 1,
        };
        assert!(matches!(
            plan_batches(&[r], &BatchLimits::default()),
            Err(ForwardError::RecordTooLarge { .. })
        ));
    }

    #[test]
    fn custom_limits_and_validation() {
        let limits = BatchLimits {
            max_records: 2,
            max_batch_bytes: 100,
            max_record_bytes: 50,
        };
        let r: Vec<Record> = (0..5).map(|_| rec(40)).collect();
        assert_eq!(plan_batches(&r, &limits).unwrap(), vec![0..2, 2..4, 4..5]);
        let bad = BatchLimits {
            max_records: 0,
            ..BatchLimits::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(ForwardError::InvalidLimits(_))
        ));
        let bad = BatchLimits {
            max_record_bytes: 10,
            max_batch_bytes: 5,
            max_records: 1,
        };
        assert!(matches!(
            bad.validate(),
            Err(ForwardError::InvalidLimits(_))
        ));
    }

    #[test]
    fn each_zero_limit_is_refused_alone() {
        let zeros = [
            BatchLimits {
                max_records: 0,
                ..BatchLimits::default()
            },
            BatchLimits {
                max_batch_bytes: 0,
                ..BatchLimits::default()
            },
            BatchLimits {
                max_record_bytes: 0,
                ..BatchLimits::default()
            },
        ];
        for limits in zeros {
            match limits.validate() {
                Err(ForwardError::InvalidLimits(m)) => {
                    assert!(m.contains("must be positive"), "{limits:?}: {m}")
                }
                other => panic!("{limits:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_record_limit_equal_to_the_request_limit_is_valid() {
        // One record may fill a whole request.
        let limits = BatchLimits {
            max_records: 10,
            max_batch_bytes: 50,
            max_record_bytes: 50,
        };
        assert!(limits.validate().is_ok());
        let r = [rec(50), rec(50), rec(20), rec(30)];
        assert_eq!(plan_batches(&r, &limits).unwrap(), vec![0..1, 1..2, 2..4]);
    }
}
