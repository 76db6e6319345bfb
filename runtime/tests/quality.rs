//! Data quality counts: every line of every run is counted once, under its tenant (or as
//! unattributed), and the stores add counts up across commits and filter them alike.

mod common;

use std::collections::BTreeMap;

use common::*;
use tally_aggregator::Granularity;
use tally_runtime::embedded::{LocalBucket, RedbStore};
use tally_runtime::memory::{MemoryBucket, MemoryStore};
use tally_runtime::pipeline::Pipeline;
use tally_runtime::ports::{Bucket, Commit, MeteringStore, RollupFilter};
use tally_runtime::quality::{Outcome, QualityCounts, UNATTRIBUTED};
use tally_schemas::{RejectReason, TenantId};

const DAYS: usize = 5;

fn quality_follows_the_summaries<B: Bucket, S: MeteringStore>(bucket: B, store: S) {
    let mut pipeline = Pipeline::open(bucket, store, config()).unwrap();
    let mut totals = Totals::default();
    for run in sample_runs().iter().take(DAYS) {
        totals.add(&ingest(&mut pipeline, run, 1_500));
    }
    let (_, store) = pipeline.into_parts();
    let rows = store.quality(None, None, None).unwrap();
    let mut by_outcome: BTreeMap<String, u64> = BTreeMap::new();
    let mut accepted_by_tenant: BTreeMap<String, u64> = BTreeMap::new();
    for ((tenant, _, outcome), count) in &rows {
        *by_outcome.entry(outcome.clone()).or_default() += count;
        if outcome == "accepted" {
            *accepted_by_tenant.entry(tenant.clone()).or_default() += count;
        }
    }
    assert_eq!(by_outcome["accepted"], totals.accepted);
    assert_eq!(by_outcome["late"], totals.late);
    assert_eq!(by_outcome["duplicate"], totals.duplicates);
    assert_eq!(
        by_outcome
            .iter()
            .filter(|(outcome, _)| outcome.starts_with("rejected:"))
            .map(|(_, count)| count)
            .sum::<u64>(),
        totals.rejected_total()
    );
    // Accepted events per tenant are exactly the events of the tenant's month rollups.
    let filter = RollupFilter {
        granularity: Some(Granularity::Month),
        ..RollupFilter::default()
    };
    let mut rollup_events: BTreeMap<String, u64> = BTreeMap::new();
    for (key, rollup) in store.rollups(&filter).unwrap() {
        *rollup_events.entry(key.tenant_id.to_string()).or_default() += rollup.events;
    }
    assert_eq!(accepted_by_tenant, rollup_events);
    // Lines that are not JSON cannot name a tenant; a negative value still can.
    assert!(
        rows.iter()
            .any(|((tenant, _, outcome), _)| tenant == UNATTRIBUTED
                && outcome == "rejected:invalid_json")
    );
    assert!(
        rows.iter()
            .any(|((tenant, _, outcome), _)| tenant != UNATTRIBUTED
                && outcome == "rejected:invalid_value")
    );
    let one_tenant = store.quality(Some("acme"), None, None).unwrap();
    assert!(
        !one_tenant.is_empty()
            && one_tenant
                .iter()
                .all(|((tenant, _, _), _)| tenant == "acme")
    );
    let first_day = sample_runs()[0].now.floor_day();
    let later = store
        .quality(None, Some(first_day.plus_millis(1)), None)
        .unwrap();
    assert!(later.iter().all(|((_, day, _), _)| *day > first_day) && later.len() < rows.len());
}

fn counts_add_up_across_commits<S: MeteringStore>(mut store: S) {
    let acme = TenantId::parse("acme").unwrap();
    let now = at("2026-11-26T15:00:00Z");
    for _ in 0..2 {
        let mut quality = QualityCounts::default();
        quality.add(Some(&acme), now, Outcome::Accepted);
        quality.add(None, now, Outcome::Rejected(RejectReason::InvalidJson));
        store
            .commit(&Commit {
                quality,
                ..Commit::default()
            })
            .unwrap();
    }
    let rows = store.quality(None, None, None).unwrap();
    let counts: Vec<(&str, &str, u64)> = rows
        .iter()
        .map(|((tenant, _, outcome), count)| (tenant.as_str(), outcome.as_str(), *count))
        .collect();
    assert_eq!(
        counts,
        [("", "rejected:invalid_json", 2), ("acme", "accepted", 2)]
    );
}

#[test]
fn quality_with_the_in_memory_adapters() {
    quality_follows_the_summaries(MemoryBucket::default(), MemoryStore::default());
    counts_add_up_across_commits(MemoryStore::default());
}

#[test]
fn quality_with_the_embedded_adapters() {
    let scratch = tempfile::tempdir().unwrap();
    let bucket = LocalBucket::open(scratch.path().join("tenant-data")).unwrap();
    let store = RedbStore::open(&scratch.path().join("tables.redb")).unwrap();
    quality_follows_the_summaries(bucket, store);
    counts_add_up_across_commits(RedbStore::open(&scratch.path().join("other.redb")).unwrap());
}
