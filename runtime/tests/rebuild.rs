//! Replay: the rollups rebuilt from the events files equal the ones the pipeline committed; after
//! the rollups are lost (all, or one tenant's), a rebuild reproduces them exactly.

mod common;

use std::collections::BTreeMap;

use common::*;
use tally_aggregator::{Rollup, RollupKey};
use tally_runtime::embedded::{LocalBucket, RedbStore};
use tally_runtime::memory::{MemoryBucket, MemoryStore};
use tally_runtime::pipeline::Pipeline;
use tally_runtime::ports::{Bucket, MeteringStore};
use tally_runtime::rebuild::rebuild;
use tally_schemas::{MeterCatalog, TenantId};

const DAYS: usize = 6;

fn replay_contract<B: Bucket, S: MeteringStore>(bucket: B, store: S) {
    let mut pipeline = Pipeline::open(bucket, store, config()).unwrap();
    let mut accepted = 0;
    for run in sample_runs().iter().take(DAYS) {
        accepted += ingest(&mut pipeline, run, 2_000).accepted;
    }
    let (bucket, mut store) = pipeline.into_parts();
    let committed = all_rollups(&store);
    let catalog = MeterCatalog::defaults();

    // GIVEN healthy rollups, WHEN rebuilt, THEN nothing differs
    let report = rebuild(
        &bucket,
        &mut store,
        &catalog,
        MAX_EVENT_AGE_DAYS,
        None,
        false,
    )
    .unwrap();
    assert_eq!(report.events, accepted);
    assert!(
        report.changes.is_empty(),
        "first differences: {:?}",
        &report.changes[..report.changes.len().min(3)]
    );

    // GIVEN every rollup lost, WHEN rebuilt and applied, THEN every one is back exactly
    store.replace_rollups(None, &BTreeMap::new()).unwrap();
    let report = rebuild(
        &bucket,
        &mut store,
        &catalog,
        MAX_EVENT_AGE_DAYS,
        None,
        true,
    )
    .unwrap();
    assert_eq!(report.changes.len(), committed.len());
    assert_eq!(all_rollups(&store), committed);

    // GIVEN one tenant's rollups lost, WHEN that tenant is rebuilt, THEN only it changes
    let tenant = TenantId::parse("globex").unwrap();
    let others: BTreeMap<RollupKey, Rollup> = committed
        .iter()
        .filter(|(key, _)| key.tenant_id != tenant)
        .map(|(key, rollup)| (key.clone(), rollup.clone()))
        .collect();
    store
        .replace_rollups(Some("globex"), &BTreeMap::new())
        .unwrap();
    assert_eq!(all_rollups(&store), others);
    let report = rebuild(
        &bucket,
        &mut store,
        &catalog,
        MAX_EVENT_AGE_DAYS,
        Some(&tenant),
        true,
    )
    .unwrap();
    assert!(
        report
            .changes
            .iter()
            .all(|change| change.key.tenant_id == tenant && change.stored.is_none())
    );
    assert!(!report.changes.is_empty());
    assert_eq!(all_rollups(&store), committed);
}

#[test]
fn rebuild_with_the_in_memory_adapters() {
    replay_contract(MemoryBucket::default(), MemoryStore::default());
}

#[test]
fn rebuild_with_the_embedded_adapters() {
    let scratch = tempfile::tempdir().unwrap();
    let bucket = LocalBucket::open(scratch.path().join("tenant-data")).unwrap();
    let store = RedbStore::open(&scratch.path().join("tables.redb")).unwrap();
    replay_contract(bucket, store);
}
