//! Tests of bearer token verification: each refusal is asserted by its specific error.

use serde_json::{Value, json};

use super::*;
use crate::jose::base64url_encode;
use crate::local::tests::{issuer, other_issuer};

const NOW_UNIX_SECS: i64 = 1_790_000_000;

fn verifier() -> Verifier {
    Verifier::new(issuer().key_set(), AuthConfig::local()).unwrap()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn verify(token: &str) -> Result<Principal> {
    verifier().verify(Some(&bearer(token)), NOW_UNIX_SECS)
}

/// The claims of a valid local admin token, to be altered by each test.
fn admin_claims() -> Value {
    json!({
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "sub": "user-1",
        "cognito:username": "alice",
        "cognito:groups": ["readers", ADMIN_GROUP],
        "iat": NOW_UNIX_SECS - 10,
        "exp": NOW_UNIX_SECS + 3600,
    })
}

/// A token with `header` as its header, valid claims, and a signature by the test key.
fn token_with_header(header: Value) -> String {
    let signed = issuer().sign_claims(&admin_claims());
    let (_, rest) = signed.split_once('.').unwrap();
    format!("{}.{rest}", base64url_encode(header.to_string().as_bytes()))
}

fn assert_unauthorized(result: Result<Principal>) -> AuthError {
    let error = result.unwrap_err();
    assert_eq!(error.status(), 401, "{error}");
    error
}

#[test]
fn given_a_valid_admin_token_when_verified_then_the_principal_is_returned() {
    let principal = verify(&issuer().sign_claims(&admin_claims())).unwrap();
    assert_eq!(
        principal,
        Principal {
            subject: "user-1".to_string(),
            username: Some("alice".to_string()),
            groups: vec!["readers".to_string(), ADMIN_GROUP.to_string()],
        }
    );
}

#[test]
fn given_a_token_from_local_issuer_token_when_verified_then_accepted() {
    let token = issuer().token("operator", &[ADMIN_GROUP], 60, NOW_UNIX_SECS);
    let principal = verifier()
        .verify(Some(&format!("bEaReR {token}")), NOW_UNIX_SECS)
        .unwrap();
    assert_eq!(principal.subject, "operator");
    assert_eq!(principal.username, None);
}

#[test]
fn given_no_header_when_verified_then_missing_header_401() {
    let error = assert_unauthorized(verifier().verify(None, NOW_UNIX_SECS));
    assert!(matches!(error, AuthError::MissingHeader), "{error}");
}

#[test]
fn given_basic_or_bare_or_empty_credentials_when_verified_then_malformed_header_401() {
    let token = issuer().sign_claims(&admin_claims());
    for header in [
        "Basic dXNlcjpwYXNz".to_string(),
        token.clone(),
        "Bearer ".to_string(),
    ] {
        let error = assert_unauthorized(verifier().verify(Some(&header), NOW_UNIX_SECS));
        assert!(
            matches!(error, AuthError::MalformedHeader { .. }),
            "{header}: {error}"
        );
    }
    let error = assert_unauthorized(verifier().verify(Some(&format!("Bearer {token} x")), 0));
    assert!(
        matches!(error, AuthError::MalformedHeader { .. }),
        "{error}"
    );
}

#[test]
fn given_garbage_tokens_when_verified_then_malformed_token_401() {
    let token = issuer().sign_claims(&admin_claims());
    let parts: Vec<_> = token.split('.').collect();
    let bad_signature_encoding = format!("{}.{}.{}=", parts[0], parts[1], parts[2]);
    for garbage in [
        "garbage",
        "a.b",
        "a.b.c.d",
        "!!!.b.c",
        "e30.e30.e30",
        &bad_signature_encoding,
    ] {
        let error = assert_unauthorized(verify(garbage));
        assert!(
            matches!(error, AuthError::MalformedToken { .. }),
            "{garbage}: {error}"
        );
    }
}

#[test]
fn given_a_token_signed_by_another_key_with_our_kid_when_verified_then_bad_signature_401() {
    let foreign = other_issuer().sign_claims(&admin_claims());
    let (_, rest) = foreign.split_once('.').unwrap();
    let header = json!({ "alg": "RS256", "kid": issuer().kid() });
    let token = format!("{}.{rest}", base64url_encode(header.to_string().as_bytes()));
    let error = assert_unauthorized(verify(&token));
    assert!(matches!(error, AuthError::BadSignature { .. }), "{error}");
}

#[test]
fn given_a_token_whose_payload_was_altered_when_verified_then_bad_signature_401() {
    let token = issuer().sign_claims(&admin_claims());
    let parts: Vec<_> = token.split('.').collect();
    let mut claims = admin_claims();
    claims["sub"] = "mallory".into();
    let payload = base64url_encode(claims.to_string().as_bytes());
    let error = assert_unauthorized(verify(&format!("{}.{payload}.{}", parts[0], parts[2])));
    assert!(matches!(error, AuthError::BadSignature { .. }), "{error}");
}

#[test]
fn given_alg_none_when_verified_then_unsupported_algorithm_401() {
    let header = base64url_encode(
        json!({ "alg": "none", "kid": issuer().kid() })
            .to_string()
            .as_bytes(),
    );
    let payload = base64url_encode(admin_claims().to_string().as_bytes());
    for token in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        let error = assert_unauthorized(verify(&token));
        if token.ends_with('.') {
            assert!(
                matches!(error, AuthError::UnsupportedAlgorithm { .. }),
                "{error}"
            );
        } else {
            assert!(matches!(error, AuthError::MalformedToken { .. }), "{error}");
        }
    }
}

#[test]
fn given_hs256_keyed_with_the_public_key_when_verified_then_unsupported_algorithm_401() {
    use aws_lc_rs::hmac;
    // The classic confusion attack: an HMAC keyed with the public key as published (here the
    // JWKS modulus), hoping the verifier feeds "the key" to whatever `alg` the token names.
    let header = json!({ "alg": "HS256", "kid": issuer().kid(), "typ": "JWT" });
    let signing_input = format!(
        "{}.{}",
        base64url_encode(header.to_string().as_bytes()),
        base64url_encode(admin_claims().to_string().as_bytes())
    );
    let jwks: Value = serde_json::from_str(issuer().jwks_json()).unwrap();
    let public_key = jwks["keys"][0]["n"].as_str().unwrap().as_bytes().to_vec();
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, &public_key),
        signing_input.as_bytes(),
    );
    let error = assert_unauthorized(verify(&format!(
        "{signing_input}.{}",
        base64url_encode(tag.as_ref())
    )));
    assert!(
        matches!(&error, AuthError::UnsupportedAlgorithm { algorithm } if algorithm == "\"HS256\""),
        "{error}"
    );
}

#[test]
fn given_other_algorithms_when_verified_then_unsupported_algorithm_401() {
    for alg in ["RS512", "PS256", "ES256", "rs256", "EdDSA"] {
        let error = assert_unauthorized(verify(&token_with_header(
            json!({ "alg": alg, "kid": issuer().kid() }),
        )));
        assert!(
            matches!(error, AuthError::UnsupportedAlgorithm { .. }),
            "{alg}: {error}"
        );
    }
}

#[test]
fn given_an_unknown_or_missing_kid_when_verified_then_refused_401() {
    let error = assert_unauthorized(verify(&token_with_header(
        json!({ "alg": "RS256", "kid": "rotated-away" }),
    )));
    assert!(
        matches!(&error, AuthError::UnknownKey { kid } if kid == "\"rotated-away\""),
        "{error}"
    );
    let error = assert_unauthorized(verify(&token_with_header(json!({ "alg": "RS256" }))));
    assert!(matches!(error, AuthError::MalformedToken { .. }), "{error}");
}

#[test]
fn given_critical_header_extensions_when_verified_then_malformed_token_401() {
    let header = json!({ "alg": "RS256", "kid": issuer().kid(), "crit": ["b64"], "b64": false });
    let error = assert_unauthorized(verify(&token_with_header(header)));
    assert!(matches!(error, AuthError::MalformedToken { .. }), "{error}");
}

#[test]
fn given_a_token_expired_beyond_the_leeway_when_verified_then_expired_401() {
    let mut claims = admin_claims();
    claims["exp"] = (NOW_UNIX_SECS - CLOCK_LEEWAY_SECS).into();
    let error = assert_unauthorized(verify(&issuer().sign_claims(&claims)));
    assert!(
        matches!(error, AuthError::Expired { expires_at_unix_secs, .. } if expires_at_unix_secs == NOW_UNIX_SECS - CLOCK_LEEWAY_SECS),
        "{error}"
    );
}

#[test]
fn given_a_token_expired_within_the_leeway_when_verified_then_accepted() {
    let mut claims = admin_claims();
    claims["exp"] = (NOW_UNIX_SECS - CLOCK_LEEWAY_SECS + 1).into();
    verify(&issuer().sign_claims(&claims)).unwrap();
}

#[test]
fn given_no_exp_when_verified_then_malformed_token_401() {
    let mut claims = admin_claims();
    claims.as_object_mut().unwrap().remove("exp");
    let error = assert_unauthorized(verify(&issuer().sign_claims(&claims)));
    assert!(matches!(error, AuthError::MalformedToken { .. }), "{error}");
}

#[test]
fn given_nbf_or_iat_in_the_future_beyond_the_leeway_when_verified_then_not_yet_valid_401() {
    for claim in ["nbf", "iat"] {
        let mut claims = admin_claims();
        claims[claim] = (NOW_UNIX_SECS + CLOCK_LEEWAY_SECS + 1).into();
        let error = assert_unauthorized(verify(&issuer().sign_claims(&claims)));
        assert!(
            matches!(&error, AuthError::NotYetValid { claim: found, .. } if *found == claim),
            "{error}"
        );
        // WHEN it is only within the leeway THEN it is accepted
        claims[claim] = (NOW_UNIX_SECS + CLOCK_LEEWAY_SECS).into();
        verify(&issuer().sign_claims(&claims)).unwrap();
    }
}

#[test]
fn given_a_wrong_or_missing_issuer_when_verified_then_wrong_issuer_401() {
    let mut claims = admin_claims();
    claims["iss"] = "https://cognito-idp.us-east-1.amazonaws.com/other".into();
    let error = assert_unauthorized(verify(&issuer().sign_claims(&claims)));
    assert!(matches!(error, AuthError::WrongIssuer { .. }), "{error}");
    claims.as_object_mut().unwrap().remove("iss");
    let error = assert_unauthorized(verify(&issuer().sign_claims(&claims)));
    assert!(
        matches!(&error, AuthError::WrongIssuer { actual, .. } if actual == "none"),
        "{error}"
    );
}

#[test]
fn given_a_wrong_audience_when_verified_then_wrong_audience_401() {
    let mut claims = admin_claims();
    for audience in [json!("another-client"), json!(["a", "b"])] {
        claims["aud"] = audience.clone();
        let error = assert_unauthorized(verify(&issuer().sign_claims(&claims)));
        assert!(
            matches!(error, AuthError::WrongAudience { .. }),
            "{audience}: {error}"
        );
    }
    // A null `aud` counts as no `aud`.
    claims["aud"] = Value::Null;
    let error = assert_unauthorized(verify(&issuer().sign_claims(&claims)));
    assert!(
        matches!(&error, AuthError::WrongAudience { actual, .. } if actual == "none"),
        "{error}"
    );
    claims.as_object_mut().unwrap().remove("aud");
    let error = assert_unauthorized(verify(&issuer().sign_claims(&claims)));
    assert!(
        matches!(&error, AuthError::WrongAudience { actual, .. } if actual == "none"),
        "{error}"
    );
    claims["aud"] = json!(42);
    let error = assert_unauthorized(verify(&issuer().sign_claims(&claims)));
    assert!(matches!(error, AuthError::MalformedToken { .. }), "{error}");
}

#[test]
fn given_an_audience_array_containing_ours_when_verified_then_accepted() {
    let mut claims = admin_claims();
    claims["aud"] = json!(["other", LOCAL_AUDIENCE]);
    verify(&issuer().sign_claims(&claims)).unwrap();
}

#[test]
fn given_an_access_token_with_client_id_when_verified_then_accepted_with_its_username() {
    let mut claims = admin_claims();
    let object = claims.as_object_mut().unwrap();
    object.remove("aud");
    object.remove("cognito:username");
    object.insert("client_id".into(), LOCAL_AUDIENCE.into());
    object.insert("token_use".into(), "access".into());
    object.insert("username".into(), "alice".into());
    let principal = verify(&issuer().sign_claims(&claims)).unwrap();
    assert_eq!(principal.username.as_deref(), Some("alice"));
}

#[test]
fn given_client_id_outside_an_access_token_or_for_another_client_when_verified_then_wrong_audience_401()
 {
    let mut claims = admin_claims();
    let object = claims.as_object_mut().unwrap();
    object.remove("aud");
    object.insert("client_id".into(), LOCAL_AUDIENCE.into());
    object.insert("token_use".into(), "id".into());
    let error = assert_unauthorized(verify(&issuer().sign_claims(&claims)));
    assert!(matches!(error, AuthError::WrongAudience { .. }), "{error}");
    claims["token_use"] = "access".into();
    claims["client_id"] = "another-client".into();
    let error = assert_unauthorized(verify(&issuer().sign_claims(&claims)));
    assert!(matches!(error, AuthError::WrongAudience { .. }), "{error}");
}

#[test]
fn given_no_groups_or_another_group_when_verified_then_not_an_admin_403() {
    let mut claims = admin_claims();
    for groups in [
        None,
        Some(json!([])),
        Some(json!(["readers", "Tally-Admins"])),
    ] {
        match groups {
            Some(groups) => claims["cognito:groups"] = groups,
            None => drop(claims.as_object_mut().unwrap().remove("cognito:groups")),
        }
        let error = verify(&issuer().sign_claims(&claims)).unwrap_err();
        assert!(
            matches!(&error, AuthError::NotAnAdmin { subject, .. } if subject == "\"user-1\""),
            "{error}"
        );
        assert_eq!(error.status(), 403);
    }
}

#[test]
fn given_groups_that_are_not_a_string_array_when_verified_then_malformed_token_401() {
    let mut claims = admin_claims();
    claims["cognito:groups"] = ADMIN_GROUP.into();
    let error = assert_unauthorized(verify(&issuer().sign_claims(&claims)));
    assert!(matches!(error, AuthError::MalformedToken { .. }), "{error}");
}

#[test]
fn given_no_subject_when_verified_then_malformed_token_401() {
    let mut claims = admin_claims();
    claims.as_object_mut().unwrap().remove("sub");
    let error = assert_unauthorized(verify(&issuer().sign_claims(&claims)));
    assert!(matches!(error, AuthError::MalformedToken { .. }), "{error}");
}

#[test]
fn given_an_oversized_token_when_verified_then_token_too_large_401_before_parsing() {
    let mut claims = admin_claims();
    claims["padding"] = "x".repeat(MAX_TOKEN_BYTES).into();
    let token = issuer().sign_claims(&claims);
    let error = assert_unauthorized(verify(&token));
    assert!(
        matches!(
            error,
            AuthError::TokenTooLarge {
                max_bytes: MAX_TOKEN_BYTES,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn given_any_refusal_when_displayed_then_the_token_is_not_echoed() {
    let mut claims = admin_claims();
    claims["exp"] = (NOW_UNIX_SECS - 3600).into();
    let token = issuer().sign_claims(&claims);
    let signature = token.rsplit('.').next().unwrap();
    let error = verify(&token).unwrap_err();
    assert!(!error.to_string().contains(signature), "{error}");
    let long_kid = "k".repeat(4000);
    let error = verify(&token_with_header(
        json!({ "alg": "RS256", "kid": long_kid }),
    ))
    .unwrap_err();
    assert!(error.to_string().len() < 200, "{error}");
}

#[test]
fn given_an_empty_configuration_value_when_building_a_verifier_then_invalid_config() {
    let mut config = AuthConfig::local();
    config.admin_group = " ".to_string();
    let error = Verifier::new(issuer().key_set(), config).unwrap_err();
    assert!(matches!(error, AuthError::InvalidConfig { .. }), "{error}");
    assert_eq!(error.status(), 500);
}

#[test]
fn given_a_cognito_pool_when_configured_then_the_issuer_is_the_pool_url() {
    let config = AuthConfig::cognito("us-east-1", "us-east-1_abc", "client-1");
    assert_eq!(
        config.issuer,
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc"
    );
    assert_eq!(config.audience, "client-1");
    assert_eq!(config.admin_group, ADMIN_GROUP);
}
