//! Each action the state machines ask for, run once through the control plane. Step Functions
//! retries an action after a transient failure, possibly after it took effect (a timeout after
//! the write), so every action is safe to repeat: a status move already made answers the tenant
//! as it is, and a step's ports find what an earlier attempt created.

use tally_schemas::TenantId;
use tally_tenancy::workflow::resources_of;
use tally_tenancy::{AuditLog, Clock, ControlPlane, Status, Step, Steps, Tenant, TenantStore};

use crate::error::{Error, Result};
use crate::request::{Action, FailureCause, Request, bounded, failure_reason};

/// Who the audit log names for every change the workflow makes.
pub const ACTOR: &str = "onboarding";
/// Runs `request`'s action once; the tenant as it is afterwards.
///
/// Fails as [`Error`] classifies: transient when trying again may help, permanent otherwise.
pub async fn run<T, L, P, C>(
    control: &ControlPlane<T, L, P, C>,
    request: &Request,
) -> Result<Tenant>
where
    T: TenantStore,
    L: AuditLog,
    P: Steps,
    C: Clock,
{
    let tenant_id = &request.tenant_id;
    match (request.action, request.step) {
        (Action::Begin, _) => {
            enter(control, tenant_id, Status::Provisioning, "onboarding.start").await
        }
        (Action::Apply, Some(step)) => match control.apply_step(tenant_id, step, ACTOR).await? {
            Ok(tenant) => Ok(tenant),
            Err(error) => Err(Error::from_step(step, error)),
        },
        (Action::Undo, Some(step)) => match control.undo_step(tenant_id, step, ACTOR).await? {
            Ok(tenant) => Ok(tenant),
            Err(error) => Err(Error::from_step(format!("undoing {step}"), error)),
        },
        (Action::Apply | Action::Undo, None) => Err(Error::permanent("no step to run")),
        (Action::Fail, _) => fail(control, tenant_id, request.error.as_ref()).await,
        (Action::Finish, _) => enter(control, tenant_id, Status::Active, "onboarding.finish").await,
        (Action::BeginOffboarding, _) => {
            enter(control, tenant_id, Status::Offboarding, "offboarding.start").await
        }
        (Action::Conclude, _) => conclude(control, tenant_id).await,
        (Action::FinishOffboarding, _) => {
            enter(control, tenant_id, Status::Offboarded, "offboarding.finish").await
        }
    }
}

/// Moves the tenant to `to`, unless it is there already (a repeat of this action).
async fn enter<T, L, P, C>(
    control: &ControlPlane<T, L, P, C>,
    tenant_id: &TenantId,
    to: Status,
    action: &str,
) -> Result<Tenant>
where
    T: TenantStore,
    L: AuditLog,
    P: Steps,
    C: Clock,
{
    let tenant = control.get(tenant_id).await?;
    if tenant.status == to {
        return Ok(tenant);
    }
    Ok(control.move_to(tenant_id, to, None, ACTOR, action).await?)
}

/// Records the caught failure: the tenant becomes `failed` with the reason, prefixed
/// `offboarding: ` during offboarding, and naming the steps whose resources compensation could
/// not remove (they stay recorded, for offboarding to remove). A tenant failed already keeps
/// its first reason.
async fn fail<T, L, P, C>(
    control: &ControlPlane<T, L, P, C>,
    tenant_id: &TenantId,
    failure: Option<&FailureCause>,
) -> Result<Tenant>
where
    T: TenantStore,
    L: AuditLog,
    P: Steps,
    C: Clock,
{
    let tenant = control.get(tenant_id).await?;
    let (prefix, action) = match tenant.status {
        Status::Failed => return Ok(tenant),
        Status::Offboarding => ("offboarding: ", "offboarding.fail"),
        _ => ("", "onboarding.fail"),
    };
    let mut reason = format!("{prefix}{}", failure_reason(failure));
    let left = left_over(&tenant);
    if tenant.status == Status::Provisioning && !left.is_empty() {
        reason.push_str(&format!(
            "; left for offboarding to remove: {}",
            left.join(", ")
        ));
    }
    let reason = Some(bounded(&reason));
    Ok(control
        .move_to(tenant_id, Status::Failed, reason, ACTOR, action)
        .await?)
}

/// The steps whose resources are still recorded on the tenant.
fn left_over(tenant: &Tenant) -> Vec<&'static str> {
    Step::compensation(&Step::ONBOARDING)
        .into_iter()
        .filter(|step| {
            tenant.resources.keys().any(|name| {
                resources_of(*step)
                    .iter()
                    .any(|prefix| name.starts_with(prefix))
            })
        })
        .map(Step::state_name)
        .collect()
}

/// Issues the final invoice and the goodbye email (each only once: the ports skip what the
/// tenant records already) and records them on the tenant.
async fn conclude<T, L, P, C>(
    control: &ControlPlane<T, L, P, C>,
    tenant_id: &TenantId,
) -> Result<Tenant>
where
    T: TenantStore,
    L: AuditLog,
    P: Steps,
    C: Clock,
{
    let tenant = control.get(tenant_id).await?;
    if tenant.status == Status::Offboarded {
        return Ok(tenant);
    }
    control
        .conclude_step(tenant_id, ACTOR)
        .await?
        .map_err(|error| Error::from_step("the final invoice or notice", error))
}
