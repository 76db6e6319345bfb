//! The [`Onboarding`] port over Step Functions: starting a workflow is one execution of its state
//! machine, named after the tenant and the version the request left it at
//! ([`tally_control_aws::step_functions`]), so a client repeating a request starts nothing twice.
//! A repeated `DELETE` of a tenant already `offboarding` (its version moved on when the workflow
//! began) starts nothing while an offboarding execution of that tenant runs, and starts one to
//! carry on when none does (the last one died before it could record a failure).
//!
//! Built with the `aws` feature (the default).

use crate::error::{Error, Result};
use crate::onboarding::Onboarding;
use tally_control_aws::{StepFunctionsStarter, Workflow};
use tally_schemas::TenantId;
use tally_tenancy::{Status, Tenant, TenantStore};

/// Starts the workflows as executions of the state machines.
pub struct StepFunctionsOnboarding<T> {
    /// The state machines.
    pub starter: StepFunctionsStarter,
    /// The tenants table, for the version the execution is named after.
    pub tenants: T,
}

impl<T: TenantStore> StepFunctionsOnboarding<T> {
    async fn tenant(&self, workflow: &'static str, tenant_id: &TenantId) -> Result<Tenant> {
        match self.tenants.get(tenant_id).await {
            Ok(Some(tenant)) => Ok(tenant),
            Ok(None) => Err(Error::workflow(workflow, tenant_id, "no such tenant")),
            Err(error) => Err(Error::workflow(workflow, tenant_id, error)),
        }
    }

    async fn start_execution(&self, workflow: Workflow, tenant: &Tenant) -> Result<()> {
        self.starter
            .start(workflow, &tenant.tenant_id, tenant.version)
            .await
            .map(drop)
            .map_err(|error| Error::workflow(workflow.as_str(), &tenant.tenant_id, error))
    }
}

impl<T: TenantStore> Onboarding for StepFunctionsOnboarding<T> {
    async fn start(&self, tenant_id: &TenantId, _actor: &str) -> Result<()> {
        let tenant = self.tenant("onboarding", tenant_id).await?;
        self.start_execution(Workflow::Onboarding, &tenant).await
    }

    async fn offboard(&self, tenant_id: &TenantId, _actor: &str) -> Result<()> {
        let tenant = self.tenant("offboarding", tenant_id).await?;
        if tenant.status == Status::Offboarding {
            let running = self
                .starter
                .running(Workflow::Offboarding, tenant_id)
                .await
                .map_err(|error| Error::workflow("offboarding", tenant_id, error))?;
            if running.is_some() {
                return Ok(());
            }
        }
        self.start_execution(Workflow::Offboarding, &tenant).await
    }
}
