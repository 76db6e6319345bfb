//! The onboarding Lambda's handler: every Task of the onboarding and offboarding state machines
//! (`tally_tenancy::state_machine`) invokes it with `{"action", "step"?, "tenant_id",
//! "error"?}`; it runs that one action once through the control plane and answers
//! `{"tenant_id", "status"}`. Retries are the state machine's: a failure is `Tally.Transient`
//! (retried with backoff) or `Tally.Permanent` (caught at once, compensated).
//!
//! | action | does |
//! |---|---|
//! | `begin` | the tenant becomes `provisioning` |
//! | `apply` + `step` | runs the step once and records what it created |
//! | `undo` + `step` | undoes the step and forgets what it created |
//! | `fail` + `error` | the tenant becomes `failed`, the caught error's cause its reason |
//! | `finish` | the tenant becomes `active` |
//! | `begin_offboarding` | the tenant becomes `offboarding` |
//! | `conclude` | the final invoice and the goodbye email, recorded |
//! | `finish_offboarding` | the tenant becomes `offboarded` |
//!
//! Every action is safe to repeat (see [`actions`]). The handler prints one JSON log line per
//! invocation.

pub mod actions;
pub mod billing;
pub mod error;
pub mod request;

use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};
use tally_tenancy::{AuditLog, Clock, ControlPlane, Steps, TenantStore};

pub use actions::{ACTOR, run};
pub use error::{Error, Result};
pub use request::{Action, FailureCause, Request, Response};

/// Handles one invocation: checks the payload, runs its action, logs one line.
///
/// Fails with the action's error, whose type is the name the state machine matches.
pub async fn handle<T, L, P, C>(
    control: &ControlPlane<T, L, P, C>,
    event: LambdaEvent<Value>,
) -> Result<Response>
where
    T: TenantStore,
    L: AuditLog,
    P: Steps,
    C: Clock,
{
    let request = Request::from_payload(event.payload);
    let outcome = match &request {
        Ok(request) => run(control, request).await,
        Err(error) => Err(error.clone()),
    };
    println!(
        "{}",
        log_line(request.as_ref().ok(), &outcome, &event.context.request_id)
    );
    outcome.map(|tenant| Response {
        tenant_id: tenant.tenant_id.to_string(),
        status: tenant.status,
    })
}

/// The invocation's structured log line; only checked fields of the request appear in it.
fn log_line(
    request: Option<&Request>,
    outcome: &Result<tally_tenancy::Tenant>,
    aws_request_id: &str,
) -> Value {
    let mut line = json!({
        "message": "onboarding action",
        "aws_request_id": aws_request_id,
        "action": request.map(|request| request.action.as_str()),
        "step": request.and_then(|request| request.step).map(|step| step.as_str()),
        "tenant_id": request.map(|request| request.tenant_id.as_str()),
    });
    match outcome {
        Ok(tenant) => {
            line["level"] = json!("info");
            line["status"] = json!(tenant.status);
        }
        Err(error) => {
            line["level"] = json!(if error.is_transient() {
                "warn"
            } else {
                "error"
            });
            line["error_type"] = json!(error.error_type());
            line["error"] = json!(error.to_string());
        }
    }
    line
}
