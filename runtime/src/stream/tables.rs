//! The tables port of the stream consumer: one head item per tenant (its ledger), rollups and
//! quality counts written idempotently by ledger version, and the settings every consumer
//! shares. DynamoDB implements it in `tally-aws`; [`MemoryTables`] serves tests.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use tally_aggregator::{Rollup, RollupDelta, RollupKey};
use tally_schemas::{Meter, TenantId, Timestamp};

use crate::Result;
use crate::ports::{RollupFilter, quality_matches};
use crate::quality::QualityKey;

/// The head of one tenant's ledger: where its core state is and what its last commit was.
///
/// Every commit of the tenant replaces the head, on the condition that its version is still
/// the one the committer read; that condition is what makes one commit per version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantHead {
    /// Commits so far; 0 before the first.
    pub version: u64,
    /// The bucket key of the state snapshot the log starts from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// The bucket keys of the commit records after the snapshot, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<String>,
    /// The commit record of the last commit while its rollups, counts and objects may not all
    /// be written yet; whoever reads the head next finishes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
    /// Per shard, the position of the last record of this tenant committed from it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub seen: BTreeMap<String, String>,
}

/// The tables the stream consumer commits to.
///
/// Rollups and quality counts carry the ledger version that last changed them: applying the
/// same commit twice changes nothing, and an older commit never overwrites a newer one.
pub trait LedgerTables {
    /// The head of `tenant`'s ledger, if it has committed before.
    fn head(&self, tenant: &TenantId) -> Result<Option<TenantHead>>;
    /// Every tenant with a ledger, sorted.
    fn tenants(&self) -> Result<Vec<TenantId>>;
    /// Replaces the head of `tenant` with `head` if its stored version is still `expected`
    /// (0: no head yet). Returns false, changing nothing, when another writer moved it.
    fn swap_head(&self, tenant: &TenantId, expected: u64, head: &TenantHead) -> Result<bool>;
    /// Applies the rollup deltas of ledger version `version` of `tenant`: each rollup whose
    /// stored version is older gets its delta and the new version; the others are left alone.
    fn apply_rollups(
        &self,
        tenant: &TenantId,
        version: u64,
        deltas: &[(RollupKey, RollupDelta)],
    ) -> Result<()>;
    /// Adds the quality counts of ledger version `version` of `tenant`, the same way.
    fn apply_quality(
        &self,
        tenant: &TenantId,
        version: u64,
        counts: &[(QualityKey, u64)],
    ) -> Result<()>;
    /// Adds quality counts no ledger owns (lines without a readable tenant); each delivery
    /// counts.
    fn add_unattributed_quality(&self, counts: &[(QualityKey, u64)]) -> Result<()>;
    /// The rollups passing `filter`, sorted by key.
    fn rollups(&self, filter: &RollupFilter) -> Result<Vec<(RollupKey, Rollup)>>;
    /// Quality counts, filtered as [`crate::ports::MeteringStore::quality`] does.
    fn quality(
        &self,
        tenant_id: Option<&str>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<(QualityKey, u64)>>;
    /// The secret dedup key shared by every consumer: `candidate` is stored if none is yet,
    /// and the stored key is returned either way.
    fn dedup_key(&self, candidate: [u8; 16]) -> Result<[u8; 16]>;
    /// Records the meters in use; fails if a meter already counted is now defined differently.
    fn check_meters(&self, meters: &[Meter]) -> Result<()>;
}

impl<T: LedgerTables + ?Sized> LedgerTables for std::sync::Arc<T> {
    fn head(&self, tenant: &TenantId) -> Result<Option<TenantHead>> {
        (**self).head(tenant)
    }

    fn tenants(&self) -> Result<Vec<TenantId>> {
        (**self).tenants()
    }

    fn swap_head(&self, tenant: &TenantId, expected: u64, head: &TenantHead) -> Result<bool> {
        (**self).swap_head(tenant, expected, head)
    }

    fn apply_rollups(
        &self,
        tenant: &TenantId,
        version: u64,
        deltas: &[(RollupKey, RollupDelta)],
    ) -> Result<()> {
        (**self).apply_rollups(tenant, version, deltas)
    }

    fn apply_quality(
        &self,
        tenant: &TenantId,
        version: u64,
        counts: &[(QualityKey, u64)],
    ) -> Result<()> {
        (**self).apply_quality(tenant, version, counts)
    }

    fn add_unattributed_quality(&self, counts: &[(QualityKey, u64)]) -> Result<()> {
        (**self).add_unattributed_quality(counts)
    }

    fn rollups(&self, filter: &RollupFilter) -> Result<Vec<(RollupKey, Rollup)>> {
        (**self).rollups(filter)
    }

    fn quality(
        &self,
        tenant_id: Option<&str>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<(QualityKey, u64)>> {
        (**self).quality(tenant_id, from, to)
    }

    fn dedup_key(&self, candidate: [u8; 16]) -> Result<[u8; 16]> {
        (**self).dedup_key(candidate)
    }

    fn check_meters(&self, meters: &[Meter]) -> Result<()> {
        (**self).check_meters(meters)
    }
}

/// A rollup with the ledger version that last changed it.
#[derive(Clone, Debug, Default)]
struct VersionedRollup {
    rollup: Rollup,
    version: u64,
}

#[derive(Debug, Default)]
struct Tables {
    heads: BTreeMap<TenantId, TenantHead>,
    rollups: BTreeMap<RollupKey, VersionedRollup>,
    quality: BTreeMap<QualityKey, (u64, u64)>,
    dedup_key: Option<[u8; 16]>,
    meters: BTreeMap<String, String>,
}

/// The ledger tables held in memory, shareable between consumers of one test.
#[derive(Debug, Default)]
pub struct MemoryTables {
    tables: Mutex<Tables>,
}

impl MemoryTables {
    fn tables(&self) -> MutexGuard<'_, Tables> {
        self.tables
            .lock()
            .expect("no test panics while holding the tables")
    }
}

impl LedgerTables for MemoryTables {
    fn head(&self, tenant: &TenantId) -> Result<Option<TenantHead>> {
        Ok(self.tables().heads.get(tenant).cloned())
    }

    fn tenants(&self) -> Result<Vec<TenantId>> {
        Ok(self.tables().heads.keys().cloned().collect())
    }

    fn swap_head(&self, tenant: &TenantId, expected: u64, head: &TenantHead) -> Result<bool> {
        let mut tables = self.tables();
        let stored = tables.heads.get(tenant).map_or(0, |head| head.version);
        if stored != expected {
            return Ok(false);
        }
        tables.heads.insert(tenant.clone(), head.clone());
        Ok(true)
    }

    fn apply_rollups(
        &self,
        _tenant: &TenantId,
        version: u64,
        deltas: &[(RollupKey, RollupDelta)],
    ) -> Result<()> {
        let mut tables = self.tables();
        for (key, delta) in deltas {
            let stored = tables.rollups.entry(key.clone()).or_default();
            if stored.version < version {
                stored.rollup.apply(delta);
                stored.version = version;
            }
        }
        Ok(())
    }

    fn apply_quality(
        &self,
        _tenant: &TenantId,
        version: u64,
        counts: &[(QualityKey, u64)],
    ) -> Result<()> {
        let mut tables = self.tables();
        for (key, count) in counts {
            let (stored, stored_version) = tables.quality.entry(key.clone()).or_default();
            if *stored_version < version {
                *stored += count;
                *stored_version = version;
            }
        }
        Ok(())
    }

    fn add_unattributed_quality(&self, counts: &[(QualityKey, u64)]) -> Result<()> {
        let mut tables = self.tables();
        for (key, count) in counts {
            tables.quality.entry(key.clone()).or_default().0 += count;
        }
        Ok(())
    }

    fn rollups(&self, filter: &RollupFilter) -> Result<Vec<(RollupKey, Rollup)>> {
        Ok(self
            .tables()
            .rollups
            .iter()
            .filter(|(key, _)| filter.matches(key))
            .map(|(key, stored)| (key.clone(), stored.rollup.clone()))
            .collect())
    }

    fn quality(
        &self,
        tenant_id: Option<&str>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<(QualityKey, u64)>> {
        Ok(self
            .tables()
            .quality
            .iter()
            .filter(|((tenant, day, _), _)| quality_matches(tenant, *day, tenant_id, from, to))
            .map(|(key, (count, _))| (key.clone(), *count))
            .collect())
    }

    fn dedup_key(&self, candidate: [u8; 16]) -> Result<[u8; 16]> {
        Ok(*self.tables().dedup_key.get_or_insert(candidate))
    }

    fn check_meters(&self, meters: &[Meter]) -> Result<()> {
        let mut tables = self.tables();
        let new = crate::ports::meters_to_record(meters, |name| tables.meters.get(name).cloned())?;
        tables.meters.extend(new);
        Ok(())
    }
}
