//! The ports: what the pipeline needs from the world, one trait per capability. Each has an
//! embedded adapter and an in-memory one, held to the same contract test.

use std::collections::BTreeMap;

use tally_aggregator::{Granularity, Rollup, RollupDelta, RollupKey, StateChanges, StateSnapshot};
use tally_schemas::{Meter, Timestamp};

use crate::Result;
use crate::quality::{QualityCounts, QualityKey};

/// Object storage with the bucket's key layout (`tenants/...`, `quarantine/...`).
///
/// Keys are built by `tally_schemas::layout` from validated parts; adapters refuse any key that
/// could leave the bucket.
pub trait Bucket {
    /// Writes an object whole; a reader sees the old object or the new one, never a part.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()>;
    /// Moves an object to its final key. Safe to repeat: when `from` is gone and `to` exists,
    /// the move already happened.
    fn promote(&self, from: &str, to: &str) -> Result<()>;
    /// Reads an object, if it exists.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// Every key under `prefix`, sorted.
    fn list(&self, prefix: &str) -> Result<Vec<String>>;
    /// Deletes an object; deleting a missing object is not an error.
    fn delete(&self, key: &str) -> Result<()>;
}

impl<B: Bucket + ?Sized> Bucket for std::sync::Arc<B> {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        (**self).put(key, bytes)
    }

    fn promote(&self, from: &str, to: &str) -> Result<()> {
        (**self).promote(from, to)
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        (**self).get(key)
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        (**self).list(prefix)
    }

    fn delete(&self, key: &str) -> Result<()> {
        (**self).delete(key)
    }
}

/// Checks that `key` cannot leave a bucket or alias another key: relative, `/`-separated,
/// no empty, `.` or `..` part, no backslash or NUL. Every adapter applies it before any IO.
///
/// Fails with [`crate::Error::BadKey`] naming the rule broken.
pub fn check_key(key: &str) -> Result<()> {
    let bad = |problem| crate::Error::BadKey {
        key: key.to_owned(),
        problem,
    };
    if key.is_empty() || key.starts_with('/') || key.contains('\\') || key.contains('\0') {
        return Err(bad("keys are relative, with '/' separators"));
    }
    if key
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(bad("keys have no empty, '.' or '..' parts"));
    }
    Ok(())
}

/// Objects staged by one commit, to be promoted to their final keys once it is durable.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Publication {
    /// The commit's sequence number.
    pub commit: u64,
    /// `(staging key, final key)` for every object of the commit.
    pub objects: Vec<(String, String)>,
}

/// Everything one batch commits, atomically.
#[derive(Clone, Debug, Default)]
pub struct Commit {
    /// The rollup changes.
    pub rollups: BTreeMap<RollupKey, RollupDelta>,
    /// The core's state changes.
    pub changes: StateChanges,
    /// The objects to publish once the commit is durable.
    pub publication: Option<Publication>,
    /// Data quality counts of the batch.
    pub quality: QualityCounts,
}

/// Which rollups to read.
#[derive(Clone, Debug, Default)]
pub struct RollupFilter {
    /// Only this tenant.
    pub tenant_id: Option<String>,
    /// Only this meter.
    pub metric: Option<String>,
    /// Only this window width.
    pub granularity: Option<Granularity>,
    /// Only windows starting at or after this instant.
    pub from: Option<Timestamp>,
    /// Only windows starting before this instant.
    pub to: Option<Timestamp>,
}

impl RollupFilter {
    /// Whether `key` passes the filter.
    pub fn matches(&self, key: &RollupKey) -> bool {
        self.tenant_id
            .as_deref()
            .is_none_or(|tenant| tenant == key.tenant_id.as_str())
            && self
                .metric
                .as_deref()
                .is_none_or(|metric| metric == key.metric)
            && self
                .granularity
                .is_none_or(|granularity| granularity == key.granularity)
            && self.from.is_none_or(|from| key.window_start >= from)
            && self.to.is_none_or(|to| key.window_start < to)
    }
}

/// The metering tables: rollups, the core's state, pending publications and settings.
pub trait MeteringStore {
    /// The core's committed state.
    fn load_state(&self) -> Result<StateSnapshot>;
    /// The next commit's sequence number.
    fn next_commit(&self) -> Result<u64>;
    /// Applies a batch atomically: rollups, state, the publication record and the sequence.
    fn commit(&mut self, commit: &Commit) -> Result<()>;
    /// Publications committed but not yet marked done.
    fn pending_publications(&self) -> Result<Vec<Publication>>;
    /// Marks a publication done.
    fn finish_publication(&mut self, commit: u64) -> Result<()>;
    /// The rollups passing `filter`, sorted by key.
    fn rollups(&self, filter: &RollupFilter) -> Result<Vec<(RollupKey, Rollup)>>;
    /// Replaces every rollup of `tenant_id` (of every tenant when `None`) with `rollups`, in
    /// one transaction: what a rebuild from the events files writes back.
    fn replace_rollups(
        &mut self,
        tenant_id: Option<&str>,
        rollups: &BTreeMap<RollupKey, Rollup>,
    ) -> Result<()>;
    /// Data quality counts of `tenant_id` (every tenant when `None`; `Some("")` for unattributed
    /// lines) for processing days in `[from, to)`, sorted by tenant, day and outcome.
    fn quality(
        &self,
        tenant_id: Option<&str>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<(QualityKey, u64)>>;
    /// The secret dedup key, created on first use and never changed.
    fn dedup_key(&mut self) -> Result<[u8; 16]>;
    /// Records the meters in use; fails if a meter this store has counted is now defined
    /// differently (its rollups would mix two aggregations).
    fn check_meters(&mut self, meters: &[Meter]) -> Result<()>;
}

/// Reading rollups: all that invoice and reconcile jobs need of a store, whichever pipeline
/// wrote it (the embedded tables, or the stream consumer's ledger tables).
pub trait RollupReader {
    /// The rollups passing `filter`, sorted by key.
    fn read_rollups(&self, filter: &RollupFilter) -> Result<Vec<(RollupKey, Rollup)>>;
}

impl<R: RollupReader + ?Sized> RollupReader for std::sync::Arc<R> {
    fn read_rollups(&self, filter: &RollupFilter) -> Result<Vec<(RollupKey, Rollup)>> {
        (**self).read_rollups(filter)
    }
}

impl RollupReader for crate::embedded::RedbStore {
    fn read_rollups(&self, filter: &RollupFilter) -> Result<Vec<(RollupKey, Rollup)>> {
        self.rollups(filter)
    }
}

impl RollupReader for crate::memory::MemoryStore {
    fn read_rollups(&self, filter: &RollupFilter) -> Result<Vec<(RollupKey, Rollup)>> {
        self.rollups(filter)
    }
}

impl RollupReader for crate::stream::MemoryTables {
    fn read_rollups(&self, filter: &RollupFilter) -> Result<Vec<(RollupKey, Rollup)>> {
        crate::stream::LedgerTables::rollups(self, filter)
    }
}

/// Whether a quality count of `tenant` on `day` passes the filter of [`MeteringStore::quality`].
pub fn quality_matches(
    tenant: &str,
    day: Timestamp,
    tenant_id: Option<&str>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> bool {
    tenant_id.is_none_or(|only| only == tenant)
        && from.is_none_or(|from| day >= from)
        && to.is_none_or(|to| day < to)
}

/// The meters of `meters` not recorded yet, with their signatures, to record; fails if a
/// meter `recorded` knows is now defined differently. Nothing is recorded by a failed check.
pub fn meters_to_record(
    meters: &[Meter],
    recorded: impl Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>> {
    let mut new = Vec::new();
    for meter in meters {
        let now = crate::embedded::store::meter_signature(meter);
        match recorded(&meter.name) {
            Some(before) if before != now => {
                return Err(crate::Error::MeterChanged {
                    meter: meter.name.clone(),
                    before,
                    after: now,
                });
            }
            Some(_) => {}
            None => new.push((meter.name.clone(), now)),
        }
    }
    Ok(new)
}
