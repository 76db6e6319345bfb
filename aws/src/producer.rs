//! The producer: NDJSON events to a Kinesis stream with PutRecords, in calls within the
//! service's limits (500 records, 5 MiB), retrying only the records that failed, with
//! exponential backoff and full jitter. What finally cannot be sent is reported by line, never
//! dropped silently.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Most records in one PutRecords call.
pub const MAX_RECORDS_PER_CALL: usize = 500;
/// Most bytes (data and partition keys) in one PutRecords call.
pub const MAX_BYTES_PER_CALL: usize = 5 * 1024 * 1024;
/// Attempts per record before it is reported as not sent.
pub const MAX_ATTEMPTS: u32 = 6;
/// The first retry waits up to this long; each next one twice as long.
pub const BASE_BACKOFF_MILLIS: u64 = 100;
/// No retry waits longer than this.
pub const MAX_BACKOFF_MILLIS: u64 = 5_000;

/// One record to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The partition key: the tenant id, so a tenant's events stay in order on one shard.
    pub partition_key: String,
    /// The event, as the producer wrote it.
    pub data: Vec<u8>,
    /// Where it came from (a line number), for the report.
    pub line: u64,
}

impl Record {
    fn size(&self) -> usize {
        self.data.len() + self.partition_key.len()
    }
}

/// One PutRecords call: `Ok` with one outcome per record (`Err` carrying the error code and
/// message of a record the service refused), or `Err` when the whole call failed.
pub trait RecordSink {
    /// Sends `records` in one call.
    fn put_records(&self, records: &[&Record]) -> Result<Vec<Result<(), String>>, String>;
}

/// What a send did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SendReport {
    /// Records the stream accepted.
    pub sent: u64,
    /// PutRecords calls made, retries included.
    pub calls: u64,
    /// Records not sent after every attempt: line and the last error.
    pub failed: Vec<(u64, String)>,
}

/// Sends every record, retrying the failed ones; `sleep` waits between attempts (tests pass a
/// recorder instead of the clock).
pub fn send_all(
    sink: &impl RecordSink,
    records: &[Record],
    sleep: &mut dyn FnMut(Duration),
) -> SendReport {
    let mut report = SendReport::default();
    let mut jitter = Jitter::new();
    // Indices of the records still to send, each with the last error it met.
    let mut pending: Vec<(usize, String)> = (0..records.len())
        .map(|index| (index, String::new()))
        .collect();
    for attempt in 0..MAX_ATTEMPTS {
        if pending.is_empty() {
            break;
        }
        if attempt > 0 {
            let cap = (BASE_BACKOFF_MILLIS << (attempt - 1)).min(MAX_BACKOFF_MILLIS);
            sleep(Duration::from_millis(jitter.below(cap + 1)));
        }
        let indices: Vec<usize> = pending.iter().map(|(index, _)| *index).collect();
        pending.clear();
        for call in calls(records, &indices) {
            report.calls += 1;
            let batch: Vec<&Record> = call.iter().map(|index| &records[*index]).collect();
            match sink.put_records(&batch) {
                Ok(outcomes) => {
                    assert_eq!(outcomes.len(), call.len(), "one outcome per record");
                    for (index, outcome) in call.into_iter().zip(outcomes) {
                        match outcome {
                            Ok(()) => report.sent += 1,
                            Err(error) => pending.push((index, error)),
                        }
                    }
                }
                Err(error) => pending.extend(call.into_iter().map(|index| (index, error.clone()))),
            }
        }
    }
    report.failed = pending
        .into_iter()
        .map(|(index, error)| (records[index].line, error))
        .collect();
    report
}

/// Splits the records at `indices` into calls of at most 500 records and 5 MiB.
fn calls(records: &[Record], indices: &[usize]) -> Vec<Vec<usize>> {
    let mut calls = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for &index in indices {
        let size = records[index].size();
        if !current.is_empty()
            && (current.len() == MAX_RECORDS_PER_CALL || bytes + size > MAX_BYTES_PER_CALL)
        {
            calls.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += size;
        current.push(index);
    }
    if !current.is_empty() {
        calls.push(current);
    }
    calls
}

/// Full jitter for backoff: uniform waits, seeded per process so producers do not retry in step.
struct Jitter {
    state: u64,
}

impl Jitter {
    fn new() -> Jitter {
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(0x5eed);
        Jitter {
            state: hasher.finish() | 1,
        }
    }

    /// A number in `[0, bound)` (xorshift64).
    fn below(&mut self, bound: u64) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state % bound.max(1)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// A sink that refuses chosen records a number of times, and records every call's size.
    struct FlakySink {
        refusals: RefCell<Vec<(u64, u32)>>,
        calls: RefCell<Vec<usize>>,
        whole_call_failures: RefCell<u32>,
    }

    impl RecordSink for FlakySink {
        fn put_records(&self, records: &[&Record]) -> Result<Vec<Result<(), String>>, String> {
            self.calls.borrow_mut().push(records.len());
            if *self.whole_call_failures.borrow() > 0 {
                *self.whole_call_failures.borrow_mut() -= 1;
                return Err("ServiceUnavailable".into());
            }
            let mut refusals = self.refusals.borrow_mut();
            Ok(records
                .iter()
                .map(|record| {
                    match refusals
                        .iter_mut()
                        .find(|(line, left)| *line == record.line && *left > 0)
                    {
                        Some((_, left)) => {
                            *left -= 1;
                            Err("ProvisionedThroughputExceededException".into())
                        }
                        None => Ok(()),
                    }
                })
                .collect())
        }
    }

    fn records(count: u64, size: usize) -> Vec<Record> {
        (1..=count)
            .map(|line| Record {
                partition_key: "t".into(),
                data: vec![b'x'; size],
                line,
            })
            .collect()
    }

    #[test]
    fn calls_respect_the_record_and_byte_limits() {
        let sink = FlakySink {
            refusals: RefCell::new(Vec::new()),
            calls: RefCell::new(Vec::new()),
            whole_call_failures: RefCell::new(0),
        };
        let report = send_all(&sink, &records(1_201, 10), &mut |_| {});
        assert_eq!(*sink.calls.borrow(), [500, 500, 201]);
        assert_eq!(report.sent, 1_201);
        let sink = FlakySink {
            refusals: RefCell::new(Vec::new()),
            calls: RefCell::new(Vec::new()),
            whole_call_failures: RefCell::new(0),
        };
        // 12 records of 1 MB minus the key: at most 5 fit in 5 MiB.
        send_all(&sink, &records(12, 1024 * 1024 - 1), &mut |_| {});
        assert_eq!(*sink.calls.borrow(), [5, 5, 2]);
    }

    #[test]
    fn only_failed_records_are_retried_with_growing_jittered_waits() {
        // GIVEN record 2 refused twice and record 3 refused forever
        let sink = FlakySink {
            refusals: RefCell::new(vec![(2, 2), (3, u32::MAX)]),
            calls: RefCell::new(Vec::new()),
            whole_call_failures: RefCell::new(0),
        };
        let mut waits = Vec::new();
        let report = send_all(&sink, &records(4, 10), &mut |wait| waits.push(wait));
        // THEN the first call carries all four, later ones only what failed
        assert_eq!(sink.calls.borrow()[..3], [4, 2, 2]);
        assert_eq!(report.sent, 3);
        assert_eq!(
            report.failed,
            [(3, "ProvisionedThroughputExceededException".to_owned())]
        );
        assert_eq!(waits.len() as u32, MAX_ATTEMPTS - 1);
        for (retry, wait) in waits.iter().enumerate() {
            let cap = (BASE_BACKOFF_MILLIS << retry).min(MAX_BACKOFF_MILLIS);
            assert!(
                wait.as_millis() as u64 <= cap,
                "retry {retry} waited {wait:?}"
            );
        }
    }

    #[test]
    fn a_failed_call_retries_its_records() {
        let sink = FlakySink {
            refusals: RefCell::new(Vec::new()),
            calls: RefCell::new(Vec::new()),
            whole_call_failures: RefCell::new(2),
        };
        let report = send_all(&sink, &records(3, 10), &mut |_| {});
        assert_eq!(report.sent, 3);
        assert!(report.failed.is_empty());
        assert_eq!(*sink.calls.borrow(), [3, 3, 3]);
    }
}
