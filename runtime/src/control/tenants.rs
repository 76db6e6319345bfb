//! The tenants table in an embedded database file (`tenants.redb` in the data directory),
//! opened for each operation so that `tally serve` and other `tally` commands can share it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use tally_schemas::TenantId;
use tally_tenancy::ports::IdempotencyClaim;
use tally_tenancy::{Error, Result, Tenant, TenantStore};

const TENANTS: TableDefinition<&str, &[u8]> = TableDefinition::new("tenants");
const IDEMPOTENCY: TableDefinition<&str, &[u8]> = TableDefinition::new("idempotency_keys");
/// How long an operation waits for another process to close the file.
const OPEN_ATTEMPTS: u32 = 100;
const OPEN_PAUSE: Duration = Duration::from_millis(20);

/// The tenants table of the embedded default.
#[derive(Clone, Debug)]
pub struct EmbeddedTenants {
    path: PathBuf,
}

impl EmbeddedTenants {
    /// The table in the file at `path` (created on first write).
    pub fn new(path: impl Into<PathBuf>) -> EmbeddedTenants {
        EmbeddedTenants { path: path.into() }
    }

    /// Every tenant, for the metering registry.
    ///
    /// Fails when the file cannot be read.
    pub fn all(&self) -> Result<Vec<Tenant>> {
        if !self.path.exists() {
            return Ok(Vec::new());
        }
        self.read_page(None, usize::MAX)
    }

    fn open(&self) -> Result<Database> {
        let mut attempt = 0;
        loop {
            match Database::create(&self.path) {
                Ok(database) => return Ok(database),
                Err(redb::DatabaseError::DatabaseAlreadyOpen) if attempt < OPEN_ATTEMPTS => {
                    attempt += 1;
                    std::thread::sleep(OPEN_PAUSE);
                }
                Err(error) => return Err(store_error("opening", &self.path, error)),
            }
        }
    }

    fn read_page(&self, after: Option<&TenantId>, limit: usize) -> Result<Vec<Tenant>> {
        let database = self.open()?;
        let context = |error: redb::Error| store_error("reading", &self.path, error);
        let read = database.begin_read().map_err(|e| context(e.into()))?;
        let table = match read.open_table(TENANTS) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(error) => return Err(context(error.into())),
        };
        let start = after.map_or("", TenantId::as_str);
        let mut tenants = Vec::new();
        for entry in table.range(start..).map_err(|e| context(e.into()))? {
            let (key, value) = entry.map_err(|e| context(e.into()))?;
            if after.is_some() && key.value() == start {
                continue;
            }
            if tenants.len() == limit {
                break;
            }
            tenants.push(decode(&self.path, value.value())?);
        }
        Ok(tenants)
    }

    /// Runs `change` on the tenants table in one write transaction.
    fn write<T>(
        &self,
        change: impl FnOnce(&mut redb::Table<'_, &str, &[u8]>) -> Result<T>,
    ) -> Result<T> {
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|error| store_error("creating the folder of", &self.path, error))?;
        }
        let database = self.open()?;
        let context = |error: redb::Error| store_error("writing", &self.path, error);
        let write = database.begin_write().map_err(|e| context(e.into()))?;
        let outcome = {
            let mut table = write.open_table(TENANTS).map_err(|e| context(e.into()))?;
            change(&mut table)?
        };
        write.commit().map_err(|e| context(e.into()))?;
        Ok(outcome)
    }
}

impl TenantStore for EmbeddedTenants {
    async fn get(&self, tenant_id: &TenantId) -> Result<Option<Tenant>> {
        if !self.path.exists() {
            return Ok(None);
        }
        let page = self.read_page(None, usize::MAX)?;
        Ok(page
            .into_iter()
            .find(|tenant| &tenant.tenant_id == tenant_id))
    }

    async fn create(&self, tenant: &Tenant) -> Result<()> {
        let bytes = encode(tenant);
        self.write(|table| {
            let key = tenant.tenant_id.as_str();
            let exists = table
                .get(key)
                .map_err(|e| store_error("reading", &self.path, e))?
                .is_some();
            if exists {
                return Err(Error::conflict(format!("tenant {key} exists already")));
            }
            table
                .insert(key, bytes.as_slice())
                .map_err(|e| store_error("writing", &self.path, e))?;
            Ok(())
        })
    }

    async fn replace(&self, tenant: &Tenant) -> Result<()> {
        let bytes = encode(tenant);
        self.write(|table| {
            let key = tenant.tenant_id.as_str();
            let stored = match table
                .get(key)
                .map_err(|e| store_error("reading", &self.path, e))?
            {
                Some(value) => decode(&self.path, value.value())?,
                None => {
                    return Err(Error::NotFound {
                        tenant_id: key.to_owned(),
                    });
                }
            };
            if stored.version + 1 != tenant.version {
                return Err(Error::conflict(format!(
                    "tenant {key} is at version {}, not {}",
                    stored.version,
                    tenant.version - 1
                )));
            }
            table
                .insert(key, bytes.as_slice())
                .map_err(|e| store_error("writing", &self.path, e))?;
            Ok(())
        })
    }

    async fn list(&self, after: Option<&TenantId>, limit: usize) -> Result<Vec<Tenant>> {
        if !self.path.exists() {
            return Ok(Vec::new());
        }
        self.read_page(after, limit)
    }

    async fn claim_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
        tenant_id: &TenantId,
    ) -> Result<IdempotencyClaim> {
        let database = {
            self.write(|_| Ok(()))?;
            self.open()?
        };
        let context = |error: redb::Error| store_error("writing", &self.path, error);
        let write = database.begin_write().map_err(|e| context(e.into()))?;
        let claim = {
            let mut table = write
                .open_table(IDEMPOTENCY)
                .map_err(|e| context(e.into()))?;
            let existing = table
                .get(key)
                .map_err(|e| context(e.into()))?
                .map(|value| value.value().to_vec());
            match existing {
                Some(bytes) => {
                    let (fingerprint, tenant_id): (String, TenantId) =
                        serde_json::from_slice(&bytes)
                            .map_err(|error| store_error("decoding", &self.path, error))?;
                    IdempotencyClaim::Replay {
                        fingerprint,
                        tenant_id,
                    }
                }
                None => {
                    let bytes =
                        serde_json::to_vec(&(fingerprint, tenant_id)).expect("serializable");
                    table
                        .insert(key, bytes.as_slice())
                        .map_err(|e| context(e.into()))?;
                    IdempotencyClaim::Claimed
                }
            }
        };
        write.commit().map_err(|e| context(e.into()))?;
        Ok(claim)
    }
}

fn encode(tenant: &Tenant) -> Vec<u8> {
    serde_json::to_vec(tenant).expect("a tenant serializes")
}

fn decode(path: &Path, bytes: &[u8]) -> Result<Tenant> {
    serde_json::from_slice(bytes).map_err(|error| store_error("decoding a tenant in", path, error))
}

fn store_error(action: &str, path: &Path, error: impl std::fmt::Display) -> Error {
    Error::store(format!("{action} {}", path.display()), error)
}
