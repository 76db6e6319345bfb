//! The tenant record: who a tenant is, how it is isolated, where it is in its lifecycle, and what
//! onboarding provisioned for it. Stored whole in the tenants table, versioned for optimistic
//! concurrency.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tally_schemas::time::rfc3339;
use tally_schemas::{TenantId, Timestamp};

/// The service tier a tenant buys; it decides the isolation model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Pooled: shared database with row-level security, an app client in the shared user pool.
    Standard,
    /// Siloed: a dedicated database and a user pool of its own.
    Premium,
}

impl Tier {
    /// The tier's isolation model.
    pub fn isolation(self) -> Isolation {
        match self {
            Tier::Standard => Isolation::Pooled,
            Tier::Premium => Isolation::Siloed,
        }
    }

    /// The tier's name as written in requests and tags.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Standard => "standard",
            Tier::Premium => "premium",
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// How a tenant's resources are separated from other tenants'.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// Shared resources, separated by tenant id (row-level security, prefixes, groups).
    Pooled,
    /// Resources of its own.
    Siloed,
}

/// Where a tenant is in its lifecycle (see [`crate::lifecycle`] for the allowed moves).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Created, onboarding not started.
    Pending,
    /// Onboarding steps are running.
    Provisioning,
    /// Onboarded; its usage is metered.
    Active,
    /// Held: its usage is quarantined as `tenant_suspended`, its resources kept.
    Suspended,
    /// Offboarding steps are running.
    Offboarding,
    /// Gone: resources removed, final invoice issued. Kept as a record.
    Offboarded,
    /// Onboarding or offboarding failed for good; `status_reason` says why.
    Failed,
}

impl Status {
    /// The status as written in the API and the tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Provisioning => "provisioning",
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Offboarding => "offboarding",
            Status::Offboarded => "offboarded",
            Status::Failed => "failed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Where and with what a tenant runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// The AWS region its resources live in, e.g. `us-east-1`.
    pub region: String,
    /// Feature flags, by name.
    #[serde(default)]
    pub features: Vec<String>,
}

/// One tenant, as the tenants table stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// The tenant id: the key of its data everywhere.
    pub tenant_id: TenantId,
    /// The display name.
    pub name: String,
    /// The tier.
    pub tier: Tier,
    /// The tier's isolation model, stored so readers need not know the rule.
    pub isolation: Isolation,
    /// The lifecycle status.
    pub status: Status,
    /// Why the status is what it is (always set for `failed` and `suspended`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// Where the welcome email and notices go.
    pub admin_email: String,
    /// The billing plan id.
    pub plan: String,
    /// Region and features.
    pub config: TenantConfig,
    /// Usage allowed per billing period, by meter; usage beyond it records a quota event.
    #[serde(default)]
    pub quotas: BTreeMap<String, Decimal>,
    /// What onboarding provisioned, by resource name (database, policy ARN, user pool, ...),
    /// so that compensation and offboarding know what to remove.
    #[serde(default)]
    pub resources: BTreeMap<String, String>,
    /// When the tenant was created.
    #[serde(with = "rfc3339")]
    pub created_at: Timestamp,
    /// When the record last changed.
    #[serde(with = "rfc3339")]
    pub updated_at: Timestamp,
    /// Incremented by every change; a write names the version it read.
    pub version: u64,
}

impl Tenant {
    /// Whether this tenant's usage events are counted, and if not, why not.
    ///
    /// Usage is counted from creation until offboarding ends, so that events sent while a
    /// tenant is being provisioned or offboarded reach its final invoice; a suspended tenant's
    /// events are kept in the quarantine, and a failed or offboarded tenant is no tenant.
    pub fn admission(&self) -> Admission {
        match self.status {
            Status::Pending | Status::Provisioning | Status::Active | Status::Offboarding => {
                Admission::Counted
            }
            Status::Suspended => Admission::Suspended,
            Status::Failed | Status::Offboarded => Admission::Unknown,
        }
    }
}

/// What metering does with a tenant's events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Count them.
    Counted,
    /// Quarantine them as `tenant_suspended`.
    Suspended,
    /// Quarantine them as `unknown_tenant`.
    Unknown,
}
