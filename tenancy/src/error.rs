//! The one error type of the control plane core.

/// What can go wrong with a tenant request or its store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request is malformed or breaks a rule; `field` names the part to fix.
    #[error("{field}: {problem}")]
    Invalid {
        /// The request field, e.g. `tenant_id` or `quotas.api_calls`.
        field: String,
        /// What is wrong, in a sentence a caller can act on.
        problem: String,
    },
    /// No tenant has this id.
    #[error("no tenant {tenant_id}")]
    NotFound {
        /// The id asked for (already validated).
        tenant_id: String,
    },
    /// The change conflicts with the tenant's state: it exists already, the version moved on, or
    /// the lifecycle does not allow the move.
    #[error("{detail}")]
    Conflict {
        /// What conflicts.
        detail: String,
    },
    /// The caller changed the tenant as it was at `expected`, but it is at `current` now.
    #[error("tenant {tenant_id} is at version {current}, not {expected}; read it again and retry")]
    VersionMismatch {
        /// The tenant.
        tenant_id: String,
        /// The version the caller read.
        expected: u64,
        /// The version stored.
        current: u64,
    },
    /// The tenant store or the audit log failed.
    #[error("{operation}: {detail}")]
    Store {
        /// The request, e.g. "DynamoDB PutItem tenants".
        operation: String,
        /// What the store said.
        detail: String,
    },
}

impl Error {
    /// An invalid-field error.
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Error {
        Error::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// A conflict.
    pub fn conflict(detail: impl Into<String>) -> Error {
        Error::Conflict {
            detail: detail.into(),
        }
    }

    /// A store failure.
    pub fn store(operation: impl Into<String>, detail: impl std::fmt::Display) -> Error {
        Error::Store {
            operation: operation.into(),
            detail: detail.to_string(),
        }
    }
}

/// The control plane's result.
pub type Result<T> = std::result::Result<T, Error>;
