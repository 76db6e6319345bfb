//! The events files as the source of truth: month amounts recomputed from them alone equal the
//! month rollups the core wrote, gauges carry levels in from earlier days, and a lost events
//! object shows as a difference.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use tally_aggregator::Granularity;
use tally_runtime::parquet::decode_events;
use tally_runtime::pipeline::{DEFAULT_COMMIT_EVERY, IngestOptions, Pipeline};
use tally_runtime::ports::{Bucket, MeteringStore, RollupFilter};
use tally_runtime::truth::{
    Amount, Difference, SeriesName, compare_with_rollups, month_amounts_from_events,
};
use tally_schemas::time::MILLIS_PER_HOUR;
use tally_schemas::{MeterCatalog, Timestamp};

use common::{at, ingest, open_embedded, open_memory, sample_runs};

/// Sample days ingested: a week and a day of October, enough for late events and re-sends.
const SAMPLE_DAYS: usize = 8;

fn october() -> Timestamp {
    at("2026-10-01T00:00:00Z")
}

/// Ingests the first [`SAMPLE_DAYS`] runs of the sample month into `pipeline`.
fn ingest_sample_days<B: Bucket, S: MeteringStore>(pipeline: &mut Pipeline<B, S>) {
    for run in sample_runs().iter().take(SAMPLE_DAYS) {
        ingest(pipeline, run, DEFAULT_COMMIT_EVERY);
    }
}

/// The store's latest processing time, as `tally reconcile` passes it.
fn horizon(store: &impl MeteringStore) -> Timestamp {
    store
        .load_state()
        .unwrap()
        .horizon
        .expect("something was ingested")
}

/// The truth of `month_start` for the pipeline's bucket, at the store's horizon.
fn truth<B: Bucket, S: MeteringStore>(
    pipeline: &Pipeline<B, S>,
    month_start: Timestamp,
) -> BTreeMap<SeriesName, Amount> {
    let horizon = horizon(pipeline.store());
    month_amounts_from_events(
        pipeline.bucket(),
        &MeterCatalog::defaults(),
        month_start,
        horizon,
    )
    .unwrap()
}

/// The month rollups of `month_start`, read independently of `compare_with_rollups`.
fn month_rollups(
    store: &impl MeteringStore,
    month_start: Timestamp,
) -> BTreeMap<SeriesName, Amount> {
    let filter = RollupFilter {
        granularity: Some(Granularity::Month),
        ..RollupFilter::default()
    };
    store
        .rollups(&filter)
        .unwrap()
        .into_iter()
        .filter(|(key, _)| key.window_start == month_start)
        .map(|(key, rollup)| {
            (
                (key.tenant_id.as_str().to_owned(), key.metric),
                Amount::from(&rollup),
            )
        })
        .collect()
}

#[test]
fn given_eight_sample_days_when_october_is_recomputed_from_the_events_files_then_it_equals_the_month_rollups()
 {
    // GIVEN the first eight days of the sample month ingested through the embedded adapters
    let directory = tempfile::tempdir().unwrap();
    let mut pipeline = open_embedded(directory.path());
    ingest_sample_days(&mut pipeline);
    // WHEN October is recomputed from the events files alone
    let truth = truth(&pipeline, october());
    // THEN it covers the three tenants and the five meters
    let tenants: BTreeSet<&str> = truth.keys().map(|(tenant, _)| tenant.as_str()).collect();
    let metrics: BTreeSet<&str> = truth.keys().map(|(_, metric)| metric.as_str()).collect();
    assert_eq!(tenants.len(), 3, "{tenants:?}");
    let defaults = MeterCatalog::defaults();
    let meters: BTreeSet<&str> = defaults.meters().iter().map(|m| m.name.as_str()).collect();
    assert_eq!(metrics, meters);
    // AND every amount and event count equals the month rollup's, with none missing
    assert_eq!(truth, month_rollups(pipeline.store(), october()));
    // AND the comparison finds no difference.
    assert_eq!(
        compare_with_rollups(pipeline.store(), &truth, october()).unwrap(),
        Vec::<Difference>::new()
    );
}

/// One storage sample of tenant `t1` as an NDJSON line.
fn storage_sample(event_id: &str, timestamp: &str, value: u32) -> String {
    format!(
        r#"{{"tenant_id":"t1","metric":"storage_gb","value":{value},"timestamp":"{timestamp}","event_id":"{event_id}"}}"#
    )
}

/// Ingests `lines` as one input processed at `now`.
fn ingest_lines<B: Bucket, S: MeteringStore>(
    pipeline: &mut Pipeline<B, S>,
    source: &str,
    now: &str,
    lines: &[String],
) {
    let options = IngestOptions {
        source: source.to_owned(),
        now: at(now),
        commit_every: DEFAULT_COMMIT_EVERY,
    };
    let summary = pipeline
        .ingest(lines.join("\n").as_bytes(), &options, &mut |_| {})
        .unwrap();
    assert_eq!(
        summary.accepted,
        lines.len() as u64,
        "{source}: all accepted"
    );
}

fn storage_amount(unit_hours: i64, events: u64) -> Amount {
    Amount {
        amount: Decimal::from(unit_hours * MILLIS_PER_HOUR),
        events,
    }
}

fn only_storage(amount: Amount) -> BTreeMap<SeriesName, Amount> {
    BTreeMap::from([(("t1".to_owned(), "storage_gb".to_owned()), amount)])
}

#[test]
fn given_a_level_set_on_30_september_when_october_is_recomputed_then_it_is_carried_into_1_october()
{
    // GIVEN 7 GB from 29 Sep 00:00 and 10 GB from 30 Sep 12:00, processed on 30 Sep
    let mut pipeline = open_memory();
    let september_lines = [
        storage_sample("s-1", "2026-09-29T00:00:00Z", 7),
        storage_sample("s-2", "2026-09-30T12:00:00Z", 10),
    ];
    ingest_lines(
        &mut pipeline,
        "september",
        "2026-09-30T18:00:00Z",
        &september_lines,
    );
    // AND, processed at 2 Oct 00:00, 4 GB from 1 Oct 06:00 and a sample 3 minutes ahead of
    // processing time, then in another object a smaller sample at the same instant as the 4
    let october_lines = [
        storage_sample("s-3", "2026-10-01T06:00:00Z", 4),
        storage_sample("s-4", "2026-10-02T00:03:00Z", 100),
    ];
    ingest_lines(
        &mut pipeline,
        "october",
        "2026-10-02T00:00:00Z",
        &october_lines,
    );
    let tie = [storage_sample("s-5", "2026-10-01T06:00:00Z", 3)];
    ingest_lines(&mut pipeline, "tie", "2026-10-02T00:00:00Z", &tie);
    // WHEN October and September are recomputed at the horizon, 2 Oct 00:00
    let october_truth = truth(&pipeline, october());
    let september_truth = truth(&pipeline, at("2026-09-01T00:00:00Z"));
    // THEN October holds 10 GB for 6 h, carried from 30 Sep, then the larger tied 4 GB for
    // 18 h: 132 GB-hours; the sample past the horizon counts as an event, not yet as level
    assert_eq!(
        october_truth,
        only_storage(storage_amount(10 * 6 + 4 * 18, 3))
    );
    // AND September holds 7 GB for 36 h then 10 GB for its last 12 h: 372 GB-hours
    assert_eq!(
        september_truth,
        only_storage(storage_amount(7 * 36 + 10 * 12, 2))
    );
    // AND the core's month rollups agree with both.
    assert_eq!(
        compare_with_rollups(pipeline.store(), &october_truth, october()).unwrap(),
        []
    );
    assert_eq!(
        compare_with_rollups(
            pipeline.store(),
            &september_truth,
            at("2026-09-01T00:00:00Z")
        )
        .unwrap(),
        []
    );
}

#[test]
fn given_a_level_carried_into_a_month_without_samples_then_the_month_has_an_amount_and_no_events() {
    // GIVEN 2 GB from 31 Oct 12:00, and an API call on 1 Nov processed on 2 Nov
    let mut pipeline = open_memory();
    let sample = [storage_sample("s-1", "2026-10-31T12:00:00Z", 2)];
    ingest_lines(&mut pipeline, "october", "2026-11-01T00:00:00Z", &sample);
    let call = [
        r#"{"tenant_id":"t1","metric":"api_calls","timestamp":"2026-11-01T23:00:00Z","event_id":"c-1"}"#
            .to_owned(),
    ];
    ingest_lines(&mut pipeline, "november", "2026-11-02T00:00:00Z", &call);
    // WHEN November is recomputed at the horizon, 2 Nov 00:00
    let november = at("2026-11-01T00:00:00Z");
    let truth = truth(&pipeline, november);
    // THEN storage holds 2 GB for the whole first day with no event in the month, beside the
    // call
    let mut expected = only_storage(storage_amount(2 * 24, 0));
    expected.insert(
        ("t1".to_owned(), "api_calls".to_owned()),
        Amount {
            amount: Decimal::ONE,
            events: 1,
        },
    );
    assert_eq!(truth, expected);
    // AND the core wrote the same month rollups.
    assert_eq!(
        compare_with_rollups(pipeline.store(), &truth, november).unwrap(),
        []
    );
}

#[test]
fn given_a_deleted_events_object_when_compared_then_each_of_its_tenant_meters_differs() {
    // GIVEN the sample days ingested and one October events object deleted
    let mut pipeline = open_memory();
    ingest_sample_days(&mut pipeline);
    let key = pipeline
        .bucket()
        .list("tenants/")
        .unwrap()
        .into_iter()
        .find(|key| key.contains("/usage/events/dt=2026-10-03/"))
        .expect("an events object of 3 October");
    let bytes = pipeline.bucket().get(&key).unwrap().unwrap();
    let mut lost_events: BTreeMap<SeriesName, u64> = BTreeMap::new();
    for row in decode_events(&bytes).unwrap() {
        *lost_events.entry((row.tenant_id, row.metric)).or_default() += 1;
    }
    pipeline.bucket().delete(&key).unwrap();
    // WHEN October is recomputed and compared with the month rollups
    let truth = truth(&pipeline, october());
    let differences = compare_with_rollups(pipeline.store(), &truth, october()).unwrap();
    // THEN exactly the tenant and meters of the object differ, each short of the events it held
    let differing: BTreeSet<SeriesName> = differences
        .iter()
        .map(|difference| (difference.tenant_id.clone(), difference.metric.clone()))
        .collect();
    let lost: BTreeSet<SeriesName> = lost_events.keys().cloned().collect();
    assert_eq!(differing, lost, "{key}");
    for difference in &differences {
        let name = (difference.tenant_id.clone(), difference.metric.clone());
        let rollup = difference.from_rollups.expect("the rollup stays");
        let recomputed = difference.from_events.map_or(0, |amount| amount.events);
        assert_eq!(recomputed + lost_events[&name], rollup.events, "{name:?}");
    }
}

#[test]
fn given_months_without_events_when_recomputed_then_they_are_empty_and_match_no_rollup() {
    // GIVEN the sample days of October ingested
    let mut pipeline = open_memory();
    ingest_sample_days(&mut pipeline);
    // WHEN September, before every event, and November, after the horizon, are recomputed
    for month in ["2026-09-01T00:00:00Z", "2026-11-01T00:00:00Z"] {
        let truth = truth(&pipeline, at(month));
        // THEN both are empty and the store has no month rollup for them either.
        assert_eq!(truth, BTreeMap::new(), "{month}");
        assert_eq!(
            compare_with_rollups(pipeline.store(), &truth, at(month)).unwrap(),
            [],
            "{month}"
        );
    }
}

#[test]
fn given_an_instant_that_is_not_a_month_start_then_both_functions_refuse_it() {
    let pipeline = open_memory();
    let mid_month = at("2026-10-15T00:00:00Z");
    let recomputed = month_amounts_from_events(
        pipeline.bucket(),
        &MeterCatalog::defaults(),
        mid_month,
        mid_month,
    );
    assert!(recomputed.is_err());
    assert!(compare_with_rollups(pipeline.store(), &BTreeMap::new(), mid_month).is_err());
}
