//! The one error type of this crate: what an adapter of the [`crate::Onboarding`] port or the
//! Lambda's start-up can fail with. The router itself never fails: every outcome is a response.

/// What can go wrong outside a response.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A workflow (onboarding or offboarding) could not be started.
    #[error("starting {workflow} of tenant {tenant_id}: {detail}")]
    Workflow {
        /// `onboarding` or `offboarding`.
        workflow: &'static str,
        /// The tenant.
        tenant_id: String,
        /// What the workflow engine said (logged, never returned to the caller).
        detail: String,
    },
    /// The Lambda's configuration is missing or wrong.
    #[error("configuration: {detail}")]
    Config {
        /// Which setting and what is wrong with it.
        detail: String,
    },
}

impl Error {
    /// A workflow that could not be started.
    pub fn workflow(
        workflow: &'static str,
        tenant_id: &tally_schemas::TenantId,
        detail: impl std::fmt::Display,
    ) -> Error {
        Error::Workflow {
            workflow,
            tenant_id: tenant_id.to_string(),
            detail: detail.to_string(),
        }
    }
}

/// The result of this crate's fallible functions.
pub type Result<T> = std::result::Result<T, Error>;
