//! The ports of the control plane: the tenants table, the audit log, and what each onboarding
//! step provisions through. Adapters exist for the embedded default, AWS and PostgreSQL; every
//! operation is safe to repeat, because a workflow retried after a crash repeats it.

use std::collections::BTreeMap;
use std::future::Future;

use tally_schemas::TenantId;

use crate::audit::AuditEntry;
use crate::error::Result;
use crate::model::Tenant;

/// What a step created, by resource name (`database`, `storage_policy`, `user_pool`, ...), kept
/// on the tenant so compensation and offboarding know what to remove.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provisioned {
    /// Resource name → identifier (a database name, an ARN, an id, a path).
    pub resources: BTreeMap<String, String>,
}

impl Provisioned {
    /// One resource.
    pub fn one(name: &str, id: impl Into<String>) -> Provisioned {
        let mut resources = BTreeMap::new();
        resources.insert(name.to_owned(), id.into());
        Provisioned { resources }
    }

    /// Adds a resource.
    pub fn with(mut self, name: &str, id: impl Into<String>) -> Provisioned {
        self.resources.insert(name.to_owned(), id.into());
        self
    }
}

/// Why a step failed, and whether trying again may help.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// Throttling, a timeout, a dropped connection: retried with backoff.
    #[error("{message}")]
    Transient {
        /// What failed.
        message: String,
    },
    /// A refusal that will not change by retrying: the workflow compensates at once.
    #[error("{message}")]
    Permanent {
        /// What failed.
        message: String,
    },
}

impl StepError {
    /// Whether the step may be tried again.
    pub fn is_transient(&self) -> bool {
        matches!(self, StepError::Transient { .. })
    }

    /// A transient failure.
    pub fn transient(message: impl Into<String>) -> StepError {
        StepError::Transient {
            message: message.into(),
        }
    }

    /// A permanent failure.
    pub fn permanent(message: impl Into<String>) -> StepError {
        StepError::Permanent {
            message: message.into(),
        }
    }
}

/// The result of a step.
pub type StepResult<T> = std::result::Result<T, StepError>;

/// What one step provisions for a tenant.
pub trait Provision: Send + Sync {
    /// Creates the step's resources for `tenant`; when they exist already, finds and returns
    /// them (a repeat after a crash or a retry creates nothing twice).
    fn apply(&self, tenant: &Tenant) -> impl Future<Output = StepResult<Provisioned>> + Send;

    /// Removes what [`Provision::apply`] created for `tenant` (its ids are in
    /// `tenant.resources`); succeeds when there is nothing to remove.
    fn undo(&self, tenant: &Tenant) -> impl Future<Output = StepResult<()>> + Send;
}

/// An email to a tenant's admin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    /// The recipient (a validated address).
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
}

/// Sends email (SES in AWS, an outbox folder on the embedded default).
pub trait Mailer: Send + Sync {
    /// Sends `email`, returning the message id.
    fn send(&self, email: &Email) -> impl Future<Output = StepResult<String>> + Send;
}

/// What an `Idempotency-Key` was used for before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is new and is now bound to this request.
    Claimed,
    /// The key was used before, for a request with this fingerprint that created this tenant.
    Replay {
        /// The fingerprint of the first request's body.
        fingerprint: String,
        /// The tenant the first request created.
        tenant_id: TenantId,
    },
}

/// The tenants table.
pub trait TenantStore: Send + Sync {
    /// The tenant with this id, if any.
    fn get(&self, tenant_id: &TenantId) -> impl Future<Output = Result<Option<Tenant>>> + Send;

    /// Stores a new tenant; a conflict when the id is taken.
    fn create(&self, tenant: &Tenant) -> impl Future<Output = Result<()>> + Send;

    /// Stores `tenant` over the version before it (`tenant.version - 1`); a conflict when the
    /// stored version is another.
    fn replace(&self, tenant: &Tenant) -> impl Future<Output = Result<()>> + Send;

    /// Up to `limit` tenants in id order, starting after `after`.
    fn list(
        &self,
        after: Option<&TenantId>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Tenant>>> + Send;

    /// Binds `key` to a request fingerprint and the tenant it creates, unless it is bound
    /// already.
    fn claim_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
        tenant_id: &TenantId,
    ) -> impl Future<Output = Result<IdempotencyClaim>> + Send;
}

/// The per-tenant audit log, kept under the tenant's prefix in the tenant data bucket.
pub trait AuditLog: Send + Sync {
    /// Appends one entry.
    fn append(&self, entry: &AuditEntry) -> impl Future<Output = Result<()>> + Send;

    /// The tenant's entries, oldest first.
    fn entries(&self, tenant_id: &TenantId)
    -> impl Future<Output = Result<Vec<AuditEntry>>> + Send;
}

/// Issues a tenant's final invoice when it is offboarded.
pub trait FinalInvoice: Send + Sync {
    /// Issues the final invoice of `tenant` (its usage to date), returning its number; a repeat
    /// returns the same invoice.
    fn issue(&self, tenant: &Tenant) -> impl Future<Output = StepResult<String>> + Send;
}
