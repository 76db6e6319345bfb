//! In-memory adapters of every control-plane port, held to the same behaviour as the embedded
//! and AWS ones: for unit tests of the workflow and the API, and for fault injection.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use tally_schemas::{TenantId, Timestamp};

use crate::audit::AuditEntry;
use crate::error::{Error, Result};
use crate::model::Tenant;
use crate::ports::{
    AuditLog, Email, FinalInvoice, IdempotencyClaim, Mailer, Provision, Provisioned, StepError,
    TenantStore,
};
use crate::workflow::Clock;

/// The tenants table in memory.
#[derive(Clone, Debug, Default)]
pub struct MemoryTenants {
    tenants: Arc<Mutex<BTreeMap<TenantId, Tenant>>>,
    keys: Arc<Mutex<BTreeMap<String, (String, TenantId)>>>,
}

impl TenantStore for MemoryTenants {
    async fn get(&self, tenant_id: &TenantId) -> Result<Option<Tenant>> {
        Ok(self
            .tenants
            .lock()
            .expect("tenants")
            .get(tenant_id)
            .cloned())
    }

    async fn create(&self, tenant: &Tenant) -> Result<()> {
        let mut tenants = self.tenants.lock().expect("tenants");
        if tenants.contains_key(&tenant.tenant_id) {
            return Err(Error::conflict(format!(
                "tenant {} exists already",
                tenant.tenant_id
            )));
        }
        tenants.insert(tenant.tenant_id.clone(), tenant.clone());
        Ok(())
    }

    async fn replace(&self, tenant: &Tenant) -> Result<()> {
        let mut tenants = self.tenants.lock().expect("tenants");
        match tenants.get(&tenant.tenant_id) {
            Some(stored) if stored.version + 1 == tenant.version => {
                tenants.insert(tenant.tenant_id.clone(), tenant.clone());
                Ok(())
            }
            Some(stored) => Err(Error::conflict(format!(
                "tenant {} is at version {}, not {}",
                tenant.tenant_id,
                stored.version,
                tenant.version - 1
            ))),
            None => Err(Error::NotFound {
                tenant_id: tenant.tenant_id.to_string(),
            }),
        }
    }

    async fn list(&self, after: Option<&TenantId>, limit: usize) -> Result<Vec<Tenant>> {
        let tenants = self.tenants.lock().expect("tenants");
        let page = tenants
            .values()
            .filter(|tenant| after.is_none_or(|after| &tenant.tenant_id > after))
            .take(limit)
            .cloned()
            .collect();
        Ok(page)
    }

    async fn claim_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
        tenant_id: &TenantId,
    ) -> Result<IdempotencyClaim> {
        let mut keys = self.keys.lock().expect("keys");
        if let Some((first, tenant_id)) = keys.get(key) {
            return Ok(IdempotencyClaim::Replay {
                fingerprint: first.clone(),
                tenant_id: tenant_id.clone(),
            });
        }
        keys.insert(key.to_owned(), (fingerprint.to_owned(), tenant_id.clone()));
        Ok(IdempotencyClaim::Claimed)
    }
}

/// The audit log in memory.
#[derive(Clone, Debug, Default)]
pub struct MemoryAudit {
    entries: Arc<Mutex<Vec<AuditEntry>>>,
}

impl AuditLog for MemoryAudit {
    async fn append(&self, entry: &AuditEntry) -> Result<()> {
        self.entries.lock().expect("audit").push(entry.clone());
        Ok(())
    }

    async fn entries(&self, tenant_id: &TenantId) -> Result<Vec<AuditEntry>> {
        let entries = self.entries.lock().expect("audit");
        Ok(entries
            .iter()
            .filter(|entry| &entry.tenant_id == tenant_id)
            .cloned()
            .collect())
    }
}

/// A provisioner that keeps its resources in a shared set, so a test can see what exists; it
/// can be told to fail.
#[derive(Clone, Debug)]
pub struct MemoryResources {
    /// The resource name prefix, e.g. `database`.
    pub name: &'static str,
    /// What exists now, as `{name}/{tenant}`.
    pub live: Arc<Mutex<BTreeSet<String>>>,
    /// Failures still to give: each call to `apply` takes the first, if any.
    pub failures: Arc<Mutex<Vec<Failure>>>,
}

/// A failure a [`MemoryResources`] gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Fail with a transient error before creating anything.
    Transient,
    /// Create the resource, then fail for good (a half-applied step).
    PermanentAfterCreating,
}

impl MemoryResources {
    /// A provisioner recording into `live`.
    pub fn new(name: &'static str, live: Arc<Mutex<BTreeSet<String>>>) -> MemoryResources {
        MemoryResources {
            name,
            live,
            failures: Arc::default(),
        }
    }
}

impl Provision for MemoryResources {
    async fn apply(&self, tenant: &Tenant) -> std::result::Result<Provisioned, StepError> {
        let failure = {
            let mut failures = self.failures.lock().expect("failures");
            (!failures.is_empty()).then(|| failures.remove(0))
        };
        let id = format!("{}/{}", self.name, tenant.tenant_id);
        if failure == Some(Failure::Transient) {
            return Err(StepError::transient(format!("{} throttled", self.name)));
        }
        self.live.lock().expect("live").insert(id.clone());
        if failure == Some(Failure::PermanentAfterCreating) {
            return Err(StepError::permanent(format!("{} refused", self.name)));
        }
        Ok(Provisioned::one(&format!("{}.id", self.name), id))
    }

    async fn undo(&self, tenant: &Tenant) -> std::result::Result<(), StepError> {
        let id = format!("{}/{}", self.name, tenant.tenant_id);
        self.live.lock().expect("live").remove(&id);
        Ok(())
    }
}

/// A mailer keeping what it sent.
#[derive(Clone, Debug, Default)]
pub struct MemoryMailer {
    /// The emails sent, in order.
    pub sent: Arc<Mutex<Vec<Email>>>,
}

impl Mailer for MemoryMailer {
    async fn send(&self, email: &Email) -> std::result::Result<String, StepError> {
        let mut sent = self.sent.lock().expect("sent");
        sent.push(email.clone());
        Ok(format!("message-{}", sent.len()))
    }
}

/// A final invoice numbered after the tenant.
#[derive(Clone, Copy, Debug, Default)]
pub struct MemoryBilling;

impl FinalInvoice for MemoryBilling {
    async fn issue(&self, tenant: &Tenant) -> std::result::Result<String, StepError> {
        Ok(format!("final-{}", tenant.tenant_id))
    }
}

/// A clock that stands still unless slept on, and records the sleeps.
#[derive(Clone, Debug)]
pub struct ManualClock {
    now: Arc<Mutex<Timestamp>>,
    /// Every sleep asked for, in seconds.
    pub sleeps: Arc<Mutex<Vec<u32>>>,
}

impl ManualClock {
    /// A clock at `now`.
    pub fn at(now: Timestamp) -> ManualClock {
        ManualClock {
            now: Arc::new(Mutex::new(now)),
            sleeps: Arc::default(),
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().expect("clock")
    }

    async fn sleep(&self, secs: u32) {
        self.sleeps.lock().expect("sleeps").push(secs);
        let mut now = self.now.lock().expect("clock");
        *now = now.plus_millis(i64::from(secs) * 1000);
    }
}
