//! Fault injection for the stream consumer's adapters, for tests and drills: [`Faulty`] wraps a
//! bucket or ledger tables and asks a [`FaultPlan`] before every call whether it fails.

use std::sync::Arc;

use tally_aggregator::{Rollup, RollupDelta, RollupKey};
use tally_schemas::{Meter, TenantId, Timestamp};

use super::tables::{LedgerTables, TenantHead};
use crate::Result;
use crate::ports::{Bucket, RollupFilter};
use crate::quality::QualityKey;

/// Decides which adapter calls fail.
pub trait FaultPlan: Send + Sync {
    /// Called before `operation` (the port method's name) runs, with the tenant it concerns if
    /// the method names one; an error is returned instead of running it.
    fn before(&self, operation: &'static str, tenant: Option<&TenantId>) -> Result<()>;
}

/// An adapter whose every call may fail first.
pub struct Faulty<T> {
    /// The real adapter.
    pub inner: T,
    /// Which calls fail.
    pub plan: Arc<dyn FaultPlan>,
}

impl<B: Bucket> Bucket for Faulty<B> {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        self.plan.before("put", None)?;
        self.inner.put(key, bytes)
    }

    fn promote(&self, from: &str, to: &str) -> Result<()> {
        self.plan.before("promote", None)?;
        self.inner.promote(from, to)
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.plan.before("get", None)?;
        self.inner.get(key)
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        self.plan.before("list", None)?;
        self.inner.list(prefix)
    }

    fn delete(&self, key: &str) -> Result<()> {
        self.plan.before("delete", None)?;
        self.inner.delete(key)
    }
}

impl<T: LedgerTables> LedgerTables for Faulty<T> {
    fn head(&self, tenant: &TenantId) -> Result<Option<TenantHead>> {
        self.plan.before("head", Some(tenant))?;
        self.inner.head(tenant)
    }

    fn tenants(&self) -> Result<Vec<TenantId>> {
        self.plan.before("tenants", None)?;
        self.inner.tenants()
    }

    fn swap_head(&self, tenant: &TenantId, expected: u64, head: &TenantHead) -> Result<bool> {
        self.plan.before("swap_head", Some(tenant))?;
        self.inner.swap_head(tenant, expected, head)
    }

    fn apply_rollups(
        &self,
        tenant: &TenantId,
        version: u64,
        deltas: &[(RollupKey, RollupDelta)],
    ) -> Result<()> {
        self.plan.before("apply_rollups", Some(tenant))?;
        self.inner.apply_rollups(tenant, version, deltas)
    }

    fn apply_quality(
        &self,
        tenant: &TenantId,
        version: u64,
        counts: &[(QualityKey, u64)],
    ) -> Result<()> {
        self.plan.before("apply_quality", Some(tenant))?;
        self.inner.apply_quality(tenant, version, counts)
    }

    fn add_unattributed_quality(&self, counts: &[(QualityKey, u64)]) -> Result<()> {
        self.plan.before("add_unattributed_quality", None)?;
        self.inner.add_unattributed_quality(counts)
    }

    fn rollups(&self, filter: &RollupFilter) -> Result<Vec<(RollupKey, Rollup)>> {
        self.plan.before("rollups", None)?;
        self.inner.rollups(filter)
    }

    fn quality(
        &self,
        tenant_id: Option<&str>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<(QualityKey, u64)>> {
        self.plan.before("quality", None)?;
        self.inner.quality(tenant_id, from, to)
    }

    fn dedup_key(&self, candidate: [u8; 16]) -> Result<[u8; 16]> {
        self.plan.before("dedup_key", None)?;
        self.inner.dedup_key(candidate)
    }

    fn check_meters(&self, meters: &[Meter]) -> Result<()> {
        self.plan.before("check_meters", None)?;
        self.inner.check_meters(meters)
    }
}
