//! The shared contract of the ports: every adapter of `Bucket` and of `MeteringStore` passes
//! the same checks, so the pipeline behaves the same over the in-memory adapters in tests and
//! over the embedded ones in production.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use rust_decimal::Decimal;
use tally_aggregator::{
    DedupKey, GaugeSeries, Granularity, Rollup, RollupDelta, RollupKey, SeriesKey, StateChanges,
    StateSnapshot,
};
use tally_runtime::Error;
use tally_runtime::contract::bucket_contract;
use tally_runtime::embedded::{LocalBucket, RedbStore};
use tally_runtime::memory::{MemoryBucket, MemoryStore};
use tally_runtime::ports::{Bucket, Commit, MeteringStore, Publication, RollupFilter};
use tally_schemas::time::{MILLIS_PER_DAY, MILLIS_PER_HOUR};
use tally_schemas::{Aggregation, Meter, MeterCatalog, TenantId, Timestamp};

use common::{all_rollups, at};

// ---------------------------------------------------------------------------------------------
// Bucket
// ---------------------------------------------------------------------------------------------

#[test]
fn memory_bucket_keeps_the_bucket_contract() {
    bucket_contract(&MemoryBucket::default());
}

#[test]
fn local_bucket_keeps_the_bucket_contract() {
    let directory = tempfile::tempdir().unwrap();
    let bucket = LocalBucket::open(directory.path().join("bucket")).unwrap();
    bucket_contract(&bucket);
}

#[test]
fn given_a_local_bucket_when_a_key_could_escape_its_root_then_every_operation_refuses_it() {
    let directory = tempfile::tempdir().unwrap();
    let bucket = LocalBucket::open(directory.path().join("bucket")).unwrap();
    bucket.put("inside/ok", b"ok").unwrap();
    let bad_keys = [
        "../x",
        "inside/../../x",
        "/abs",
        "a//b",
        "a/./b",
        "",
        ".",
        "a/",
        "a\\..\\x",
    ];
    for key in bad_keys {
        let is_bad_key =
            |result: tally_runtime::Result<()>| matches!(result, Err(Error::BadKey { .. }));
        assert!(is_bad_key(bucket.put(key, b"x")), "put {key:?}");
        assert!(
            matches!(bucket.get(key), Err(Error::BadKey { .. })),
            "get {key:?}"
        );
        assert!(is_bad_key(bucket.delete(key)), "delete {key:?}");
        assert!(
            is_bad_key(bucket.promote("inside/ok", key)),
            "promote to {key:?}"
        );
        assert!(
            is_bad_key(bucket.promote(key, "inside/moved")),
            "promote from {key:?}"
        );
    }
    // THEN nothing was written beside the bucket's root and the good object never moved.
    let beside: Vec<_> = std::fs::read_dir(directory.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(beside, ["bucket"]);
    assert!(!Path::new("/abs").exists());
    assert_eq!(bucket.list("").unwrap(), ["inside/ok"]);
}

#[test]
fn given_a_local_bucket_when_reopened_then_its_objects_are_still_there() {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path().join("bucket");
    LocalBucket::open(&root)
        .unwrap()
        .put("a/b/c", b"kept")
        .unwrap();
    let reopened = LocalBucket::open(&root).unwrap();
    assert_eq!(reopened.get("a/b/c").unwrap(), Some(b"kept".to_vec()));
    assert_eq!(reopened.list("").unwrap(), ["a/b/c"]);
}

// ---------------------------------------------------------------------------------------------
// MeteringStore
// ---------------------------------------------------------------------------------------------

/// Every check of the store contract; `make` returns a new, empty store each time.
fn store_contract<S: MeteringStore>(make: impl Fn() -> S) {
    commits_are_numbered_from_one(&mut make());
    commits_apply_rollup_deltas(&mut make());
    rollups_are_filtered_and_sorted(&mut make());
    state_round_trips_through_commits(&mut make());
    publications_are_pending_until_finished(&mut make());
    dedup_key_is_stable(&mut make());
    meters_may_be_added_but_not_changed(&mut make());
    a_refused_meter_check_records_nothing(&mut make());
}

fn tenant(text: &str) -> TenantId {
    TenantId::parse(text).unwrap()
}

fn key(tenant_id: &str, metric: &str, granularity: Granularity, window_start: i64) -> RollupKey {
    RollupKey {
        tenant_id: tenant(tenant_id),
        metric: metric.to_owned(),
        granularity,
        window_start: Timestamp::from_millis(window_start),
    }
}

fn decimal(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn sum(add: &str, events: u64) -> RollupDelta {
    RollupDelta {
        add: decimal(add),
        events,
        ..RollupDelta::default()
    }
}

fn max(value: &str) -> RollupDelta {
    RollupDelta {
        max: Some(decimal(value)),
        events: 1,
        ..RollupDelta::default()
    }
}

fn latest(time: i64, value: &str) -> RollupDelta {
    RollupDelta {
        latest: Some((Timestamp::from_millis(time), decimal(value))),
        events: 1,
        ..RollupDelta::default()
    }
}

fn rollup_commit(deltas: Vec<(RollupKey, RollupDelta)>) -> Commit {
    Commit {
        rollups: deltas.into_iter().collect(),
        ..Commit::default()
    }
}

fn commits_are_numbered_from_one<S: MeteringStore>(store: &mut S) {
    // GIVEN a new store THEN the first commit is number 1, and reading it changes nothing.
    assert_eq!(store.next_commit().unwrap(), 1);
    assert_eq!(store.next_commit().unwrap(), 1);
    // WHEN commits are made, with and without a publication THEN each takes the next number.
    store.commit(&Commit::default()).unwrap();
    assert_eq!(store.next_commit().unwrap(), 2);
    let publication = Publication {
        commit: 2,
        objects: vec![("_staging/a".into(), "a".into())],
    };
    store
        .commit(&Commit {
            publication: Some(publication),
            ..Commit::default()
        })
        .unwrap();
    assert_eq!(store.next_commit().unwrap(), 3);
    store.commit(&Commit::default()).unwrap();
    assert_eq!(store.next_commit().unwrap(), 4);
}

fn commits_apply_rollup_deltas<S: MeteringStore>(store: &mut S) {
    let calls = key("t1", "api_calls", Granularity::Hour, 0);
    let peak = key("t1", "peak_gb", Granularity::Day, 0);
    let level = key("t1", "plan_level", Granularity::Month, 0);
    let gauge = key("t1", "storage_gb", Granularity::Hour, 0);
    // GIVEN a first commit of a sum, a max, a latest and a gauge integral
    store
        .commit(&rollup_commit(vec![
            (calls.clone(), sum("5.000000001", 2)),
            (peak.clone(), max("4")),
            (level.clone(), latest(2_000, "3")),
            (gauge.clone(), sum("36000000000000000000", 0)),
        ]))
        .unwrap();
    // WHEN a second commit brings more of each (a smaller max, an older latest value and a
    // negative gauge correction)
    store
        .commit(&rollup_commit(vec![
            (calls.clone(), sum("7", 1)),
            (peak.clone(), max("9")),
            (level.clone(), latest(1_000, "100")),
            (gauge.clone(), sum("-0.5", 0)),
        ]))
        .unwrap();
    store
        .commit(&rollup_commit(vec![
            (peak.clone(), max("1")),
            (level.clone(), latest(2_000, "2")),
        ]))
        .unwrap();
    // THEN sums add exactly, the max keeps the maximum, the latest keeps the latest event time
    // (the larger value on a tie), and event counts add.
    let rollups = all_rollups(store);
    assert_eq!(rollups.len(), 4);
    assert_eq!(
        rollups[&calls],
        Rollup {
            amount: decimal("12.000000001"),
            events: 3,
            latest_event_time: None
        }
    );
    assert_eq!(
        rollups[&peak],
        Rollup {
            amount: decimal("9"),
            events: 3,
            latest_event_time: None
        }
    );
    assert_eq!(
        rollups[&level],
        Rollup {
            amount: decimal("3"),
            events: 3,
            latest_event_time: Some(Timestamp::from_millis(2_000))
        }
    );
    assert_eq!(rollups[&gauge].amount, decimal("35999999999999999999.5"));
    // WHEN a later latest value arrives THEN it replaces the held one, even if smaller.
    store
        .commit(&rollup_commit(vec![(level.clone(), latest(3_000, "0.5"))]))
        .unwrap();
    let level_now = &all_rollups(store)[&level];
    assert_eq!(
        (level_now.amount, level_now.latest_event_time),
        (decimal("0.5"), Some(Timestamp::from_millis(3_000)))
    );
    assert_eq!(level_now.value(Aggregation::Latest), decimal("0.5"));
}

fn rollups_are_filtered_and_sorted<S: MeteringStore>(store: &mut S) {
    let day = MILLIS_PER_DAY;
    // Tenants and windows chosen so that sorting by length, by byte or by sign would differ
    // from sorting by key: "abc" < "zz", window -1 h < 0.
    let keys = [
        key("zz", "api_calls", Granularity::Hour, day),
        key("abc", "cpu_hours", Granularity::Day, day),
        key("abc", "api_calls", Granularity::Month, 0),
        key("abc", "api_calls", Granularity::Hour, day + MILLIS_PER_HOUR),
        key("abc", "api_calls", Granularity::Hour, day),
        key("abc", "api_calls", Granularity::Hour, -MILLIS_PER_HOUR),
        key("abc", "api_calls", Granularity::Day, day),
    ];
    let deltas = keys
        .iter()
        .enumerate()
        .map(|(index, key)| (key.clone(), sum(&index.to_string(), 1)))
        .collect();
    store.commit(&rollup_commit(deltas)).unwrap();
    let listed = |filter: RollupFilter| -> Vec<RollupKey> {
        store
            .rollups(&filter)
            .unwrap()
            .into_iter()
            .map(|(key, _)| key)
            .collect()
    };
    let expected = |pass: &dyn Fn(&RollupKey) -> bool| -> Vec<RollupKey> {
        let mut kept: Vec<RollupKey> = keys.iter().filter(|key| pass(key)).cloned().collect();
        kept.sort();
        kept
    };
    // THEN no filter lists everything, sorted by key.
    assert_eq!(listed(RollupFilter::default()), expected(&|_| true));
    // AND each filter keeps exactly the keys it names; `from` is inclusive, `to` exclusive.
    let by_tenant = RollupFilter {
        tenant_id: Some("zz".into()),
        ..RollupFilter::default()
    };
    assert_eq!(
        listed(by_tenant),
        expected(&|key| key.tenant_id.as_str() == "zz")
    );
    let by_metric = RollupFilter {
        metric: Some("cpu_hours".into()),
        ..RollupFilter::default()
    };
    assert_eq!(
        listed(by_metric),
        expected(&|key| key.metric == "cpu_hours")
    );
    let by_granularity = RollupFilter {
        granularity: Some(Granularity::Hour),
        ..RollupFilter::default()
    };
    assert_eq!(
        listed(by_granularity),
        expected(&|key| key.granularity == Granularity::Hour)
    );
    let from = RollupFilter {
        from: Some(Timestamp::from_millis(day)),
        ..RollupFilter::default()
    };
    assert_eq!(
        listed(from),
        expected(&|key| key.window_start.as_millis() >= day)
    );
    let to = RollupFilter {
        to: Some(Timestamp::from_millis(day)),
        ..RollupFilter::default()
    };
    assert_eq!(
        listed(to),
        expected(&|key| key.window_start.as_millis() < day)
    );
    let combined = RollupFilter {
        tenant_id: Some("abc".into()),
        metric: Some("api_calls".into()),
        granularity: Some(Granularity::Hour),
        from: Some(Timestamp::from_millis(0)),
        to: Some(Timestamp::from_millis(day + MILLIS_PER_HOUR)),
    };
    assert_eq!(
        listed(combined),
        [key("abc", "api_calls", Granularity::Hour, day)]
    );
    let nobody = RollupFilter {
        tenant_id: Some("nobody".into()),
        ..RollupFilter::default()
    };
    assert_eq!(listed(nobody), Vec::<RollupKey>::new());
    // AND the values travel with their keys.
    let rows = store.rollups(&RollupFilter::default()).unwrap();
    for (index, key) in keys.iter().enumerate() {
        let (_, rollup) = rows.iter().find(|(listed, _)| listed == key).unwrap();
        assert_eq!(rollup.amount, Decimal::from(index));
    }
}

fn series(samples: &[(i64, &str)]) -> GaugeSeries {
    GaugeSeries::from_samples(
        samples
            .iter()
            .map(|(time, value)| (Timestamp::from_millis(*time), decimal(value)))
            .collect(),
    )
}

fn series_key(tenant_id: &str, metric: &str) -> SeriesKey {
    SeriesKey {
        tenant_id: tenant(tenant_id),
        metric: metric.to_owned(),
    }
}

/// Three batches of state changes: dedup entries on several days, distinct values in windows
/// of every width, gauge series written and then replaced, and a cutoff that advances so
/// that some of each are forgotten, exactly at and around the boundaries.
fn state_changes() -> Vec<StateChanges> {
    let day = |n: i64| Timestamp::from_millis(n * MILLIS_PER_DAY);
    let hour = |n: i64| n * MILLIS_PER_HOUR;
    let users = |window: RollupKey, values: &[&str]| -> Vec<(RollupKey, String)> {
        values
            .iter()
            .map(|value| (window.clone(), (*value).to_owned()))
            .collect()
    };
    let first = StateChanges {
        horizon: at("1970-01-11T00:30:00Z"),
        forget_before: Timestamp::from_millis(0),
        dedup_added: vec![
            (day(3), DedupKey(u128::MAX)),
            (day(1), DedupKey(7)),
            (day(2), DedupKey(0)),
            (day(2), DedupKey(1 << 100)),
        ],
        distinct_added: [
            users(
                key("t1", "active_users", Granularity::Hour, hour(24)),
                &["u-1", "u-2"],
            ),
            users(
                key("t1", "active_users", Granularity::Day, hour(24)),
                &["u-1", "ü-3"],
            ),
            users(key("t1", "active_users", Granularity::Month, 0), &["u-1"]),
            users(
                key("t2", "active_users", Granularity::Hour, hour(49)),
                &["u-9"],
            ),
        ]
        .concat(),
        gauges: vec![
            (
                series_key("t1", "storage_gb"),
                series(&[(hour(1), "10"), (hour(7), "4.5")]),
            ),
            (series_key("t2", "storage_gb"), series(&[(hour(2), "1")])),
        ],
    };
    // The cutoff is exactly the end of dedup day 1 and of the day window starting at 24 h:
    // both are forgotten, as is the hour starting at 24 h; dedup day 2, the hour starting at
    // 49 h and the month stay.
    let second = StateChanges {
        horizon: at("1970-01-12T00:30:00Z"),
        forget_before: day(2),
        dedup_added: vec![(day(4), DedupKey(42))],
        distinct_added: users(
            key("t2", "active_users", Granularity::Day, hour(72)),
            &["u-9"],
        ),
        gauges: vec![(
            series_key("t1", "storage_gb"),
            series(&[(hour(7), "4.5"), (hour(30), "6")]),
        )],
    };
    // A cutoff one millisecond into day 3 forgets dedup day 2 (it ended before the cutoff)
    // and the hour starting at 49 h, but keeps dedup day 3 and the day window starting at 72 h.
    let third = StateChanges {
        horizon: at("1970-01-12T00:30:00Z"),
        forget_before: day(3).plus_millis(1),
        dedup_added: vec![(day(5), DedupKey(5))],
        distinct_added: Vec::new(),
        gauges: vec![(series_key("a0", "storage_gb"), series(&[(hour(70), "0")]))],
    };
    vec![first, second, third]
}

fn state_round_trips_through_commits<S: MeteringStore>(store: &mut S) {
    // GIVEN a new store THEN its state is empty.
    assert_eq!(store.load_state().unwrap(), StateSnapshot::default());
    let mut expected = StateSnapshot::default();
    // WHEN batches of changes are committed THEN after each the store's state equals the
    // snapshot the core gets by applying the same changes.
    for (batch, changes) in state_changes().into_iter().enumerate() {
        store
            .commit(&Commit {
                changes: changes.clone(),
                ..Commit::default()
            })
            .unwrap();
        expected.apply(&changes);
        assert_eq!(
            store.load_state().unwrap(),
            expected,
            "after batch {}",
            batch + 1
        );
    }
    // AND the pruning and replacing really happened (the comparison above is not vacuous).
    let day = |n: i64| Timestamp::from_millis(n * MILLIS_PER_DAY);
    let days: Vec<Timestamp> = expected.dedup.iter().map(|(day, _)| *day).collect();
    assert_eq!(days, [day(3), day(4), day(5)]);
    let kept_distinct = [
        (
            key("t1", "active_users", Granularity::Month, 0),
            "u-1".to_owned(),
        ),
        (
            key("t2", "active_users", Granularity::Day, 72 * MILLIS_PER_HOUR),
            "u-9".to_owned(),
        ),
    ];
    assert_eq!(expected.distinct, kept_distinct);
    let t1_series = &expected
        .gauges
        .iter()
        .find(|(key, _)| *key == series_key("t1", "storage_gb"))
        .unwrap()
        .1;
    assert_eq!(t1_series.samples().len(), 2);
    assert_eq!(t1_series.samples()[1].1, decimal("6"));
    assert_eq!(expected.gauges.len(), 3);
    assert_eq!(expected.horizon, Some(at("1970-01-12T00:30:00Z")));
}

fn publications_are_pending_until_finished<S: MeteringStore>(store: &mut S) {
    let publication = |commit: u64| Publication {
        commit,
        objects: vec![
            (
                format!("_staging/{commit:010}/tenants/t/a.parquet"),
                "tenants/t/a.parquet".to_owned(),
            ),
            (
                format!("_staging/{commit:010}/quarantine/q.ndjson"),
                "quarantine/q.ndjson".to_owned(),
            ),
        ],
    };
    // GIVEN a new store THEN nothing is pending.
    assert_eq!(
        store.pending_publications().unwrap(),
        Vec::<Publication>::new()
    );
    // WHEN commits 1 and 3 carry publications and 2 does not THEN 1 and 3 are pending, in order.
    store
        .commit(&Commit {
            publication: Some(publication(1)),
            ..Commit::default()
        })
        .unwrap();
    store.commit(&Commit::default()).unwrap();
    store
        .commit(&Commit {
            publication: Some(publication(3)),
            ..Commit::default()
        })
        .unwrap();
    assert_eq!(
        store.pending_publications().unwrap(),
        [publication(1), publication(3)]
    );
    // WHEN one is finished THEN only the other stays pending; finishing again is harmless.
    store.finish_publication(1).unwrap();
    assert_eq!(store.pending_publications().unwrap(), [publication(3)]);
    store.finish_publication(1).unwrap();
    assert_eq!(store.pending_publications().unwrap(), [publication(3)]);
    store.finish_publication(3).unwrap();
    assert_eq!(
        store.pending_publications().unwrap(),
        Vec::<Publication>::new()
    );
    // AND finishing a publication does not touch the commit sequence.
    assert_eq!(store.next_commit().unwrap(), 4);
}

fn dedup_key_is_stable<S: MeteringStore>(store: &mut S) {
    // GIVEN a store WHEN its dedup key is read several times, with commits between THEN it is
    // always the same key.
    let first = store.dedup_key().unwrap();
    store.commit(&Commit::default()).unwrap();
    assert_eq!(store.dedup_key().unwrap(), first);
    assert_eq!(store.dedup_key().unwrap(), first);
}

/// A copy of the default catalog's meters with `name` changed by `change`.
fn meters_with(name: &str, change: impl Fn(&mut Meter)) -> Vec<Meter> {
    let mut meters = MeterCatalog::defaults().meters().to_vec();
    change(meters.iter_mut().find(|meter| meter.name == name).unwrap());
    meters
}

fn extra_meter(aggregation: Aggregation) -> Meter {
    Meter {
        name: "gpu_seconds".into(),
        aggregation,
        unit: "seconds".into(),
        dimension: None,
        default_value: None,
        description: "GPU time.".into(),
    }
}

fn assert_meter_changed(result: tally_runtime::Result<()>, expected_meter: &str) {
    match result {
        Err(Error::MeterChanged {
            meter,
            before,
            after,
        }) => {
            assert_eq!(meter, expected_meter);
            assert_ne!(before, after);
        }
        other => panic!("expected MeterChanged for {expected_meter}, got {other:?}"),
    }
}

fn meters_may_be_added_but_not_changed<S: MeteringStore>(store: &mut S) {
    let defaults = MeterCatalog::defaults().meters().to_vec();
    // GIVEN the default meters recorded WHEN the same meters are checked again THEN that is Ok.
    store.check_meters(&defaults).unwrap();
    store.check_meters(&defaults).unwrap();
    // AND adding a meter, or leaving one out, is Ok.
    store
        .check_meters(&[defaults.clone(), vec![extra_meter(Aggregation::Sum)]].concat())
        .unwrap();
    store.check_meters(&defaults[..1]).unwrap();
    // WHEN a counted meter changes aggregation, unit or counted dimension THEN it is refused.
    let as_max = meters_with("api_calls", |meter| meter.aggregation = Aggregation::Max);
    assert_meter_changed(store.check_meters(&as_max), "api_calls");
    let in_tb = meters_with("storage_gb", |meter| meter.unit = "TB".into());
    assert_meter_changed(store.check_meters(&in_tb), "storage_gb");
    let by_team = meters_with("active_users", |meter| {
        meter.dimension = Some("team".into())
    });
    assert_meter_changed(store.check_meters(&by_team), "active_users");
    assert_meter_changed(
        store.check_meters(&[extra_meter(Aggregation::Max)]),
        "gpu_seconds",
    );
    // AND a description is not part of what is recorded.
    let described = meters_with("api_calls", |meter| {
        meter.description = "Requests served.".into()
    });
    store.check_meters(&described).unwrap();
    // AND the refusals did not replace what was recorded.
    store.check_meters(&defaults).unwrap();
}

fn a_refused_meter_check_records_nothing<S: MeteringStore>(store: &mut S) {
    // GIVEN the default meters recorded
    let defaults = MeterCatalog::defaults().meters().to_vec();
    store.check_meters(&defaults).unwrap();
    // WHEN a check adding a new meter is refused because another meter changed
    let as_max = meters_with("api_calls", |meter| meter.aggregation = Aggregation::Max);
    let attempt = [vec![extra_meter(Aggregation::Sum)], as_max].concat();
    assert_meter_changed(store.check_meters(&attempt), "api_calls");
    // THEN the new meter was not recorded: nothing was counted with it, so it may still be
    // defined differently.
    store
        .check_meters(&[extra_meter(Aggregation::Max)])
        .unwrap();
}

#[test]
fn memory_store_keeps_the_store_contract() {
    store_contract(MemoryStore::default);
}

/// Opens a new tables file in `directory` on each call.
fn redb_stores(directory: &Path) -> impl Fn() -> RedbStore + '_ {
    let opened = AtomicUsize::new(0);
    move || {
        let number = opened.fetch_add(1, Ordering::Relaxed);
        RedbStore::open(&directory.join(format!("tables-{number}.redb"))).unwrap()
    }
}

#[test]
fn redb_store_keeps_the_store_contract() {
    let directory = tempfile::tempdir().unwrap();
    store_contract(redb_stores(directory.path()));
}

#[test]
fn given_a_redb_store_with_commits_when_reopened_then_everything_committed_is_still_there() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("tables.redb");
    let mut store = RedbStore::open(&path).unwrap();
    let dedup_key = store.dedup_key().unwrap();
    store
        .check_meters(MeterCatalog::defaults().meters())
        .unwrap();
    let calls = key("t1", "api_calls", Granularity::Day, 0);
    let mut expected_state = StateSnapshot::default();
    for changes in state_changes() {
        let commit = store.next_commit().unwrap();
        let publication = Publication {
            commit,
            objects: vec![(format!("_staging/{commit}"), format!("final/{commit}"))],
        };
        let rollups = [(calls.clone(), sum("1.5", 1))].into_iter().collect();
        store
            .commit(&Commit {
                rollups,
                changes: changes.clone(),
                publication: Some(publication),
                quality: Default::default(),
            })
            .unwrap();
        expected_state.apply(&changes);
    }
    store.finish_publication(2).unwrap();
    let rollups_before = all_rollups(&store);
    let pending_before = store.pending_publications().unwrap();
    drop(store);
    // WHEN the same file is opened again
    let mut reopened = RedbStore::open(&path).unwrap();
    // THEN the sequence, rollups, state, pending publications, dedup key and meters are kept.
    assert_eq!(reopened.next_commit().unwrap(), 4);
    assert_eq!(all_rollups(&reopened), rollups_before);
    assert_eq!(rollups_before[&calls].amount, decimal("4.5"));
    assert_eq!(reopened.load_state().unwrap(), expected_state);
    assert_eq!(reopened.pending_publications().unwrap(), pending_before);
    assert_eq!(
        pending_before
            .iter()
            .map(|publication| publication.commit)
            .collect::<Vec<_>>(),
        [1, 3]
    );
    assert_eq!(reopened.dedup_key().unwrap(), dedup_key);
    let as_max = meters_with("api_calls", |meter| meter.aggregation = Aggregation::Max);
    assert_meter_changed(reopened.check_meters(&as_max), "api_calls");
    reopened
        .check_meters(MeterCatalog::defaults().meters())
        .unwrap();
}

#[test]
fn given_two_redb_files_then_their_dedup_keys_differ() {
    // The key is a per-installation secret: it must come from a random source, not a constant.
    let directory = tempfile::tempdir().unwrap();
    let make = redb_stores(directory.path());
    assert_ne!(make().dedup_key().unwrap(), make().dedup_key().unwrap());
}

#[test]
fn given_an_open_redb_store_when_the_same_file_is_opened_again_then_it_is_refused_clearly() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("tables.redb");
    let first = RedbStore::open(&path).unwrap();
    // WHEN a second store opens the file while the first holds it
    let message = match RedbStore::open(&path) {
        Err(error @ Error::Invalid(_)) => error.to_string(),
        Err(other) => panic!("expected a clear refusal, got {other:?}"),
        Ok(_) => panic!("a second open of {} succeeded", path.display()),
    };
    // THEN the message names the file and says it is in use.
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("in use"), "{message}");
    // AND once the first is closed the file opens again.
    drop(first);
    RedbStore::open(&path).unwrap();
}

#[test]
fn memory_tables_keep_the_ledger_tables_contract() {
    tally_runtime::contract::ledger_tables_contract(&tally_runtime::stream::MemoryTables::default());
}
