//! The audit log as one JSON object per change under the tenant's prefix
//! (`tenants/{tenant_id}/audit/`), in the local bucket or any other [`Bucket`].

use tally_schemas::TenantId;
use tally_schemas::layout::{audit_object_key, audit_prefix};
use tally_tenancy::{AuditEntry, AuditLog, Error, Result};

use crate::ports::Bucket;

/// The audit log over a bucket.
#[derive(Clone, Debug)]
pub struct BucketAudit<B> {
    bucket: B,
}

impl<B: Bucket> BucketAudit<B> {
    /// The log in `bucket`.
    pub fn new(bucket: B) -> BucketAudit<B> {
        BucketAudit { bucket }
    }
}

impl<B: Bucket + Send + Sync> AuditLog for BucketAudit<B> {
    async fn append(&self, entry: &AuditEntry) -> Result<()> {
        let key = audit_object_key(&entry.tenant_id, entry.at, entry.version());
        let bytes = serde_json::to_vec_pretty(entry).expect("an audit entry serializes");
        self.bucket
            .put(&key, &bytes)
            .map_err(|error| Error::store(format!("writing {key}"), error))
    }

    async fn entries(&self, tenant_id: &TenantId) -> Result<Vec<AuditEntry>> {
        let prefix = audit_prefix(tenant_id);
        let mut keys = self
            .bucket
            .list(&prefix)
            .map_err(|error| Error::store(format!("listing {prefix}"), error))?;
        keys.sort();
        let mut entries = Vec::with_capacity(keys.len());
        for key in keys {
            let Some(bytes) = self
                .bucket
                .get(&key)
                .map_err(|error| Error::store(format!("reading {key}"), error))?
            else {
                continue;
            };
            let entry = serde_json::from_slice(&bytes)
                .map_err(|error| Error::store(format!("decoding {key}"), error))?;
            entries.push(entry);
        }
        Ok(entries)
    }
}
