//! The tenant registry the handler reads before each batch: every tenant of the tenants table,
//! read at most once per [`tally_runtime::registry::REGISTRY_TTL_MILLIS`] through a
//! [`CachedGate`], then set as the consumer's gate, so metering counts only registered tenants
//! (an unknown tenant's records are quarantined as `unknown_tenant`, a suspended one's as
//! `tenant_suspended`). A registry that cannot be read holds the batch back for a retry rather
//! than quarantine real tenants' records.

use tally_aws::DynamoTables;
use tally_runtime::env::TALLY_TENANTS_TABLE;
use tally_runtime::ports::Bucket;
use tally_runtime::registry::CachedGate;
use tally_runtime::stream::{LedgerTables, StreamConsumer};
use tally_runtime::{Error, Result};
use tally_schemas::Timestamp;
use tally_tenancy::Tenant;
use tokio::runtime::Handle;

/// The tenants table the registry reads, how to create it, and its default name, for the callers
/// that build a [`DynamoRegistry`] (`tally consume`, `tally aws init`) or fill the table (tests).
pub use tally_control_aws::tenants::DEFAULT_TENANTS_TABLE;
pub use tally_control_aws::{DynamoTenants, create_table as create_tenants_table};

/// Where the registry comes from; read from a thread that may block.
pub trait TenantRegistry {
    /// Every tenant.
    ///
    /// Fails when the tenants cannot be read.
    fn tenants(&self) -> Result<Vec<Tenant>>;
}

/// A function giving the tenants: a fixed registry in tests.
impl<F: Fn() -> Result<Vec<Tenant>>> TenantRegistry for F {
    fn tenants(&self) -> Result<Vec<Tenant>> {
        self()
    }
}

/// The registry and its cached gate.
pub struct Registry<R> {
    source: R,
    cache: CachedGate,
}

impl<R: TenantRegistry> Registry<R> {
    /// The registry read from `source`, not read yet.
    pub fn new(source: R) -> Registry<R> {
        Registry {
            source,
            cache: CachedGate::default(),
        }
    }

    /// Reads the registry when the cached one is missing or stale at `now`, and then sets it as
    /// `consumer`'s gate (the gate is cloned only when it was read again).
    ///
    /// Fails when the registry must be read and cannot be; the consumer keeps its gate.
    pub fn refresh<B: Bucket, T: LedgerTables>(
        &mut self,
        consumer: &mut StreamConsumer<B, T>,
        now: Timestamp,
    ) -> Result<()> {
        let mut read = false;
        let source = &self.source;
        let gate = self.cache.get(now, || {
            read = true;
            source.tenants()
        })?;
        if read {
            consumer.set_tenant_gate(gate.clone());
        }
        Ok(())
    }
}

/// The registry in the DynamoDB tenants table, read on `runtime` (block from a thread that may
/// block: a Lambda's `spawn_blocking` task, a command's main thread).
#[derive(Clone, Debug)]
pub struct DynamoRegistry {
    tenants: DynamoTenants,
    runtime: Handle,
}

impl DynamoRegistry {
    /// The registry in `tenants`, read on `runtime`.
    pub fn new(tenants: DynamoTenants, runtime: Handle) -> DynamoRegistry {
        DynamoRegistry { tenants, runtime }
    }

    /// The registry in the table `TALLY_TENANTS_TABLE` names (default `tenants`; an empty
    /// value counts as unset).
    pub fn from_env(config: &aws_config::SdkConfig, runtime: Handle) -> DynamoRegistry {
        let table = std::env::var(TALLY_TENANTS_TABLE)
            .ok()
            .filter(|table| !table.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_TENANTS_TABLE.to_owned());
        let tenants = DynamoTenants::new(DynamoTables::client(config), table);
        DynamoRegistry::new(tenants, runtime)
    }
}

impl TenantRegistry for DynamoRegistry {
    fn tenants(&self) -> Result<Vec<Tenant>> {
        self.runtime
            .block_on(self.tenants.all())
            .map_err(|error| Error::Remote {
                operation: format!("reading the tenant registry {}", self.tenants.table()),
                detail: error.to_string(),
            })
    }
}
