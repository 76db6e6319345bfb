//! The tenant registry as metering sees it: a snapshot of which tenants' events are counted,
//! read from the tenants table through a cache (never per event), and the check every parsed
//! event passes before it is counted. Events of unknown tenants are quarantined as
//! `unknown_tenant`, of suspended ones as `tenant_suspended`: kept, never dropped.

use std::collections::HashMap;

use tally_schemas::{RejectReason, Rejection, TenantId, Timestamp};
use tally_tenancy::{Admission, Tenant};

/// How long a registry snapshot is used before it is read again: a new tenant's events are
/// counted, and a suspension takes effect, within this time.
pub const REGISTRY_TTL_MILLIS: i64 = 60_000;

/// Which tenants' events are counted.
#[derive(Clone, Debug, Default)]
pub struct TenantGate {
    /// `None`: every valid tenant id is counted (the pipeline's own tests and benchmarks, which
    /// are about exactly-once, not the registry). Every command and Lambda sets a registry.
    admissions: Option<HashMap<TenantId, Admission>>,
}

impl TenantGate {
    /// Counts every valid tenant id; for tests and benchmarks of the pipeline alone.
    pub fn unchecked() -> TenantGate {
        TenantGate { admissions: None }
    }

    /// The gate of a registry snapshot.
    pub fn from_tenants<'a>(tenants: impl IntoIterator<Item = &'a Tenant>) -> TenantGate {
        let admissions = tenants
            .into_iter()
            .map(|tenant| (tenant.tenant_id.clone(), tenant.admission()))
            .collect();
        TenantGate {
            admissions: Some(admissions),
        }
    }

    /// Whether the gate reads a registry.
    pub fn is_checked(&self) -> bool {
        self.admissions.is_some()
    }

    /// Admits an event of `tenant`, or says why not.
    pub fn check(&self, tenant: &TenantId) -> Result<(), Rejection> {
        let Some(admissions) = &self.admissions else {
            return Ok(());
        };
        match admissions
            .get(tenant)
            .copied()
            .unwrap_or(Admission::Unknown)
        {
            Admission::Counted => Ok(()),
            Admission::Suspended => Err(Rejection::new(
                RejectReason::TenantSuspended,
                format!("tenant {tenant} is suspended; its events are kept but not counted"),
            )),
            Admission::Unknown => Err(Rejection::new(
                RejectReason::UnknownTenant,
                format!("tenant {tenant} is not registered (or was offboarded)"),
            )),
        }
    }
}

/// A gate read again once it is older than [`REGISTRY_TTL_MILLIS`].
#[derive(Clone, Debug, Default)]
pub struct CachedGate {
    gate: TenantGate,
    loaded_at: Option<Timestamp>,
}

impl CachedGate {
    /// The gate, read with `load` first when it is missing or stale at `now`.
    ///
    /// Fails when `load` fails; the stale gate stays for the next call.
    pub fn get<E>(
        &mut self,
        now: Timestamp,
        load: impl FnOnce() -> Result<Vec<Tenant>, E>,
    ) -> Result<&TenantGate, E> {
        let stale = self.loaded_at.is_none_or(|loaded_at| {
            now.as_millis() - loaded_at.as_millis() >= REGISTRY_TTL_MILLIS || now < loaded_at
        });
        if stale {
            let tenants = load()?;
            self.gate = TenantGate::from_tenants(&tenants);
            self.loaded_at = Some(now);
        }
        Ok(&self.gate)
    }
}
