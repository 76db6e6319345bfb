//! Records to a Kinesis stream with PutRecords, in calls within the service's limits (500
//! records, 5 MiB), retrying only the records that failed, with exponential backoff and full
//! jitter. Every record is either sent or reported with its last error, never dropped silently.
//!
//! The retry schedule is one pure state machine (`Attempts`); `send_all` drives it with
//! blocking calls and waits, `send_all_async` with futures and Tokio's timer.

use std::collections::hash_map::RandomState;
use std::future::Future;
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
    /// Where it came from in the caller's input (a line number, an index in a batch); the
    /// report names records that were not sent by it.
    pub position: u64,
}

impl Record {
    fn size(&self) -> usize {
        self.data.len() + self.partition_key.len()
    }
}

/// What one PutRecords call returned: `Ok` with one outcome per record, in order (`Err`
/// carrying the error code and message of a record the service refused), or `Err` when the
/// whole call failed.
pub type CallOutcome = Result<Vec<Result<(), String>>, String>;

/// Makes one PutRecords call, blocking until it returns.
pub trait RecordSink {
    /// Sends `records` in one call.
    fn put_records(&self, records: &[&Record]) -> CallOutcome;
}

/// Makes one PutRecords call, asynchronously.
pub trait AsyncRecordSink {
    /// Sends `records` in one call.
    fn put_records(&self, records: &[&Record]) -> impl Future<Output = CallOutcome> + Send;
}

/// What putting a set of records did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PutReport {
    /// Records the stream accepted.
    pub sent: u64,
    /// PutRecords calls made, retries included.
    pub calls: u64,
    /// Records not sent after every attempt: their position and the last error.
    pub failed: Vec<(u64, String)>,
}

/// Sends every record, retrying the failed ones; `sleep` waits between attempts (tests pass a
/// recorder instead of the clock).
pub fn send_all(
    sink: &impl RecordSink,
    records: &[Record],
    sleep: &mut dyn FnMut(Duration),
) -> PutReport {
    let mut attempts = Attempts::new(records);
    while let Some(round) = attempts.next_round() {
        if let Some(wait) = round.wait {
            sleep(wait);
        }
        for call in round.calls {
            let outcome = sink.put_records(&batch(records, &call));
            attempts.record(call, outcome);
        }
    }
    attempts.finish()
}

/// Sends every record like `send_all`, waiting with Tokio's timer, so it must run on a Tokio
/// runtime with time enabled.
pub async fn send_all_async(sink: &impl AsyncRecordSink, records: &[Record]) -> PutReport {
    let mut attempts = Attempts::new(records);
    while let Some(round) = attempts.next_round() {
        if let Some(wait) = round.wait {
            tokio::time::sleep(wait).await;
        }
        for call in round.calls {
            let outcome = sink.put_records(&batch(records, &call)).await;
            attempts.record(call, outcome);
        }
    }
    attempts.finish()
}

fn batch<'a>(records: &'a [Record], call: &[usize]) -> Vec<&'a Record> {
    call.iter().map(|index| &records[*index]).collect()
}

/// One attempt: how long to wait before it (nothing before the first), and the records of each
/// of its calls, by index.
struct Round {
    wait: Option<Duration>,
    calls: Vec<Vec<usize>>,
}

/// The retry schedule of one send, without IO: which records go in which call of which
/// attempt, and what became of each.
struct Attempts<'a> {
    records: &'a [Record],
    /// Indices of the records still to send, each with the last error it met.
    pending: Vec<(usize, String)>,
    attempt: u32,
    jitter: Jitter,
    report: PutReport,
}

impl<'a> Attempts<'a> {
    fn new(records: &'a [Record]) -> Attempts<'a> {
        Attempts {
            records,
            pending: (0..records.len())
                .map(|index| (index, String::new()))
                .collect(),
            attempt: 0,
            jitter: Jitter::new(),
            report: PutReport::default(),
        }
    }

    /// The next attempt, or `None` when every record is sent or the attempts are used up.
    fn next_round(&mut self) -> Option<Round> {
        if self.pending.is_empty() || self.attempt == MAX_ATTEMPTS {
            return None;
        }
        let wait = (self.attempt > 0).then(|| {
            let cap = (BASE_BACKOFF_MILLIS << (self.attempt - 1)).min(MAX_BACKOFF_MILLIS);
            Duration::from_millis(self.jitter.below(cap + 1))
        });
        self.attempt += 1;
        let indices: Vec<usize> = self.pending.drain(..).map(|(index, _)| index).collect();
        Some(Round {
            wait,
            calls: calls(self.records, &indices),
        })
    }

    /// Takes in what the call of the records at `call` returned.
    fn record(&mut self, call: Vec<usize>, outcome: CallOutcome) {
        self.report.calls += 1;
        match outcome {
            Ok(outcomes) => {
                assert_eq!(outcomes.len(), call.len(), "one outcome per record");
                for (index, outcome) in call.into_iter().zip(outcomes) {
                    match outcome {
                        Ok(()) => self.report.sent += 1,
                        Err(error) => self.pending.push((index, error)),
                    }
                }
            }
            Err(error) => self
                .pending
                .extend(call.into_iter().map(|index| (index, error.clone()))),
        }
    }

    fn finish(self) -> PutReport {
        let records = self.records;
        let mut report = self.report;
        report.failed = self
            .pending
            .into_iter()
            .map(|(index, error)| (records[index].position, error))
            .collect();
        assert_eq!(
            report.sent as usize + report.failed.len(),
            records.len(),
            "every record is either sent or reported"
        );
        report
    }
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
    use std::sync::Mutex;

    use super::*;

    /// A sink that refuses chosen records a number of times, and records every call's size.
    #[derive(Default)]
    struct FlakySink {
        /// `(position, refusals left)`.
        refusals: Mutex<Vec<(u64, u32)>>,
        calls: Mutex<Vec<usize>>,
        whole_call_failures: Mutex<u32>,
    }

    impl FlakySink {
        fn outcome(&self, records: &[&Record]) -> CallOutcome {
            self.calls.lock().unwrap().push(records.len());
            let mut whole_call_failures = self.whole_call_failures.lock().unwrap();
            if *whole_call_failures > 0 {
                *whole_call_failures -= 1;
                return Err("ServiceUnavailable".into());
            }
            let mut refusals = self.refusals.lock().unwrap();
            Ok(records
                .iter()
                .map(|record| {
                    match refusals
                        .iter_mut()
                        .find(|(position, left)| *position == record.position && *left > 0)
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

        fn calls(&self) -> Vec<usize> {
            self.calls.lock().unwrap().clone()
        }
    }

    impl RecordSink for FlakySink {
        fn put_records(&self, records: &[&Record]) -> CallOutcome {
            self.outcome(records)
        }
    }

    impl AsyncRecordSink for FlakySink {
        async fn put_records(&self, records: &[&Record]) -> CallOutcome {
            self.outcome(records)
        }
    }

    fn records(count: u64, size: usize) -> Vec<Record> {
        (1..=count)
            .map(|position| Record {
                partition_key: "t".into(),
                data: vec![b'x'; size],
                position,
            })
            .collect()
    }

    #[test]
    fn calls_respect_the_record_and_byte_limits() {
        let sink = FlakySink::default();
        let report = send_all(&sink, &records(1_201, 10), &mut |_| {});
        assert_eq!(sink.calls(), [500, 500, 201]);
        assert_eq!(report.sent, 1_201);
        let sink = FlakySink::default();
        // 12 records of 1 MB minus the key: at most 5 fit in 5 MiB.
        send_all(&sink, &records(12, 1024 * 1024 - 1), &mut |_| {});
        assert_eq!(sink.calls(), [5, 5, 2]);
    }

    #[test]
    fn only_failed_records_are_retried_with_growing_jittered_waits() {
        // GIVEN record 2 refused twice and record 3 refused forever
        let sink = FlakySink {
            refusals: Mutex::new(vec![(2, 2), (3, u32::MAX)]),
            ..FlakySink::default()
        };
        let mut waits = Vec::new();
        let report = send_all(&sink, &records(4, 10), &mut |wait| waits.push(wait));
        // THEN the first call carries all four, later ones only what failed
        assert_eq!(sink.calls()[..3], [4, 2, 2]);
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
            whole_call_failures: Mutex::new(2),
            ..FlakySink::default()
        };
        let report = send_all(&sink, &records(3, 10), &mut |_| {});
        assert_eq!(report.sent, 3);
        assert!(report.failed.is_empty());
        assert_eq!(sink.calls(), [3, 3, 3]);
    }

    #[test]
    fn nothing_to_send_makes_no_call() {
        let sink = FlakySink::default();
        let report = send_all(&sink, &[], &mut |_| panic!("no wait"));
        assert_eq!(report, PutReport::default());
        assert!(sink.calls().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn the_async_driver_follows_the_same_schedule() {
        // GIVEN record 1 refused once, record 2 refused forever, and one failed call first
        let sink = FlakySink {
            refusals: Mutex::new(vec![(1, 1), (2, u32::MAX)]),
            whole_call_failures: Mutex::new(1),
            ..FlakySink::default()
        };
        let started = tokio::time::Instant::now();
        // WHEN sent asynchronously
        let report = send_all_async(&sink, &records(3, 10)).await;
        // THEN the failed call is retried whole, then only the refused records
        assert_eq!(sink.calls()[..3], [3, 3, 2]);
        assert_eq!(sink.calls().len() as u32, MAX_ATTEMPTS);
        assert_eq!(report.sent, 2);
        assert_eq!(report.calls, u64::from(MAX_ATTEMPTS));
        assert_eq!(
            report.failed,
            [(2, "ProvisionedThroughputExceededException".to_owned())]
        );
        // AND the waits stayed under the sum of the caps
        let caps: u64 = (0..MAX_ATTEMPTS - 1)
            .map(|retry| (BASE_BACKOFF_MILLIS << retry).min(MAX_BACKOFF_MILLIS))
            .sum();
        assert!(started.elapsed() <= Duration::from_millis(caps));
    }
}
