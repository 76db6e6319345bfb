//! Helpers shared by the runtime's integration tests: the sample month, the naive reference
//! over it, and readers that turn what a pipeline left in its bucket and store into plain
//! values to compare.

// Each test file compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use rust_decimal::Decimal;
use tally_aggregator::{Rollup, RollupKey};
use tally_runtime::embedded::{LocalBucket, RedbStore};
use tally_runtime::memory::{MemoryBucket, MemoryStore};
use tally_runtime::parquet::{DecodedEvent, decode_events};
use tally_runtime::pipeline::{IngestOptions, IngestSummary, Pipeline, PipelineConfig};
use tally_runtime::ports::{Bucket, MeteringStore, RollupFilter};
use tally_runtime::quarantine::{QuarantineRecord, decode_records};
use tally_sample::{SampleOptions, SampleRun, generate_month};
use tally_schemas::time::{MILLIS_PER_DAY, MILLIS_PER_MINUTE};
use tally_schemas::{MeterCatalog, Timestamp};
use tally_testkit::{ReferenceOutcome, ReferenceRun, reference};

/// The acceptance window the tests run with, in days (the design's default).
pub const MAX_EVENT_AGE_DAYS: i64 = 35;
/// How far ahead of processing time an event may be, in minutes (the design's limit).
pub const MAX_FUTURE_MINUTES: i64 = 5;
/// The grace after the end of an event's day before it counts as late, in minutes (the core's
/// default).
pub const LATE_GRACE_MINUTES: i64 = 60;
/// The sample days the pipeline tests replay: enough for re-sends days later, late events and
/// every kind of bad line, few enough to keep the dev-profile suite quick (the whole month
/// takes about a minute there).
pub const SAMPLE_DAYS: usize = 10;

/// An instant from RFC 3339 text.
pub fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).expect("test timestamps are valid")
}

/// The first [`SAMPLE_DAYS`] runs of the sample month of October 2026: seed 1, 3 tenants,
/// scale 1.
pub fn sample_runs() -> Vec<SampleRun> {
    let options = SampleOptions {
        seed: 1,
        tenants: 3,
        scale: 1,
    };
    let mut plan = generate_month(at("2026-10-01T00:00:00Z"), &options);
    plan.runs.truncate(SAMPLE_DAYS);
    plan.runs
}

/// The runs as the reference reads them.
pub fn reference_runs(runs: &[SampleRun]) -> Vec<ReferenceRun> {
    runs.iter()
        .map(|run| ReferenceRun {
            now: run.now,
            source: run.name.clone(),
            lines: run.lines.clone(),
        })
        .collect()
}

/// What the pipeline must produce for `runs`.
pub fn expected(runs: &[SampleRun]) -> ReferenceOutcome {
    reference(
        &reference_runs(runs),
        &MeterCatalog::defaults(),
        MAX_EVENT_AGE_DAYS * MILLIS_PER_DAY,
        MAX_FUTURE_MINUTES * MILLIS_PER_MINUTE,
    )
}

/// The settings every pipeline test opens with.
pub fn config() -> PipelineConfig {
    PipelineConfig {
        catalog: MeterCatalog::defaults(),
        max_event_age_days: MAX_EVENT_AGE_DAYS,
        crash_at: None,
    }
}

/// Ingests one run, its lines joined with newlines, committing every `commit_every` lines.
pub fn ingest<B: Bucket, S: MeteringStore>(
    pipeline: &mut Pipeline<B, S>,
    run: &SampleRun,
    commit_every: usize,
) -> IngestSummary {
    let text = run.lines.join("\n");
    let options = IngestOptions {
        source: run.name.clone(),
        now: run.now,
        commit_every,
    };
    pipeline
        .ingest(text.as_bytes(), &options, &mut |_| {})
        .unwrap_or_else(|error| panic!("ingesting {}: {error}", run.name))
}

/// One rollup as the reference keys it: (tenant, metric, granularity, window start in ms).
pub type RowKey = (String, String, &'static str, i64);

/// Every rollup of `store`, as the reference reports it: the value in the meter's window unit
/// and the event count.
pub fn rollup_values(store: &impl MeteringStore) -> BTreeMap<RowKey, (Decimal, u64)> {
    values_of(
        store
            .rollups(&RollupFilter::default())
            .expect("rollups read back"),
    )
}

/// Rollups as the reference reports them: the value in the meter's window unit and the event
/// count.
pub fn values_of(rollups: Vec<(RollupKey, Rollup)>) -> BTreeMap<RowKey, (Decimal, u64)> {
    let catalog = MeterCatalog::defaults();
    rollups
        .into_iter()
        .map(|(key, rollup)| {
            let aggregation = catalog
                .get(&key.metric)
                .expect("rollups name catalog meters")
                .aggregation;
            let row_key = (
                key.tenant_id.to_string(),
                key.metric.clone(),
                key.granularity.as_str(),
                key.window_start.as_millis(),
            );
            (row_key, (rollup.value(aggregation), rollup.events))
        })
        .collect()
}

/// One events row as a comparable tuple: tenant, metric, value, event time (ms), event id,
/// received at (ms) and dimensions.
pub type EventTuple = (
    String,
    String,
    Decimal,
    i64,
    Option<String>,
    i64,
    BTreeMap<String, String>,
);

/// The tuple of a decoded row.
pub fn decoded_tuple(row: &DecodedEvent) -> EventTuple {
    (
        row.tenant_id.clone(),
        row.metric.clone(),
        row.value.normalize(),
        row.event_time.as_millis(),
        row.event_id.clone(),
        row.received_at.as_millis(),
        row.dimensions.clone(),
    )
}

/// The rows the reference accepted, as a multiset of tuples (received at = the processing
/// time of the run that accepted the event).
pub fn expected_event_rows(outcome: &ReferenceOutcome) -> BTreeMap<EventTuple, usize> {
    let mut rows = BTreeMap::new();
    for (event, now) in &outcome.accepted {
        let tuple = (
            event.tenant_id.to_string(),
            event.metric.clone(),
            event.value.normalize(),
            event.event_time.as_millis(),
            event.event_id().map(str::to_owned),
            now.as_millis(),
            event.dimensions.clone(),
        );
        *rows.entry(tuple).or_insert(0) += 1;
    }
    rows
}

/// Decodes every events object under `tenants/`, checking on the way that each object's key
/// names the tenant and the UTC day of every row in it; returns the rows as a multiset.
pub fn event_rows(bucket: &impl Bucket) -> BTreeMap<EventTuple, usize> {
    let mut rows = BTreeMap::new();
    for key in bucket.list("tenants/").expect("listing tenants/") {
        let bytes = bucket
            .get(&key)
            .expect("reading an events object")
            .expect("listed keys exist");
        let decoded =
            decode_events(&bytes).unwrap_or_else(|error| panic!("decoding {key}: {error}"));
        assert!(
            !decoded.is_empty(),
            "{key} holds no rows; empty partitions should not be written"
        );
        for row in &decoded {
            let partition = format!(
                "tenants/{}/usage/events/dt={}/",
                row.tenant_id,
                row.event_time.date_string()
            );
            assert!(
                key.starts_with(&partition) && key.ends_with(".parquet"),
                "{key} holds a row of {} at {}, which belongs under {partition}",
                row.tenant_id,
                row.event_time
            );
            *rows.entry(decoded_tuple(row)).or_insert(0) += 1;
        }
    }
    rows
}

/// Asserts two multisets of rows are equal, showing the first few rows that differ.
pub fn assert_same_rows(
    actual: &BTreeMap<EventTuple, usize>,
    expected: &BTreeMap<EventTuple, usize>,
    context: &str,
) {
    let differ = |from: &BTreeMap<EventTuple, usize>, to: &BTreeMap<EventTuple, usize>| {
        from.iter()
            .filter(|(row, count)| to.get(*row) != Some(*count))
            .take(3)
            .map(|(row, count)| format!("{count} × {row:?}"))
            .collect::<Vec<_>>()
    };
    assert!(
        actual == expected,
        "{context}: {} rows vs {} expected; unexpected: {:#?}; missing: {:#?}",
        actual.values().sum::<usize>(),
        expected.values().sum::<usize>(),
        differ(actual, expected),
        differ(expected, actual)
    );
}

/// Every quarantine record in the bucket, with the key of its object.
pub fn quarantine_records(bucket: &impl Bucket) -> Vec<(String, QuarantineRecord)> {
    let mut records = Vec::new();
    for key in bucket.list("quarantine/").expect("listing quarantine/") {
        let bytes = bucket
            .get(&key)
            .expect("reading a quarantine object")
            .expect("listed keys exist");
        let decoded =
            decode_records(&bytes).unwrap_or_else(|error| panic!("decoding {key}: {error}"));
        records.extend(decoded.into_iter().map(|record| (key.clone(), record)));
    }
    records
}

/// The summaries of several ingests added up, with reasons by name as the reference keys them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Lines read.
    pub lines: u64,
    /// Blank lines skipped.
    pub blank_lines: u64,
    /// Events counted.
    pub accepted: u64,
    /// Of those, late ones.
    pub late: u64,
    /// Deliveries dropped as already counted.
    pub duplicates: u64,
    /// Refused lines by reason name.
    pub rejected: BTreeMap<String, u64>,
}

impl Totals {
    /// Adds one summary.
    pub fn add(&mut self, summary: &IngestSummary) {
        self.lines += summary.lines;
        self.blank_lines += summary.blank_lines;
        self.accepted += summary.accepted;
        self.late += summary.late;
        self.duplicates += summary.duplicates;
        for (reason, count) in &summary.rejected {
            *self.rejected.entry(reason.as_str().to_owned()).or_default() += count;
        }
    }

    /// Refused lines in all.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }
}

/// How many of the reference's accepted events arrived after their UTC day ended plus the
/// late grace.
pub fn expected_late(outcome: &ReferenceOutcome) -> u64 {
    let grace = LATE_GRACE_MINUTES * MILLIS_PER_MINUTE;
    outcome
        .accepted
        .iter()
        .filter(|(event, now)| {
            *now >= event
                .event_time
                .floor_day()
                .plus_millis(MILLIS_PER_DAY + grace)
        })
        .count() as u64
}

/// Opens the embedded adapters in `directory`, as `tally` lays them out.
pub fn open_embedded(directory: &Path) -> Pipeline<LocalBucket, RedbStore> {
    let bucket = LocalBucket::open(directory.join("bucket")).unwrap();
    let store = RedbStore::open(&directory.join("tables.redb")).unwrap();
    Pipeline::open(bucket, store, config()).unwrap()
}

/// Opens the in-memory adapters.
pub fn open_memory() -> Pipeline<MemoryBucket, MemoryStore> {
    Pipeline::open(MemoryBucket::default(), MemoryStore::default(), config()).unwrap()
}

/// Every rollup of `store`, by key.
pub fn all_rollups(store: &impl MeteringStore) -> BTreeMap<RollupKey, Rollup> {
    store
        .rollups(&RollupFilter::default())
        .unwrap()
        .into_iter()
        .collect()
}
