//! The function's contract with the state machines (`tally_tenancy::state_machine`): the payload
//! of every Task, checked before anything runs, and the response. A payload the definitions
//! would never send is refused for good, naming what is wrong.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tally_schemas::TenantId;
use tally_tenancy::{Status, Step};

use crate::error::{Error, Result};

/// The longest failure reason kept on a tenant, in characters; longer causes are cut.
pub const MAX_REASON_CHARS: usize = 1_000;

/// What the state machine asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Onboarding's first state: the tenant becomes `provisioning`.
    Begin,
    /// One onboarding step, once.
    Apply,
    /// One step's compensation, once (onboarding's undo chain, and offboarding).
    Undo,
    /// The failure is recorded on the tenant: `failed`, with the reason from `error`.
    Fail,
    /// Onboarding's last state: the tenant becomes `active`.
    Finish,
    /// Offboarding's first state: the tenant becomes `offboarding`.
    BeginOffboarding,
    /// The final invoice and the goodbye email, recorded on the tenant.
    Conclude,
    /// Offboarding's last state: the tenant becomes `offboarded`.
    FinishOffboarding,
}

impl Action {
    /// The action's name in payloads and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Begin => "begin",
            Action::Apply => "apply",
            Action::Undo => "undo",
            Action::Fail => "fail",
            Action::Finish => "finish",
            Action::BeginOffboarding => "begin_offboarding",
            Action::Conclude => "conclude",
            Action::FinishOffboarding => "finish_offboarding",
        }
    }
}

/// The error object Step Functions puts at `$.error` when it catches a failure.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureCause {
    /// The error name: `Tally.Permanent`, `States.Timeout`, `Lambda.Unknown`, ...
    #[serde(rename = "Error", default)]
    pub error: Option<String>,
    /// For a Lambda error, the function's error response as JSON text
    /// (`{"errorType": ..., "errorMessage": ...}`); otherwise free text.
    #[serde(rename = "Cause", default)]
    pub cause: Option<String>,
}

/// The payload as the state machine writes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    action: Action,
    #[serde(default)]
    step: Option<Step>,
    tenant_id: String,
    #[serde(default)]
    error: Option<FailureCause>,
}

/// One invocation's request, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// What to do.
    pub action: Action,
    /// The step of `apply` and `undo`.
    pub step: Option<Step>,
    /// The tenant.
    pub tenant_id: TenantId,
    /// The caught error of `fail`.
    pub error: Option<FailureCause>,
}

impl Request {
    /// The request in `payload`.
    ///
    /// Fails for good when the payload is not `{action, step?, tenant_id, error?}`, the tenant
    /// id is not one, or `step` is missing from `apply`/`undo` or given to another action.
    pub fn from_payload(payload: Value) -> Result<Request> {
        let payload: Payload = serde_json::from_value(payload)
            .map_err(|error| Error::permanent(format!("the payload is not a request: {error}")))?;
        let tenant_id = TenantId::parse(&payload.tenant_id)
            .map_err(|error| Error::permanent(format!("tenant_id: {error}")))?;
        let needs_step = matches!(payload.action, Action::Apply | Action::Undo);
        if needs_step != payload.step.is_some() {
            let rule = if needs_step { "needs" } else { "takes no" };
            return Err(Error::permanent(format!(
                "action {} {rule} step",
                payload.action.as_str()
            )));
        }
        Ok(Request {
            action: payload.action,
            step: payload.step,
            tenant_id,
            error: payload.error,
        })
    }
}

/// What every action answers: the tenant and its status afterwards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// The tenant.
    pub tenant_id: String,
    /// Its status after the action.
    pub status: Status,
}

/// The reason a caught failure gives, for a person: our own errors' messages as they are
/// (they name the step: `CreateDatabase failed: ...`), any other error as `{name}: {cause}`;
/// at most [`MAX_REASON_CHARS`] characters, control characters made spaces.
pub fn failure_reason(failure: Option<&FailureCause>) -> String {
    let Some(failure) = failure else {
        return "the workflow failed without saying why".to_owned();
    };
    // A Lambda error's cause is the function's error response; other causes are plain text.
    let message = failure.cause.as_deref().map(|cause| {
        serde_json::from_str::<Value>(cause)
            .ok()
            .and_then(|response| response["errorMessage"].as_str().map(str::to_owned))
            .unwrap_or_else(|| cause.to_owned())
    });
    let reason = match (failure.error.as_deref(), message) {
        (Some(name), Some(message)) if name.starts_with("Tally.") => message,
        (Some(name), Some(message)) => format!("{name}: {message}"),
        (Some(name), None) => name.to_owned(),
        (None, Some(message)) => message,
        (None, None) => "the workflow failed without saying why".to_owned(),
    };
    bounded(&reason)
}

/// `text` with control characters made spaces, cut to [`MAX_REASON_CHARS`] characters.
pub fn bounded(text: &str) -> String {
    let clean = |character: char| {
        if character.is_control() {
            ' '
        } else {
            character
        }
    };
    if text.chars().count() <= MAX_REASON_CHARS {
        return text.chars().map(clean).collect();
    }
    let mut cut: String = text.chars().take(MAX_REASON_CHARS - 1).map(clean).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_payload_the_definitions_send_is_a_request() {
        let definitions = [
            tally_tenancy::state_machine::onboarding(),
            tally_tenancy::state_machine::offboarding(),
        ];
        for definition in definitions {
            for (state, body) in definition["States"].as_object().unwrap() {
                let Some(payload) = body["Parameters"]["Payload"].as_object() else {
                    continue;
                };
                // As Step Functions fills it in: `"x.$": "$.x"` becomes `"x": <input's x>`.
                let mut filled = serde_json::Map::new();
                for (name, value) in payload {
                    match name.strip_suffix(".$") {
                        Some("tenant_id") => filled.insert("tenant_id".into(), json!("acme")),
                        Some(other) => filled.insert(other.into(), json!({"Error": "x"})),
                        None => filled.insert(name.clone(), value.clone()),
                    };
                }
                let request = Request::from_payload(Value::Object(filled));
                assert!(request.is_ok(), "{state}: {request:?}");
            }
        }
    }

    #[test]
    fn malformed_payloads_are_refused_for_good() {
        for payload in [
            json!({"action": "apply", "tenant_id": "acme"}),
            json!({"action": "begin", "step": "notify", "tenant_id": "acme"}),
            json!({"action": "dance", "tenant_id": "acme"}),
            json!({"action": "begin", "tenant_id": "../etc"}),
            json!({"action": "begin", "tenant_id": "acme", "extra": 1}),
        ] {
            let error = Request::from_payload(payload.clone()).unwrap_err();
            assert!(!error.is_transient(), "{payload}");
        }
    }

    #[test]
    fn a_lambda_error_gives_its_message_and_others_their_name() {
        let ours = FailureCause {
            error: Some("Tally.Permanent".into()),
            cause: Some(
                json!({"errorType": "Tally.Permanent", "errorMessage": "Notify failed: no"})
                    .to_string(),
            ),
        };
        assert_eq!(failure_reason(Some(&ours)), "Notify failed: no");
        let timeout = FailureCause {
            error: Some("States.Timeout".into()),
            cause: None,
        };
        assert_eq!(failure_reason(Some(&timeout)), "States.Timeout");
        let crashed = FailureCause {
            error: Some("Lambda.Unknown".into()),
            cause: Some("The function ran out of memory\n".into()),
        };
        assert_eq!(
            failure_reason(Some(&crashed)),
            "Lambda.Unknown: The function ran out of memory "
        );
        assert!(failure_reason(None).contains("without saying why"));
    }

    #[test]
    fn long_causes_are_cut() {
        let long = FailureCause {
            error: Some("Tally.Permanent".into()),
            cause: Some("é".repeat(5 * MAX_REASON_CHARS)),
        };
        let reason = failure_reason(Some(&long));
        assert_eq!(reason.chars().count(), MAX_REASON_CHARS);
        assert!(reason.ends_with('…'));
    }
}
