//! Audit entries: every control-plane change to a tenant, who made it, and the record before
//! and after.

use serde::{Deserialize, Serialize};
use tally_schemas::time::rfc3339;
use tally_schemas::{TenantId, Timestamp};

use crate::model::Tenant;

/// One change to one tenant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The tenant changed.
    pub tenant_id: TenantId,
    /// When.
    #[serde(with = "rfc3339")]
    pub at: Timestamp,
    /// Who: the token's subject, `tally-cli` locally, or `onboarding` for workflow steps.
    pub actor: String,
    /// What, e.g. `create`, `update`, `suspend`, `step.create_database`, `compensate`.
    pub action: String,
    /// The record before the change (absent for `create`).
    pub before: Option<Tenant>,
    /// The record after it.
    pub after: Option<Tenant>,
}

impl AuditEntry {
    /// The version the change produced (0 when there is no record after it), which orders a
    /// tenant's entries and names their objects.
    pub fn version(&self) -> u64 {
        self.after
            .as_ref()
            .or(self.before.as_ref())
            .map_or(0, |tenant| tenant.version)
    }
}
