//! Admin API authentication: a request is admitted only with a bearer JWT signed (RS256) by a key
//! of the issuer's key set — a Cognito user pool's in AWS, the local signing key in the embedded
//! default — that is current, for the configured audience, and names the admin group.
//!
//! ```no_run
//! # async fn example() -> tally_auth::Result<()> {
//! use tally_auth::{AuthConfig, KeySet, Verifier};
//! let key_set = KeySet::fetch(&KeySet::cognito_jwks_url(None, "eu-west-1", "eu-west-1_abc")).await?;
//! let verifier = Verifier::new(key_set, AuthConfig::cognito("eu-west-1", "eu-west-1_abc", "client"))?;
//! let principal = verifier.verify(Some("Bearer eyJ..."), 1_790_000_000)?;
//! # let _ = principal; Ok(()) }
//! ```

#![warn(missing_docs)]

mod error;
mod fetch;
mod jose;
mod keys;
mod local;
mod verify;

pub use error::{AuthError, Result};
pub use fetch::{JWKS_FETCH_TIMEOUT, MAX_JWKS_BYTES};
pub use keys::{KeySet, MAX_KEY_SET_KEYS};
pub use local::{JWKS_FILE, LOCAL_AUDIENCE, LOCAL_ISSUER, LocalIssuer, SIGNING_KEY_FILE};
pub use verify::{AuthConfig, CLOCK_LEEWAY_SECS, MAX_TOKEN_BYTES, Principal, Verifier};

/// The group whose members may use the admin API: a Cognito group in AWS, a `cognito:groups`
/// entry of local tokens in the embedded default.
pub const ADMIN_GROUP: &str = "tally-admins";
