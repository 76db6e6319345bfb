//! The storage layout of the tenant data bucket: the object keys finance and invoice jobs read.
//! The same keys are used in S3 and under the local bucket directory.

use crate::tenant::TenantId;
use crate::time::Timestamp;

/// Default name of the tenant data bucket.
pub const DEFAULT_BUCKET: &str = "tenant-data";
/// Prefix of rejected records, outside every tenant prefix.
pub const QUARANTINE_PREFIX: &str = "quarantine/";
/// Prefix of objects written but not yet committed; readers never look under it.
pub const STAGING_PREFIX: &str = "_staging/";
/// Prefix of the stream consumer's per-tenant ledgers (commit records and state snapshots);
/// readers of tenant data never look under it.
pub const LEDGER_PREFIX: &str = "_ledger/";

/// The prefix of everything one tenant owns: `tenants/{tenant_id}/`.
pub fn tenant_prefix(tenant_id: &TenantId) -> String {
    format!("tenants/{tenant_id}/")
}

/// The partition of one tenant's events for one UTC day:
/// `tenants/{tenant_id}/usage/events/dt={YYYY-MM-DD}/`.
pub fn events_partition(tenant_id: &TenantId, day: Timestamp) -> String {
    format!("tenants/{tenant_id}/usage/events/dt={}/", day.date_string())
}

/// The key of one events object: the partition plus `{object_name}.parquet`.
///
/// `object_name` is chosen by the writer and must be a plain file name.
pub fn events_object_key(tenant_id: &TenantId, day: Timestamp, object_name: &str) -> String {
    assert!(
        !object_name.is_empty() && !object_name.contains(['/', '\\']) && object_name != "..",
        "object names are plain file names"
    );
    format!("{}{object_name}.parquet", events_partition(tenant_id, day))
}

/// The prefix of one tenant's control-plane audit log: `tenants/{tenant_id}/audit/`.
pub fn audit_prefix(tenant_id: &TenantId) -> String {
    format!("tenants/{tenant_id}/audit/")
}

/// The key of one audit entry: the prefix plus `{at_ms:013}-{version:010}.json`, so that a
/// listing in key order is the order of the changes.
pub fn audit_object_key(tenant_id: &TenantId, at: Timestamp, version: u64) -> String {
    format!(
        "{}{:013}-{version:010}.json",
        audit_prefix(tenant_id),
        at.as_millis().max(0)
    )
}

/// The key of the marker object that makes a tenant's prefix exist before any data does:
/// `tenants/{tenant_id}/.tenant`.
pub fn tenant_marker_key(tenant_id: &TenantId) -> String {
    format!("{}.tenant", tenant_prefix(tenant_id))
}

/// The prefix of one tenant's quota events: `tenants/{tenant_id}/quota-events/`.
pub fn quota_events_prefix(tenant_id: &TenantId) -> String {
    format!("tenants/{tenant_id}/quota-events/")
}

/// The prefix of one tenant's invoices for one billing period:
/// `tenants/{tenant_id}/invoices/{YYYY-MM}/`.
pub fn invoices_prefix(tenant_id: &TenantId, month_start: Timestamp) -> String {
    format!(
        "tenants/{tenant_id}/invoices/{}/",
        &month_start.date_string()[..7]
    )
}

/// The key of one invoice object: the period's prefix plus `{object_name}.{extension}`.
pub fn invoice_object_key(
    tenant_id: &TenantId,
    month_start: Timestamp,
    object_name: &str,
    extension: &str,
) -> String {
    assert!(
        !object_name.is_empty()
            && !object_name.contains(['/', '\\'])
            && !extension.contains(['/', '\\']),
        "object names are plain file names"
    );
    format!(
        "{}{object_name}.{extension}",
        invoices_prefix(tenant_id, month_start)
    )
}

/// The prefix of one tenant's invoice lines (Parquet) for one billing period:
/// `tenants/{tenant_id}/invoices/{YYYY-MM}/lines/`. A prefix of their own, so that a table over
/// it (Athena reads every object under a partition) holds only Parquet.
pub fn invoice_lines_prefix(tenant_id: &TenantId, month_start: Timestamp) -> String {
    format!(
        "tenants/{tenant_id}/invoices/{}/lines/",
        &month_start.date_string()[..7]
    )
}

/// The key of one invoice's lines: the period's lines prefix plus `{object_name}.parquet`.
pub fn invoice_lines_key(
    tenant_id: &TenantId,
    month_start: Timestamp,
    object_name: &str,
) -> String {
    assert!(
        !object_name.is_empty() && !object_name.contains(['/', '\\']),
        "object names are plain file names"
    );
    format!(
        "{}{object_name}.parquet",
        invoice_lines_prefix(tenant_id, month_start)
    )
}

/// The key of one quarantine object for records received on `day`.
pub fn quarantine_object_key(day: Timestamp, object_name: &str) -> String {
    assert!(
        !object_name.contains(['/', '\\']),
        "object names are plain file names"
    );
    format!(
        "{QUARANTINE_PREFIX}dt={}/{object_name}.ndjson",
        day.date_string()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_keys_follow_the_design() {
        let tenant = TenantId::parse("tenant_123").unwrap();
        let day = Timestamp::parse("2026-11-26T14:02:03Z").unwrap();
        assert_eq!(
            events_object_key(&tenant, day, "part-7"),
            "tenants/tenant_123/usage/events/dt=2026-11-26/part-7.parquet"
        );
        assert_eq!(
            quarantine_object_key(day, "q-1"),
            "quarantine/dt=2026-11-26/q-1.ndjson"
        );
    }
}
