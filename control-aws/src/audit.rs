//! The per-tenant audit log over S3: one JSON object per entry under the tenant's audit prefix,
//! named by time and version, so that a listing in key order is the order of the changes and a
//! repeated append rewrites the same object.

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use tally_schemas::TenantId;
use tally_schemas::layout::{audit_object_key, audit_prefix};
use tally_tenancy::{AuditEntry, AuditLog, Error, Result};
use tokio::task::JoinSet;

use crate::failure::store_error;

/// Most keys one ListObjectsV2 page returns (the service's own limit).
const LIST_PAGE_KEYS: i32 = 1000;
/// Entries read at once: S3 has no batch read, and a tenant's log holds an entry per change.
const READS_IN_FLIGHT: usize = 16;

/// The audit log in the tenant data bucket.
#[derive(Clone, Debug)]
pub struct S3AuditLog {
    client: Client,
    bucket: String,
}

impl S3AuditLog {
    /// The log in `bucket`, reached with `client` (see [`crate::s3_client`]).
    pub fn new(client: Client, bucket: impl Into<String>) -> S3AuditLog {
        S3AuditLog {
            client,
            bucket: bucket.into(),
        }
    }

    fn location(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    async fn keys(&self, prefix: &str) -> Result<Vec<String>> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .max_keys(LIST_PAGE_KEYS)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|error| store_error("S3 ListObjectsV2", &self.location(prefix), &error))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|object| object.key().map(str::to_owned)),
            );
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => break,
            }
        }
        // S3 lists in UTF-8 binary order already; sorting keeps the contract explicit.
        keys.sort_unstable();
        Ok(keys)
    }

    /// Reads the objects at `keys`, at most [`READS_IN_FLIGHT`] at once, in the order given.
    async fn read_all(&self, keys: Vec<String>) -> Result<Vec<AuditEntry>> {
        let mut keys = keys.into_iter().enumerate();
        let mut running = JoinSet::new();
        let mut entries: Vec<(usize, AuditEntry)> = Vec::new();
        loop {
            while running.len() < READS_IN_FLIGHT {
                let Some((index, key)) = keys.next() else {
                    break;
                };
                let log = self.clone();
                running.spawn(async move { (index, log.read(&key).await) });
            }
            let Some(done) = running.join_next().await else {
                break;
            };
            let (index, entry) = done.map_err(|error| {
                Error::store(format!("S3 GetObject {}", self.location("")), error)
            })?;
            entries.push((index, entry?));
        }
        entries.sort_unstable_by_key(|(index, _)| *index);
        Ok(entries.into_iter().map(|(_, entry)| entry).collect())
    }

    async fn read(&self, key: &str) -> Result<AuditEntry> {
        let location = self.location(key);
        let output = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|error| store_error("S3 GetObject", &location, &error))?;
        let body = output
            .body
            .collect()
            .await
            .map_err(|error| Error::store(format!("S3 GetObject body {location}"), error))?;
        serde_json::from_slice(&body.into_bytes()).map_err(|error| {
            Error::store(
                format!("S3 {location}"),
                format!("not an audit entry: {error}"),
            )
        })
    }
}

impl AuditLog for S3AuditLog {
    async fn append(&self, entry: &AuditEntry) -> Result<()> {
        let key = audit_object_key(&entry.tenant_id, entry.at, entry.version());
        let body = serde_json::to_vec(entry)
            .map_err(|error| Error::store(format!("encoding audit entry {key}"), error))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|error| store_error("S3 PutObject", &self.location(&key), &error))?;
        Ok(())
    }

    async fn entries(&self, tenant_id: &TenantId) -> Result<Vec<AuditEntry>> {
        let prefix = audit_prefix(tenant_id);
        let entries = self.read_all(self.keys(&prefix).await?).await?;
        if entries.iter().any(|entry| &entry.tenant_id != tenant_id) {
            return Err(Error::store(
                format!("S3 {}", self.location(&prefix)),
                "an entry under the prefix names another tenant",
            ));
        }
        Ok(entries)
    }
}
