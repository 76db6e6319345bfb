//! A key set: the RS256 public keys of one issuer by `kid`, parsed from a JWKS document (the
//! format Cognito serves at `/{user_pool_id}/.well-known/jwks.json`). Keys for other algorithms
//! or uses are skipped; a broken RSA signing key fails the whole set.

use std::collections::BTreeMap;
use std::fmt;

use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use serde::Deserialize;

use crate::jose::{RS256, base64url_decode, quoted};
use crate::{AuthError, Result};

/// At most this many signing keys in one key set (Cognito serves two).
pub const MAX_KEY_SET_KEYS: usize = 16;

/// The smallest RSA modulus accepted, in bytes (2048 bits).
const MIN_MODULUS_BYTES: usize = 256;
/// The largest RSA modulus accepted, in bytes (8192 bits).
const MAX_MODULUS_BYTES: usize = 1024;

/// The RS256 public keys of one issuer, by key id.
#[derive(Clone)]
pub struct KeySet {
    keys: BTreeMap<String, ParsedPublicKey>,
}

/// One entry of a JWKS document; members we do not use (`x5c`, `key_ops`, ...) are ignored.
#[derive(Deserialize)]
struct Jwk {
    kty: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    public_key_use: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

/// A JWKS document.
#[derive(Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

impl KeySet {
    /// Parses a JWKS document, keeping its RSA signing keys for RS256 that have a `kid`.
    ///
    /// Fails if the document is not a JWKS, if an RSA signing key is broken (bad base64, a
    /// modulus outside 2048–8192 bits, an invalid key), if two keys share a `kid`, if more than
    /// [`MAX_KEY_SET_KEYS`] keys remain, or if none does.
    pub fn from_jwks_json(jwks_json: &[u8]) -> Result<KeySet> {
        let document: JwkSet =
            serde_json::from_slice(jwks_json).map_err(|error| AuthError::InvalidKeySet {
                reason: format!("not a JWKS document: {error}"),
            })?;
        let mut keys = BTreeMap::new();
        for jwk in document.keys.iter().filter(|jwk| is_rs256_signing_key(jwk)) {
            let Some(kid) = &jwk.kid else {
                // Tokens must name their key, so a key without an id could never be used.
                continue;
            };
            let key = parse_rsa_key(kid, jwk)?;
            if keys.insert(kid.clone(), key).is_some() {
                return Err(invalid(format!("two keys have the id {}", quoted(kid))));
            }
        }
        if keys.is_empty() {
            return Err(invalid(
                "no RSA signing key for RS256 with a kid".to_string(),
            ));
        }
        if keys.len() > MAX_KEY_SET_KEYS {
            return Err(invalid(format!(
                "{} signing keys, more than the limit of {MAX_KEY_SET_KEYS}",
                keys.len()
            )));
        }
        Ok(KeySet { keys })
    }

    /// The key ids of the set, in order.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// The key with this id, ready to verify RS256 signatures.
    pub(crate) fn get(&self, kid: &str) -> Option<&ParsedPublicKey> {
        self.keys.get(kid)
    }

    /// The URL of a Cognito user pool's JWKS. `endpoint_url` is the emulator's address (what
    /// `AWS_ENDPOINT_URL` holds) or `None` for AWS itself.
    pub fn cognito_jwks_url(
        endpoint_url: Option<&str>,
        region: &str,
        user_pool_id: &str,
    ) -> String {
        match endpoint_url {
            Some(endpoint) => {
                format!(
                    "{}/{user_pool_id}/.well-known/jwks.json",
                    endpoint.trim_end_matches('/')
                )
            }
            None => format!(
                "https://cognito-idp.{region}.amazonaws.com/{user_pool_id}/.well-known/jwks.json"
            ),
        }
    }
}

impl fmt::Debug for KeySet {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("KeySet")
            .field("key_ids", &self.keys.keys())
            .finish()
    }
}

/// Whether a JWK is an RSA key usable for RS256 signatures; `use` and `alg` are optional in a
/// JWKS, but when present they bind the key to one purpose and one algorithm (RFC 8725 §3.1).
fn is_rs256_signing_key(jwk: &Jwk) -> bool {
    jwk.kty.as_deref() == Some("RSA")
        && jwk
            .public_key_use
            .as_deref()
            .is_none_or(|public_key_use| public_key_use == "sig")
        && jwk.alg.as_deref().is_none_or(|alg| alg == RS256)
}

/// Parses the modulus and exponent of an RSA JWK into a verification key.
fn parse_rsa_key(kid: &str, jwk: &Jwk) -> Result<ParsedPublicKey> {
    let component = |name: &str, value: &Option<String>| -> Result<Vec<u8>> {
        let bytes = value
            .as_deref()
            .and_then(base64url_decode)
            .ok_or_else(|| invalid(format!("key {}: `{name}` is not base64url", quoted(kid))))?;
        // Some encoders keep a leading zero byte; the key itself has none.
        let first_significant = bytes
            .iter()
            .position(|byte| *byte != 0)
            .unwrap_or(bytes.len());
        Ok(bytes[first_significant..].to_vec())
    };
    let modulus = component("n", &jwk.n)?;
    let exponent = component("e", &jwk.e)?;
    if !(MIN_MODULUS_BYTES..=MAX_MODULUS_BYTES).contains(&modulus.len()) {
        return Err(invalid(format!(
            "key {}: the modulus has {} bits; 2048 to 8192 are accepted",
            quoted(kid),
            modulus.len() * 8
        )));
    }
    RsaPublicKeyComponents {
        n: modulus,
        e: exponent,
    }
    .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
    .map_err(|rejected| invalid(format!("key {}: {rejected}", quoted(kid))))
}

fn invalid(reason: String) -> AuthError {
    AuthError::InvalidKeySet { reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::tests::issuer;

    fn key_json(kid: &str, kty: &str, alg: &str, public_key_use: &str) -> serde_json::Value {
        let jwks: serde_json::Value = serde_json::from_str(issuer().jwks_json()).unwrap();
        let mut key = jwks["keys"][0].clone();
        key["kid"] = kid.into();
        key["kty"] = kty.into();
        key["alg"] = alg.into();
        key["use"] = public_key_use.into();
        key
    }

    fn parse(keys: Vec<serde_json::Value>) -> Result<KeySet> {
        KeySet::from_jwks_json(serde_json::json!({ "keys": keys }).to_string().as_bytes())
    }

    #[test]
    fn given_keys_for_other_algorithms_and_uses_when_parsed_then_only_rs256_signing_keys_kept() {
        let key_set = parse(vec![
            key_json("a", "RSA", "RS256", "sig"),
            key_json("b", "RSA", "RS512", "sig"),
            key_json("c", "RSA", "RS256", "enc"),
            key_json("d", "EC", "ES256", "sig"),
        ])
        .unwrap();
        assert_eq!(key_set.key_ids().collect::<Vec<_>>(), ["a"]);
    }

    #[test]
    fn given_duplicate_or_no_usable_keys_when_parsed_then_invalid_key_set() {
        let duplicate = parse(vec![key_json("a", "RSA", "RS256", "sig"); 2]).unwrap_err();
        assert!(
            matches!(duplicate, AuthError::InvalidKeySet { .. }),
            "{duplicate}"
        );
        let none = parse(vec![key_json("d", "EC", "ES256", "sig")]).unwrap_err();
        assert!(matches!(none, AuthError::InvalidKeySet { .. }), "{none}");
        let not_jwks = KeySet::from_jwks_json(b"[]").unwrap_err();
        assert!(
            matches!(not_jwks, AuthError::InvalidKeySet { .. }),
            "{not_jwks}"
        );
    }

    #[test]
    fn given_a_short_modulus_when_parsed_then_invalid_key_set() {
        let mut key = key_json("a", "RSA", "RS256", "sig");
        key["n"] = crate::jose::base64url_encode(&[0xc5; 128]).into();
        let error = parse(vec![key]).unwrap_err();
        assert!(error.to_string().contains("1024 bits"), "{error}");
    }

    #[test]
    fn given_too_many_keys_when_parsed_then_invalid_key_set() {
        let keys = (0..=MAX_KEY_SET_KEYS)
            .map(|index| key_json(&format!("k{index}"), "RSA", "RS256", "sig"))
            .collect();
        let error = parse(keys).unwrap_err();
        assert!(error.to_string().contains("more than the limit"), "{error}");
    }

    #[test]
    fn given_aws_or_an_emulator_when_building_the_jwks_url_then_the_pool_path_is_used() {
        assert_eq!(
            KeySet::cognito_jwks_url(None, "eu-west-1", "eu-west-1_abc"),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json"
        );
        assert_eq!(
            KeySet::cognito_jwks_url(Some("http://127.0.0.1:5124/"), "us-east-1", "p"),
            "http://127.0.0.1:5124/p/.well-known/jwks.json"
        );
    }
}
