//! Bearer token verification: a request is admitted only with an RS256 JWT signed by a key of the
//! key set, current (within [`CLOCK_LEEWAY_SECS`]), from the configured issuer, for the configured
//! audience, whose subject is in the admin group. Every refusal names the check that failed.

use serde::Deserialize;

use crate::jose::{Header, RS256, base64url_decode, quoted};
use crate::{ADMIN_GROUP, AuthError, KeySet, LOCAL_AUDIENCE, LOCAL_ISSUER, Result};

/// The longest bearer token accepted, in bytes; longer ones are refused before parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// The clock skew tolerated between the issuer and us when checking `exp`, `nbf` and `iat`.
pub const CLOCK_LEEWAY_SECS: i64 = 60;

/// What a token must say to be accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthConfig {
    /// The exact `iss`: `https://cognito-idp.{region}.amazonaws.com/{user_pool_id}` for Cognito.
    pub issuer: String,
    /// The `aud` of ID tokens, or the `client_id` of access tokens: the Cognito app client id.
    pub audience: String,
    /// The group (`cognito:groups`) the subject must be in.
    pub admin_group: String,
}

impl AuthConfig {
    /// The configuration for tokens of [`crate::LocalIssuer`], the embedded default.
    pub fn local() -> AuthConfig {
        AuthConfig {
            issuer: LOCAL_ISSUER.to_string(),
            audience: LOCAL_AUDIENCE.to_string(),
            admin_group: ADMIN_GROUP.to_string(),
        }
    }

    /// The configuration for a Cognito user pool and app client, with [`ADMIN_GROUP`].
    pub fn cognito(region: &str, user_pool_id: &str, app_client_id: &str) -> AuthConfig {
        AuthConfig {
            issuer: format!("https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"),
            audience: app_client_id.to_string(),
            admin_group: ADMIN_GROUP.to_string(),
        }
    }
}

/// Who made an admitted request; the control plane records it as "who" in its audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The `sub` claim: the user's stable id.
    pub subject: String,
    /// The sign-in name, from `cognito:username` (ID tokens) or `username` (access tokens).
    pub username: Option<String>,
    /// The `cognito:groups` claim.
    pub groups: Vec<String>,
}

/// Checks bearer tokens against one key set and one configuration.
#[derive(Clone, Debug)]
pub struct Verifier {
    key_set: KeySet,
    config: AuthConfig,
}

/// The claims we read; others are ignored. A claim given twice makes the token malformed.
#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Audience>,
    client_id: Option<String>,
    token_use: Option<String>,
    exp: Option<i64>,
    nbf: Option<i64>,
    iat: Option<i64>,
    #[serde(rename = "cognito:groups")]
    groups: Option<Vec<String>>,
    #[serde(rename = "cognito:username")]
    cognito_username: Option<String>,
    username: Option<String>,
}

/// `aud` is one string or an array of strings (RFC 7519 §4.1.3).
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Verifier {
    /// A verifier of tokens signed by `key_set` that must match `config`.
    ///
    /// Fails if the issuer, audience or admin group is empty: an empty value would match tokens
    /// that merely lack the claim's content.
    pub fn new(key_set: KeySet, config: AuthConfig) -> Result<Verifier> {
        let empty = |value: &str| value.trim().is_empty();
        let reason = if empty(&config.issuer) {
            "the issuer is empty"
        } else if empty(&config.audience) {
            "the audience is empty"
        } else if empty(&config.admin_group) {
            "the admin group is empty"
        } else {
            return Ok(Verifier { key_set, config });
        };
        Err(AuthError::InvalidConfig { reason })
    }

    /// The configuration tokens are checked against.
    pub fn config(&self) -> &AuthConfig {
        &self.config
    }

    /// Verifies the `Authorization` header of a request at `now_unix_secs` and returns who made
    /// it. Fails with the specific reason; [`AuthError::status`] gives 403 for a valid token of a
    /// non-admin and 401 for everything else.
    pub fn verify(
        &self,
        authorization_header: Option<&str>,
        now_unix_secs: i64,
    ) -> Result<Principal> {
        let token = bearer_token(authorization_header)?;
        let claims = self.verified_claims(token)?;
        check_times(&claims, now_unix_secs)?;
        self.check_issuer(&claims)?;
        self.check_audience(&claims)?;
        let Some(subject) = claims.sub.filter(|subject| !subject.is_empty()) else {
            let reason = "the token has no `sub` claim";
            return Err(AuthError::MalformedToken { reason });
        };
        let groups = claims.groups.unwrap_or_default();
        if !groups.contains(&self.config.admin_group) {
            return Err(AuthError::NotAnAdmin {
                subject: quoted(&subject),
                required_group: self.config.admin_group.clone(),
            });
        }
        Ok(Principal {
            subject,
            username: claims.cognito_username.or(claims.username),
            groups,
        })
    }

    /// Checks the header and signature of a compact JWS and returns its claims. The algorithm
    /// is compared with RS256 before any key is looked at, so no other algorithm can ever be
    /// used with a key of the set (algorithm confusion).
    fn verified_claims(&self, token: &str) -> Result<Claims> {
        let malformed = |reason| AuthError::MalformedToken { reason };
        let mut parts = token.split('.');
        let (Some(header_part), Some(payload_part), Some(signature_part), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("not three dot-separated parts"));
        };
        let header_json =
            base64url_decode(header_part).ok_or(malformed("the header is not base64url"))?;
        let header: Header = serde_json::from_slice(&header_json)
            .map_err(|_| malformed("the header is not a JSON object with a string `alg`"))?;
        if header.alg != RS256 {
            return Err(AuthError::UnsupportedAlgorithm {
                algorithm: quoted(&header.alg),
            });
        }
        if header.crit.is_some() {
            return Err(malformed(
                "the header lists critical extensions, which we do not support",
            ));
        }
        let kid = header.kid.ok_or(malformed("the header has no `kid`"))?;
        let key = self
            .key_set
            .get(&kid)
            .ok_or_else(|| AuthError::UnknownKey { kid: quoted(&kid) })?;
        let signature =
            base64url_decode(signature_part).ok_or(malformed("the signature is not base64url"))?;
        let signing_input_length = header_part.len() + 1 + payload_part.len();
        key.verify_sig(&token.as_bytes()[..signing_input_length], &signature)
            .map_err(|_| AuthError::BadSignature { kid: quoted(&kid) })?;
        let payload =
            base64url_decode(payload_part).ok_or(malformed("the payload is not base64url"))?;
        // serde_json's messages quote the offending value, which would echo the token.
        serde_json::from_slice(&payload)
            .map_err(|_| malformed("the payload is not a JSON object of the expected claim types"))
    }

    fn check_issuer(&self, claims: &Claims) -> Result<()> {
        if claims.iss.as_deref() == Some(self.config.issuer.as_str()) {
            return Ok(());
        }
        Err(AuthError::WrongIssuer {
            expected: self.config.issuer.clone(),
            actual: claims
                .iss
                .as_deref()
                .map_or_else(|| "none".to_string(), quoted),
        })
    }

    /// ID tokens name the app client in `aud`; Cognito access tokens have no `aud` and name it
    /// in `client_id`, with `token_use: "access"`. When `aud` is present it alone decides.
    fn check_audience(&self, claims: &Claims) -> Result<()> {
        let expected = self.config.audience.as_str();
        let (accepted, actual) = match (&claims.aud, &claims.client_id) {
            (Some(Audience::One(audience)), _) => (audience == expected, quoted(audience)),
            (Some(Audience::Many(audiences)), _) => (
                audiences.iter().any(|audience| audience == expected),
                quoted(&audiences.join(",")),
            ),
            (None, Some(client_id)) if claims.token_use.as_deref() == Some("access") => (
                client_id == expected,
                format!("client_id {}", quoted(client_id)),
            ),
            (None, Some(_)) => (false, "a client_id outside an access token".to_string()),
            (None, None) => (false, "none".to_string()),
        };
        if accepted {
            return Ok(());
        }
        Err(AuthError::WrongAudience {
            expected: expected.to_string(),
            actual,
        })
    }
}

/// The token of a `Bearer <token>` header (scheme case-insensitive), bounded in length.
fn bearer_token(authorization_header: Option<&str>) -> Result<&str> {
    let header = authorization_header.ok_or(AuthError::MissingHeader)?;
    let malformed = |reason| AuthError::MalformedHeader { reason };
    let (scheme, token) = header
        .trim()
        .split_once(' ')
        .ok_or(malformed("expected `Bearer <token>`"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(malformed("the scheme is not Bearer"));
    }
    let token = token.trim_start_matches(' ');
    if token.len() > MAX_TOKEN_BYTES {
        return Err(AuthError::TokenTooLarge {
            length_bytes: token.len(),
            max_bytes: MAX_TOKEN_BYTES,
        });
    }
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(malformed("expected one token after `Bearer`"));
    }
    Ok(token)
}

/// `exp` is required and must not have passed; `nbf` and `iat`, when present, must not lie in
/// the future; each with [`CLOCK_LEEWAY_SECS`] of tolerance.
fn check_times(claims: &Claims, now_unix_secs: i64) -> Result<()> {
    let expires_at_unix_secs = claims.exp.ok_or(AuthError::MalformedToken {
        reason: "the token has no `exp` claim",
    })?;
    if now_unix_secs >= expires_at_unix_secs.saturating_add(CLOCK_LEEWAY_SECS) {
        return Err(AuthError::Expired {
            expires_at_unix_secs,
            now_unix_secs,
            leeway_secs: CLOCK_LEEWAY_SECS,
        });
    }
    for (claim, value) in [("nbf", claims.nbf), ("iat", claims.iat)] {
        if let Some(valid_from_unix_secs) = value
            && valid_from_unix_secs > now_unix_secs.saturating_add(CLOCK_LEEWAY_SECS)
        {
            return Err(AuthError::NotYetValid {
                claim,
                valid_from_unix_secs,
                now_unix_secs,
                leeway_secs: CLOCK_LEEWAY_SECS,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
