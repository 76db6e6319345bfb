//! The one error type of the onboarding function: an action fails either in a way worth trying
//! again (`Tally.Transient`, which the state machine retries with backoff) or for good
//! (`Tally.Permanent`, which it catches at once and compensates). The error's type is what the
//! Lambda runtime reports as `errorType`, the name Step Functions matches.

use lambda_runtime::Diagnostic;
use tally_tenancy::StepError;
use tally_tenancy::state_machine::{PERMANENT_ERROR, TRANSIENT_ERROR};

/// Why an action failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Throttling, a timeout, a store that did not answer: the state machine tries again.
    #[error("{message}")]
    Transient {
        /// What failed, naming the step or store.
        message: String,
    },
    /// A refusal that trying again will not change: the state machine compensates.
    #[error("{message}")]
    Permanent {
        /// What failed, naming the step or store.
        message: String,
    },
}

impl Error {
    /// A transient failure.
    pub fn transient(message: impl Into<String>) -> Error {
        Error::Transient {
            message: message.into(),
        }
    }

    /// A permanent failure.
    pub fn permanent(message: impl Into<String>) -> Error {
        Error::Permanent {
            message: message.into(),
        }
    }

    /// Whether the state machine should try the action again.
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Transient { .. })
    }

    /// The error name Step Functions sees: [`TRANSIENT_ERROR`] or [`PERMANENT_ERROR`].
    pub fn error_type(&self) -> &'static str {
        if self.is_transient() {
            TRANSIENT_ERROR
        } else {
            PERMANENT_ERROR
        }
    }

    /// The failure of a step port, as `{what} failed: {error}` (what the tenant's
    /// `status_reason` says in the in-process workflow too), transient when the port says so.
    pub fn from_step(what: impl std::fmt::Display, error: StepError) -> Error {
        let message = format!("{what} failed: {error}");
        if error.is_transient() {
            Error::transient(message)
        } else {
            Error::permanent(message)
        }
    }
}

/// A control-plane failure: the tenants table or the audit log not answering is worth another
/// attempt (a store that refuses for good fails the few attempts the state machine makes);
/// a missing tenant, an invalid request or a lifecycle conflict is not.
impl From<tally_tenancy::Error> for Error {
    fn from(error: tally_tenancy::Error) -> Error {
        match error {
            tally_tenancy::Error::Store { .. } => Error::transient(error.to_string()),
            _ => Error::permanent(error.to_string()),
        }
    }
}

/// The error as the Lambda runtime reports it: `errorType` is the name the state machine's
/// `Retry` and `Catch` match.
impl From<Error> for Diagnostic {
    fn from(error: Error) -> Diagnostic {
        Diagnostic {
            error_type: error.error_type().to_owned(),
            error_message: error.to_string(),
        }
    }
}

/// The result of an action.
pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diagnostic_carries_the_state_machine_error_names() {
        let transient = Diagnostic::from(Error::from_step(
            "CreateDatabase",
            StepError::transient("PostgreSQL: connection refused"),
        ));
        assert_eq!(transient.error_type, "Tally.Transient");
        assert_eq!(
            transient.error_message,
            "CreateDatabase failed: PostgreSQL: connection refused"
        );
        let permanent = Diagnostic::from(Error::from(tally_tenancy::Error::conflict("moved on")));
        assert_eq!(permanent.error_type, "Tally.Permanent");
        let store = Error::from(tally_tenancy::Error::store("DynamoDB GetItem", "timeout"));
        assert!(store.is_transient());
    }
}
