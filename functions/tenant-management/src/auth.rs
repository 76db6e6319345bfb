//! Who is calling: every route needs a bearer token, checked by an [`Authenticate`] port before
//! any handler runs; the actor it returns is what the audit log records. A 401 carries
//! `WWW-Authenticate: Bearer` (RFC 6750), a 403 means a valid token without admin rights.

use tally_schemas::Timestamp;

use crate::problem::{Problem, log_error};

/// The `WWW-Authenticate` challenge of every 401.
pub const BEARER_CHALLENGE: &str = "Bearer realm=\"tally-admin\"";

/// The longest actor recorded in the audit log, in characters; longer ones are cut.
pub const MAX_ACTOR_CHARS: usize = 256;

/// Why a request was not admitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthFailure {
    /// 401 (no or bad credentials) or 403 (valid, but not allowed).
    pub status: u16,
    /// What failed, safe to show the caller (no token content beyond bounded claims).
    pub detail: String,
}

/// Checks a request's `Authorization` header and names the caller.
pub trait Authenticate: Send + Sync {
    /// The actor (the token's subject) when `authorization` admits the request at `now`.
    ///
    /// Fails with 401 when the header is missing or the token is not valid, 403 when the token
    /// is valid but its subject may not use the admin API.
    fn authenticate(
        &self,
        authorization: Option<&str>,
        now: Timestamp,
    ) -> Result<String, AuthFailure>;
}

/// Tokens checked by `tally-auth`: RS256 JWTs of the Cognito user pool (or the local signing
/// key), current, for the configured audience, in the admin group. The actor is the subject.
impl Authenticate for tally_auth::Verifier {
    fn authenticate(
        &self,
        authorization: Option<&str>,
        now: Timestamp,
    ) -> Result<String, AuthFailure> {
        let now_unix_secs = now.as_millis().div_euclid(1_000);
        match self.verify(authorization, now_unix_secs) {
            Ok(principal) => Ok(principal.subject),
            Err(error) => Err(AuthFailure {
                status: error.status(),
                detail: error.to_string(),
            }),
        }
    }
}

/// The problem answering an auth failure: 401 with the bearer challenge, 403, or for any other
/// status (a verifier that cannot work) a logged 500 that admits nothing.
pub fn refusal(failure: AuthFailure) -> Problem {
    match failure.status {
        401 => Problem::new(401, "unauthorized", failure.detail)
            .with_header("www-authenticate", BEARER_CHALLENGE),
        403 => Problem::new(403, "forbidden", failure.detail),
        status => {
            log_error(
                "authentication failed",
                &format!("status {status}"),
                &failure.detail,
            );
            Problem::new(
                500,
                "auth_failed",
                "the request could not be authenticated; try again",
            )
        }
    }
}

/// The actor as the audit log keeps it: at most [`MAX_ACTOR_CHARS`] characters, control
/// characters dropped.
pub fn audit_actor(actor: &str) -> String {
    actor
        .chars()
        .filter(|character| !character.is_control())
        .take(MAX_ACTOR_CHARS)
        .collect()
}
