//! A seeded simulation of the Kinesis event source mapping driving the stream consumer, with
//! every adapter call able to fail and the consumer able to die between any two writes.
//!
//! Each seed draws a small corpus (every meter, re-sent ids, events without ids, bad records,
//! late, too old and future events over three processing times), puts it on a simulated stream
//! (partition key = tenant id, some records packed by the KPL, shards split while records
//! arrive) and consumes it the way Lambda's event source mapping does: random batch sizes, the
//! partial batch response honoured or the batch bisected, successful batches delivered again,
//! parents before children. After every schedule the rollups and the events rows equal the
//! naive reference's, and every refused record is in the quarantine.
//!
//! `TALLY_SIM_SEEDS=N` runs seeds 0..N (default 10,000); `TALLY_SIM_SEED=S` runs one seed. A
//! seed that fails is added to `REGRESSIONS`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::{
    EventTuple, MAX_EVENT_AGE_DAYS, MAX_FUTURE_MINUTES, RowKey, assert_same_rows, at, event_rows,
    expected_event_rows, quarantine_records, values_of,
};
use rust_decimal::Decimal;
use tally_runtime::memory::MemoryBucket;
use tally_runtime::ports::RollupFilter;
use tally_runtime::stream::faults::{FaultPlan, Faulty};
use tally_runtime::stream::{
    ConsumerConfig, LedgerTables, MemoryTables, Position, StreamConsumer, StreamRecord,
};
use tally_runtime::{Error, Result};
use tally_sample::rng::Rng;
use tally_schemas::time::{MILLIS_PER_DAY, MILLIS_PER_MINUTE};
use tally_schemas::{MeterCatalog, TenantId, Timestamp};
use tally_testkit::{ReferenceRun, reference};

/// Seeds that once failed, run first on every run of the suite.
const REGRESSIONS: &[u64] = &[];

/// What the schedules did, over all seeds: proof that each kind of trouble happened.
static INJECTED: AtomicU64 = AtomicU64::new(0);
static CRASHES: AtomicU64 = AtomicU64::new(0);
static PARTIAL_RESPONSES: AtomicU64 = AtomicU64::new(0);
static BISECTS: AtomicU64 = AtomicU64::new(0);
static REDELIVERED_SUCCESSES: AtomicU64 = AtomicU64::new(0);
static SPLITS: AtomicU64 = AtomicU64::new(0);
static PACKED: AtomicU64 = AtomicU64::new(0);

const TENANTS: [&str; 3] = ["acme", "globex", "initech"];

// ---------------------------------------------------------------------------------------------
// Faults

/// The fault plan shared by the adapters of one schedule.
struct Faults {
    rng: Mutex<Rng>,
    /// Chance in a thousand that a call fails (a throttle, a 5xx, a timeout).
    fail_per_mille: AtomicU64,
    /// Chance in a thousand that the consumer dies at a call: it and every later call fail
    /// until the consumer is replaced, as if the Lambda's sandbox were gone.
    crash_per_mille: AtomicU64,
    crashed: AtomicBool,
}

impl Faults {
    fn new(seed: u64) -> Faults {
        Faults {
            rng: Mutex::new(Rng::for_stream(seed, &[99])),
            fail_per_mille: AtomicU64::new(0),
            crash_per_mille: AtomicU64::new(0),
            crashed: AtomicBool::new(false),
        }
    }

    fn set(&self, fail: u64, crash: u64) {
        self.fail_per_mille.store(fail, Ordering::SeqCst);
        self.crash_per_mille.store(crash, Ordering::SeqCst);
    }
}

impl FaultPlan for Faults {
    fn before(&self, call: &'static str, _tenant: Option<&TenantId>) -> Result<()> {
        if self.crashed.load(Ordering::SeqCst) {
            return Err(Error::Remote {
                operation: call.to_owned(),
                detail: "the consumer is dead".into(),
            });
        }
        let mut rng = self.rng.lock().unwrap();
        if rng.per_mille(self.crash_per_mille.load(Ordering::SeqCst)) {
            self.crashed.store(true, Ordering::SeqCst);
            CRASHES.fetch_add(1, Ordering::Relaxed);
            return Err(Error::Remote {
                operation: call.to_owned(),
                detail: "crashed".into(),
            });
        }
        if rng.per_mille(self.fail_per_mille.load(Ordering::SeqCst)) {
            INJECTED.fetch_add(1, Ordering::Relaxed);
            return Err(Error::Remote {
                operation: call.to_owned(),
                detail: "injected throttle".into(),
            });
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The corpus

/// One processing time and the lines producers put on the stream before it.
struct Run {
    now: Timestamp,
    lines: Vec<String>,
}

fn corpus(rng: &mut Rng) -> Vec<Run> {
    let nows = [
        at("2026-10-03T12:00:00Z"),
        at("2026-10-05T02:30:00Z"),
        at("2026-11-09T06:00:00Z"),
    ];
    let mut sent: Vec<String> = Vec::new();
    let mut next_id = 0;
    nows.iter()
        .map(|now| {
            let count = rng.between(5, 40);
            let lines = (0..count)
                .map(|_| {
                    let line = if !sent.is_empty() && rng.per_mille(120) {
                        // A producer re-sends something it sent before.
                        rng.pick(&sent).clone()
                    } else if rng.per_mille(60) {
                        bad_line(rng)
                    } else {
                        next_id += 1;
                        event_line(rng, *now, next_id)
                    };
                    sent.push(line.clone());
                    line
                })
                .collect();
            Run { now: *now, lines }
        })
        .collect()
}

fn event_line(rng: &mut Rng, now: Timestamp, id: u64) -> String {
    let tenant = rng.pick(&TENANTS);
    let metric = *rng.pick(&[
        "api_calls",
        "storage_gb",
        "cpu_hours",
        "memory_gb_hours",
        "active_users",
    ]);
    // Mostly the last two days; some older than the window, some too far ahead.
    let offset = match rng.below(20) {
        0 => -(MAX_EVENT_AGE_DAYS + 1) * MILLIS_PER_DAY,
        1 => (MAX_FUTURE_MINUTES + 2) * MILLIS_PER_MINUTE,
        _ => -(rng.below(2 * MILLIS_PER_DAY as u64) as i64),
    };
    let time = now.plus_millis(offset).to_rfc3339();
    let value = Decimal::new(rng.below(100_000) as i64, rng.below(4) as u32);
    let id = if rng.per_mille(200) {
        String::new()
    } else {
        format!(r#","event_id":"e-{id}""#)
    };
    let dimensions = if metric == "active_users" {
        format!(r#","dimensions":{{"user_id":"u-{}"}}"#, rng.below(4))
    } else {
        String::new()
    };
    format!(
        r#"{{"tenant_id":"{tenant}","metric":"{metric}","value":"{value}","timestamp":"{time}"{id}{dimensions}}}"#
    )
}

fn bad_line(rng: &mut Rng) -> String {
    match rng.below(3) {
        0 => "{not json".to_owned(),
        1 => format!(
            r#"{{"tenant_id":"{}","metric":"bogus","timestamp":"2026-10-01T00:00:00Z"}}"#,
            rng.pick(&TENANTS)
        ),
        _ => r#"{"tenant_id":"../etc","metric":"api_calls","timestamp":"2026-10-01T00:00:00Z"}"#
            .to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// The stream and the event source mapping

/// One Kinesis record: a sequence number and its user records (more than one when packed by
/// the KPL).
struct KinesisRecord {
    sequence: u64,
    lines: Vec<String>,
}

struct Shard {
    id: String,
    /// Hash keys `[low, high)` this shard takes while open.
    range: (u64, u64),
    open: bool,
    parent: Option<usize>,
    records: Vec<KinesisRecord>,
    /// What the mapping has checkpointed: records before this index are done.
    checkpoint: usize,
    /// The batch size after a bisect, until a batch succeeds.
    bisected: Option<usize>,
}

struct Stream {
    shards: Vec<Shard>,
    next_sequence: u64,
}

fn hash_key(partition_key: &str) -> u64 {
    // FNV-1a, standing in for the MD5 of partition keys Kinesis uses.
    partition_key
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3)
        })
}

fn partition_key(line: &str) -> String {
    serde_json::from_str::<serde_json::Value>(line)
        .ok()
        .and_then(|value| value.get("tenant_id")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

impl Stream {
    fn new() -> Stream {
        Stream {
            shards: vec![Shard::new(0, (0, u64::MAX), None)],
            next_sequence: 1_000,
        }
    }

    fn put(&mut self, lines: Vec<String>) {
        let key = hash_key(&partition_key(&lines[0]));
        let shard = self
            .shards
            .iter_mut()
            .find(|shard| shard.open && shard.range.0 <= key && key <= shard.range.1)
            .expect("open shards cover every hash key");
        self.next_sequence += 1 + key % 7;
        shard.records.push(KinesisRecord {
            sequence: self.next_sequence,
            lines,
        });
    }

    fn split(&mut self, rng: &mut Rng) {
        let open: Vec<usize> = (0..self.shards.len())
            .filter(|index| self.shards[*index].open)
            .collect();
        let parent = *rng.pick(&open);
        let (low, high) = self.shards[parent].range;
        if high - low < 2 {
            return;
        }
        let middle = low + (high - low) / 2;
        self.shards[parent].open = false;
        SPLITS.fetch_add(1, Ordering::Relaxed);
        let next = self.shards.len();
        self.shards
            .push(Shard::new(next, (low, middle), Some(parent)));
        self.shards
            .push(Shard::new(next + 1, (middle + 1, high), Some(parent)));
    }

    /// Shards the mapping may read now: records left, and the parent finished.
    fn ready(&self) -> Vec<usize> {
        (0..self.shards.len())
            .filter(|index| {
                let shard = &self.shards[*index];
                shard.checkpoint < shard.records.len()
                    && shard.parent.is_none_or(|parent| {
                        let parent = &self.shards[parent];
                        parent.checkpoint == parent.records.len()
                    })
            })
            .collect()
    }
}

impl Shard {
    fn new(number: usize, range: (u64, u64), parent: Option<usize>) -> Shard {
        Shard {
            id: format!("shardId-{number:012}"),
            range,
            open: true,
            parent,
            records: Vec::new(),
            checkpoint: 0,
            bisected: None,
        }
    }
}

/// Puts a run's lines on the stream: mostly one record each, sometimes a few lines of one
/// tenant packed into one record, sometimes a shard split in between.
fn produce(stream: &mut Stream, lines: &[String], rng: &mut Rng) {
    let mut index = 0;
    while index < lines.len() {
        if rng.per_mille(40) && stream.shards.len() < 12 {
            stream.split(rng);
        }
        let mut packed = vec![lines[index].clone()];
        index += 1;
        if rng.per_mille(150) {
            let key = partition_key(&packed[0]);
            while index < lines.len() && packed.len() < 3 && partition_key(&lines[index]) == key {
                packed.push(lines[index].clone());
                index += 1;
                PACKED.fetch_add(1, Ordering::Relaxed);
            }
        }
        stream.put(packed);
    }
}

/// Runs the event source mapping until every shard is read to its end.
fn consume(
    stream: &mut Stream,
    now: Timestamp,
    rng: &mut Rng,
    world: &World,
    consumer: &mut Option<Consumer>,
) {
    for _ in 0..100_000 {
        let ready = stream.ready();
        if ready.is_empty() {
            return;
        }
        let index = *rng.pick(&ready);
        let shard = &mut stream.shards[index];
        let left = shard.records.len() - shard.checkpoint;
        let size = shard
            .bisected
            .unwrap_or_else(|| rng.between(1, 12) as usize)
            .min(left);
        let batch = &shard.records[shard.checkpoint..shard.checkpoint + size];
        let records: Vec<StreamRecord> = batch
            .iter()
            .flat_map(|record| {
                record
                    .lines
                    .iter()
                    .enumerate()
                    .map(|(sub, line)| StreamRecord {
                        position: Position::new(&record.sequence.to_string(), sub as u32).unwrap(),
                        data: line.as_bytes().to_vec(),
                    })
            })
            .collect();
        let live = match consumer {
            Some(live) => live,
            None => match world.open() {
                Ok(opened) => consumer.insert(opened),
                Err(_) => {
                    world.faults.crashed.store(false, Ordering::SeqCst);
                    continue;
                }
            },
        };
        let report = live.process(&shard.id, &records, now);
        if world.faults.crashed.swap(false, Ordering::SeqCst) {
            // The sandbox died: whatever the handler returned never reached the mapping.
            *consumer = None;
            shard.bisected = Some(size.div_ceil(2));
            continue;
        }
        match report.retry_from {
            None => {
                shard.bisected = None;
                // At least once: a successful batch is sometimes delivered again.
                if rng.per_mille(100) {
                    REDELIVERED_SUCCESSES.fetch_add(1, Ordering::Relaxed);
                } else {
                    shard.checkpoint += size;
                }
            }
            Some(retry) if rng.per_mille(500) => {
                let failed = batch
                    .iter()
                    .position(|record| record.sequence.to_string() == retry.sequence())
                    .expect("the handler names a record of the batch");
                shard.checkpoint += failed;
                shard.bisected = None;
                PARTIAL_RESPONSES.fetch_add(1, Ordering::Relaxed);
            }
            Some(_) => {
                shard.bisected = Some(size.div_ceil(2));
                BISECTS.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    panic!("the mapping made no progress in 100,000 batches");
}

type Consumer = StreamConsumer<Faulty<Arc<MemoryBucket>>, Faulty<Arc<MemoryTables>>>;

/// The durable world every consumer of a schedule shares.
struct World {
    bucket: Arc<MemoryBucket>,
    tables: Arc<MemoryTables>,
    faults: Arc<Faults>,
}

impl World {
    fn open(&self) -> Result<Consumer> {
        StreamConsumer::open(
            Faulty {
                inner: self.bucket.clone(),
                plan: self.faults.clone(),
            },
            Faulty {
                inner: self.tables.clone(),
                plan: self.faults.clone(),
            },
            ConsumerConfig {
                catalog: MeterCatalog::defaults(),
                max_event_age_days: MAX_EVENT_AGE_DAYS,
                stream: "usage-metering".into(),
                cached_tenants: 2,
            },
        )
    }
}

// ---------------------------------------------------------------------------------------------
// The check

fn run_schedule(seed: u64) {
    let mut rng = Rng::for_stream(seed, &[1]);
    let runs = corpus(&mut rng);
    let world = World {
        bucket: Arc::new(MemoryBucket::default()),
        tables: Arc::new(MemoryTables::default()),
        faults: Arc::new(Faults::new(seed)),
    };
    let mut stream = Stream::new();
    let mut consumer = None;
    for run in &runs {
        produce(&mut stream, &run.lines, &mut rng);
        world.faults.set(rng.below(60), rng.below(15));
        consume(&mut stream, run.now, &mut rng, &world, &mut consumer);
    }
    // The invoice run's step: every tenant's gauges integrated up to the last processing time.
    world.faults.set(0, 0);
    let mut consumer = world.open().expect("opening without faults");
    let last = runs.last().expect("three runs").now;
    for tenant in world.tables.tenants().unwrap() {
        consumer.advance(&tenant, last).unwrap();
    }

    let expected = reference(
        &runs
            .iter()
            .enumerate()
            .map(|(index, run)| ReferenceRun {
                now: run.now,
                source: format!("run-{index}"),
                lines: run.lines.clone(),
            })
            .collect::<Vec<_>>(),
        &MeterCatalog::defaults(),
        MAX_EVENT_AGE_DAYS * MILLIS_PER_DAY,
        MAX_FUTURE_MINUTES * MILLIS_PER_MINUTE,
    );
    let context = format!("seed {seed}");
    let rollups: BTreeMap<RowKey, (Decimal, u64)> =
        values_of(world.tables.rollups(&RollupFilter::default()).unwrap());
    assert_eq!(rollups, expected.rollups, "{context}: rollups");
    let rows: BTreeMap<EventTuple, usize> = event_rows(world.bucket.as_ref());
    assert_same_rows(&rows, &expected_event_rows(&expected), &context);
    // Every refused record is in the quarantine; attributed ones exactly once.
    let mut quarantined: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (_, record) in quarantine_records(world.bucket.as_ref()) {
        quarantined
            .entry(record.reason.as_str().to_owned())
            .or_default()
            .insert(format!("{}@{}", record.source, record.position));
    }
    let quarantined: BTreeMap<String, usize> = quarantined
        .into_iter()
        .map(|(reason, positions)| (reason, positions.len()))
        .collect();
    assert_eq!(quarantined, expected.rejected, "{context}: quarantine");
    for tenant in world.tables.tenants().unwrap() {
        let head = world.tables.head(&tenant).unwrap().unwrap();
        assert_eq!(
            head.pending, None,
            "{context}: a commit of {tenant} is left pending"
        );
    }
}

#[test]
fn every_schedule_counts_each_event_exactly_once() {
    let seeds: Vec<u64> = match std::env::var("TALLY_SIM_SEED") {
        Ok(seed) => vec![seed.parse().expect("TALLY_SIM_SEED is a number")],
        Err(_) => {
            let count: u64 = std::env::var("TALLY_SIM_SEEDS")
                .map(|count| count.parse().expect("TALLY_SIM_SEEDS is a number"))
                .unwrap_or(10_000);
            REGRESSIONS.iter().copied().chain(0..count).collect()
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let next = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst) as usize;
                    let Some(seed) = seeds.get(index) else { break };
                    let outcome = std::panic::catch_unwind(|| run_schedule(*seed));
                    if let Err(panic) = outcome {
                        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
                        panic!(
                            "seed {seed} failed (reproduce with TALLY_SIM_SEED={seed}): {message}"
                        );
                    }
                }
            });
        }
    });
    if seeds.len() >= 100 {
        for (what, count) in [
            ("injected failures", &INJECTED),
            ("crashes", &CRASHES),
            ("partial batch responses", &PARTIAL_RESPONSES),
            ("bisects", &BISECTS),
            ("successful batches delivered again", &REDELIVERED_SUCCESSES),
            ("shard splits", &SPLITS),
            ("KPL-packed records", &PACKED),
        ] {
            let count = count.load(Ordering::Relaxed);
            eprintln!("{what}: {count}");
            assert!(count > 0, "no schedule had {what}");
        }
    }
}
