//! The one error type of tally-auth: why a request was refused (401 or 403), or why a key set,
//! a signing key or the configuration could not be loaded (500).

use std::path::PathBuf;

/// The result type of this crate.
pub type Result<T, E = AuthError> = std::result::Result<T, E>;

/// Everything that can go wrong in this crate.
///
/// Messages say which check failed. They never contain the token; values read from a token
/// (`alg`, `kid`, `iss`, `aud`, `sub`) are quoted and cut to a bounded length.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The request carries no `Authorization` header.
    #[error("the request has no Authorization header")]
    MissingHeader,
    /// The `Authorization` header is not `Bearer <token>`.
    #[error("the Authorization header is malformed: {reason}")]
    MalformedHeader {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The token is longer than [`crate::MAX_TOKEN_BYTES`]; it was not parsed.
    #[error("the bearer token is {length_bytes} bytes long, more than the limit of {max_bytes}")]
    TokenTooLarge {
        /// The length of the token.
        length_bytes: usize,
        /// The limit.
        max_bytes: usize,
    },
    /// The token is not a well-formed compact JWS with the claims we need.
    #[error("the bearer token is malformed: {reason}")]
    MalformedToken {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The token's `alg` is not RS256.
    #[error("the token algorithm {algorithm} is not accepted: only RS256 is")]
    UnsupportedAlgorithm {
        /// The `alg` of the token header, quoted and bounded.
        algorithm: String,
    },
    /// The token's `kid` names no key of the key set.
    #[error("the token key id {kid} is not in the key set")]
    UnknownKey {
        /// The `kid` of the token header, quoted and bounded.
        kid: String,
    },
    /// The signature does not verify with the key the token names.
    #[error("the token signature does not verify with key {kid}")]
    BadSignature {
        /// The `kid` of the token header, quoted and bounded.
        kid: String,
    },
    /// The token's `exp` has passed, beyond the leeway.
    #[error(
        "the token expired at {expires_at_unix_secs} (now {now_unix_secs}, leeway {leeway_secs} s)"
    )]
    Expired {
        /// The `exp` claim.
        expires_at_unix_secs: i64,
        /// The time of the check.
        now_unix_secs: i64,
        /// The allowed clock skew.
        leeway_secs: i64,
    },
    /// The token's `nbf` or `iat` lies in the future, beyond the leeway.
    #[error(
        "the token is not valid before {claim} = {valid_from_unix_secs} \
         (now {now_unix_secs}, leeway {leeway_secs} s)"
    )]
    NotYetValid {
        /// `nbf` or `iat`.
        claim: &'static str,
        /// The value of that claim.
        valid_from_unix_secs: i64,
        /// The time of the check.
        now_unix_secs: i64,
        /// The allowed clock skew.
        leeway_secs: i64,
    },
    /// The token's `iss` is not the configured issuer.
    #[error("the token issuer {actual} is not the expected {expected:?}")]
    WrongIssuer {
        /// The configured issuer.
        expected: String,
        /// The `iss` claim, quoted and bounded, or `none`.
        actual: String,
    },
    /// Neither the token's `aud` nor (for an access token) its `client_id` is the audience.
    #[error("the token audience {actual} is not the expected {expected:?}")]
    WrongAudience {
        /// The configured audience.
        expected: String,
        /// What the token names instead, quoted and bounded.
        actual: String,
    },
    /// The token is valid, but its subject is not in the admin group.
    #[error("subject {subject} is not in the group {required_group:?}")]
    NotAnAdmin {
        /// The `sub` claim, quoted and bounded.
        subject: String,
        /// The configured admin group.
        required_group: String,
    },
    /// The verifier's configuration is unusable.
    #[error("invalid auth configuration: {reason}")]
    InvalidConfig {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A JWKS document holds no usable key, or a key that is broken.
    #[error("invalid key set: {reason}")]
    InvalidKeySet {
        /// What is wrong with it.
        reason: String,
    },
    /// Fetching a JWKS document over HTTP failed.
    #[error("fetching the key set from {url} failed: {reason}")]
    Fetch {
        /// The URL.
        url: String,
        /// What went wrong, with the chain of causes.
        reason: String,
    },
    /// Reading or writing a file of the local signing key failed.
    #[error("could not {action} {path}: {source}")]
    KeyFile {
        /// What was being done, e.g. "read".
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The local signing key file does not hold an acceptable RSA private key.
    #[error("{path} is not an RSA private key (2048 bits or more) in PKCS#8 DER")]
    InvalidSigningKey {
        /// The key file.
        path: PathBuf,
    },
    /// The crypto library failed an operation that should not fail (key generation).
    #[error("the crypto library failed to {operation}")]
    Crypto {
        /// The operation.
        operation: &'static str,
    },
}

impl AuthError {
    /// The HTTP status to answer with: 403 when a valid token lacks the admin group, 401 for
    /// every other refusal, 500 for the errors `Verifier::verify` never returns (configuration,
    /// key files, key sets), which are the server's fault rather than the caller's.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotAnAdmin { .. } => 403,
            Self::MissingHeader
            | Self::MalformedHeader { .. }
            | Self::TokenTooLarge { .. }
            | Self::MalformedToken { .. }
            | Self::UnsupportedAlgorithm { .. }
            | Self::UnknownKey { .. }
            | Self::BadSignature { .. }
            | Self::Expired { .. }
            | Self::NotYetValid { .. }
            | Self::WrongIssuer { .. }
            | Self::WrongAudience { .. } => 401,
            Self::InvalidConfig { .. }
            | Self::InvalidKeySet { .. }
            | Self::Fetch { .. }
            | Self::KeyFile { .. }
            | Self::InvalidSigningKey { .. }
            | Self::Crypto { .. } => 500,
        }
    }
}
