//! The step ports bundled into what the workflow runs: each onboarding step is one port's
//! `apply`, each compensation its `undo`; `Notify` is an email.

use crate::model::Tenant;
use crate::ports::{Email, FinalInvoice, Mailer, Provision, Provisioned, StepError};
use crate::steps::Step;
use crate::workflow::Steps;

/// One adapter per step.
pub struct Provisioners<D, S, A, K, M, B> {
    /// CreateDatabase.
    pub database: D,
    /// ProvisionStorage.
    pub storage: S,
    /// ConfigureAuth.
    pub auth: A,
    /// DeployApp.
    pub app: K,
    /// Notify, and the goodbye at offboarding.
    pub mailer: M,
    /// The final invoice at offboarding.
    pub billing: B,
}

impl<D, S, A, K, M, B> Steps for Provisioners<D, S, A, K, M, B>
where
    D: Provision,
    S: Provision,
    A: Provision,
    K: Provision,
    M: Mailer,
    B: FinalInvoice,
{
    async fn apply(&self, step: Step, tenant: &Tenant) -> Result<Provisioned, StepError> {
        match step {
            Step::Validate => Ok(Provisioned::default()),
            Step::CreateDatabase => self.database.apply(tenant).await,
            Step::ProvisionStorage => self.storage.apply(tenant).await,
            Step::ConfigureAuth => self.auth.apply(tenant).await,
            Step::DeployApp => self.app.apply(tenant).await,
            Step::Notify => {
                // A retried Notify after a crash between sending and recording sends the email
                // again; a second welcome is the lesser harm than none.
                if let Some(id) = tenant.resources.get("welcome_email") {
                    return Ok(Provisioned::one("welcome_email", id.clone()));
                }
                let id = self.mailer.send(&welcome(tenant)).await?;
                Ok(Provisioned::one("welcome_email", id))
            }
        }
    }

    async fn undo(&self, step: Step, tenant: &Tenant) -> Result<(), StepError> {
        match step {
            Step::Validate | Step::Notify => Ok(()),
            Step::CreateDatabase => self.database.undo(tenant).await,
            Step::ProvisionStorage => self.storage.undo(tenant).await,
            Step::ConfigureAuth => self.auth.undo(tenant).await,
            Step::DeployApp => self.app.undo(tenant).await,
        }
    }

    async fn conclude(&self, tenant: &Tenant) -> Result<Provisioned, StepError> {
        let invoice = match tenant.resources.get("final_invoice") {
            Some(number) => number.clone(),
            None => self.billing.issue(tenant).await?,
        };
        let goodbye = match tenant.resources.get("goodbye_email") {
            Some(id) => id.clone(),
            None => self.mailer.send(&goodbye(tenant, &invoice)).await?,
        };
        Ok(Provisioned::one("final_invoice", invoice).with("goodbye_email", goodbye))
    }
}

/// The welcome email: what was set up and how to sign in.
pub fn welcome(tenant: &Tenant) -> Email {
    let mut body = format!(
        "Welcome to Tally, {name}.\n\nYour tenant {id} is ready ({tier} tier, {region}).\n",
        name = tenant.name,
        id = tenant.tenant_id,
        tier = tenant.tier,
        region = tenant.config.region,
    );
    for (name, value) in &tenant.resources {
        if name.starts_with("auth.") {
            body.push_str(&format!("{name}: {value}\n"));
        }
    }
    body.push_str("\nSend usage events with tenant_id set to your tenant id.\n");
    Email {
        to: tenant.admin_email.clone(),
        subject: format!("Welcome to Tally, {}", tenant.name),
        body,
    }
}

/// The goodbye email, naming the final invoice.
pub fn goodbye(tenant: &Tenant, invoice: &str) -> Email {
    Email {
        to: tenant.admin_email.clone(),
        subject: format!("Your Tally tenant {} is closed", tenant.tenant_id),
        body: format!(
            "Your tenant {id} has been offboarded and its resources removed.\n\
             Your final invoice is {invoice}.\n",
            id = tenant.tenant_id
        ),
    }
}
