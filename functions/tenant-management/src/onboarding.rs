//! The port that starts a tenant's onboarding or offboarding workflow once the API has stored
//! the request: a Step Functions execution in AWS, `ControlPlane::onboard`/`offboard` in process
//! locally. Starting must be safe to repeat for the same tenant, because a client retrying a
//! request (or `POST /admin/tenants/{id}/onboard`) starts it again.

use std::future::Future;

use tally_schemas::TenantId;

use crate::error::Result;

/// Starts the control plane's workflows.
pub trait Onboarding: Send + Sync {
    /// Starts onboarding `tenant_id` (`pending` or `failed`), as requested by `actor`. It may
    /// run to completion before returning (in process) or only start (Step Functions).
    ///
    /// Fails when the workflow could not be started.
    fn start(&self, tenant_id: &TenantId, actor: &str) -> impl Future<Output = Result<()>> + Send;

    /// Starts offboarding `tenant_id`, as requested by `actor`; the same contract as
    /// [`Onboarding::start`].
    ///
    /// Fails when the workflow could not be started.
    fn offboard(
        &self,
        tenant_id: &TenantId,
        actor: &str,
    ) -> impl Future<Output = Result<()>> + Send;
}
