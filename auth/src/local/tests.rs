//! Tests of the local signing key, and the shared test keys of the crate.

use std::sync::OnceLock;

use super::*;
use crate::{AuthConfig, Verifier};

const NOW_UNIX_SECS: i64 = 1_790_000_000;

/// One in-memory issuer shared by the tests of the crate (RSA key generation is slow).
pub(crate) fn issuer() -> &'static LocalIssuer {
    static ISSUER: OnceLock<LocalIssuer> = OnceLock::new();
    ISSUER.get_or_init(|| LocalIssuer::generate().unwrap())
}

/// A second issuer with a different key, for signatures that must not verify.
pub(crate) fn other_issuer() -> &'static LocalIssuer {
    static ISSUER: OnceLock<LocalIssuer> = OnceLock::new();
    ISSUER.get_or_init(|| LocalIssuer::generate().unwrap())
}

fn local_verifier(key_set: KeySet) -> Verifier {
    Verifier::new(key_set, AuthConfig::local()).unwrap()
}

#[test]
fn given_an_empty_directory_when_loaded_twice_then_the_same_key_is_reused() {
    let dir = tempfile::tempdir().unwrap();
    let first = LocalIssuer::load_or_create(dir.path()).unwrap();
    let second = LocalIssuer::load_or_create(dir.path()).unwrap();
    assert_eq!(first.kid(), second.kid());
    assert_eq!(first.jwks_json(), second.jwks_json());

    // WHEN a token of the first instance is checked with the key set of the reloaded one
    // THEN it verifies, and the other way round.
    let token = first.token("alice", &[crate::ADMIN_GROUP], 300, NOW_UNIX_SECS);
    let principal = local_verifier(second.key_set())
        .verify(Some(&format!("Bearer {token}")), NOW_UNIX_SECS)
        .unwrap();
    assert_eq!(principal.subject, "alice");
    assert_eq!(principal.groups, [crate::ADMIN_GROUP]);
    let token = second.token("bob", &[crate::ADMIN_GROUP], 300, NOW_UNIX_SECS);
    local_verifier(first.key_set())
        .verify(Some(&format!("Bearer {token}")), NOW_UNIX_SECS)
        .unwrap();
}

#[test]
fn given_a_new_key_when_created_then_the_files_hold_it_and_no_temporary_file_remains() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = LocalIssuer::load_or_create(&dir.path().join("keys")).unwrap();
    let keys = dir.path().join("keys");
    let mut names: Vec<_> = fs::read_dir(&keys)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, [JWKS_FILE, SIGNING_KEY_FILE]);
    assert_eq!(
        fs::read_to_string(keys.join(JWKS_FILE)).unwrap(),
        issuer.jwks_json()
    );
    let key_set = KeySet::from_jwks_json(&fs::read(keys.join(JWKS_FILE)).unwrap()).unwrap();
    assert_eq!(key_set.key_ids().collect::<Vec<_>>(), [issuer.kid()]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(keys.join(SIGNING_KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn given_a_missing_or_altered_jwks_file_when_loaded_then_it_is_rewritten_from_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = LocalIssuer::load_or_create(dir.path()).unwrap();
    fs::write(dir.path().join(JWKS_FILE), "{\"keys\":[]}").unwrap();
    LocalIssuer::load_or_create(dir.path()).unwrap();
    assert_eq!(
        fs::read_to_string(dir.path().join(JWKS_FILE)).unwrap(),
        issuer.jwks_json()
    );
    fs::remove_file(dir.path().join(JWKS_FILE)).unwrap();
    LocalIssuer::load_or_create(dir.path()).unwrap();
    assert_eq!(
        fs::read_to_string(dir.path().join(JWKS_FILE)).unwrap(),
        issuer.jwks_json()
    );
}

#[test]
fn given_a_key_file_that_is_not_a_key_when_loaded_then_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(SIGNING_KEY_FILE), b"not a key").unwrap();
    let error = LocalIssuer::load_or_create(dir.path()).err().unwrap();
    assert!(
        matches!(error, AuthError::InvalidSigningKey { .. }),
        "{error}"
    );
    assert_eq!(error.status(), 500);
    assert_eq!(
        fs::read(dir.path().join(SIGNING_KEY_FILE)).unwrap(),
        b"not a key"
    );
}

#[test]
fn given_another_process_published_a_key_first_when_creating_then_its_key_is_adopted() {
    let dir = tempfile::tempdir().unwrap();
    let winner = LocalIssuer::load_or_create(dir.path()).unwrap();
    // WHEN this process generated its own key but finds the file taken at publication
    let adopted = LocalIssuer::create(&dir.path().join(SIGNING_KEY_FILE)).unwrap();
    // THEN it uses the published key, so both processes sign alike
    assert_eq!(adopted.kid(), winner.kid());
}

#[test]
fn given_a_key_when_its_kid_is_computed_then_it_is_the_rfc_7638_thumbprint() {
    let jwks: serde_json::Value = serde_json::from_str(issuer().jwks_json()).unwrap();
    let key = &jwks["keys"][0];
    let canonical = format!(
        r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
        key["e"].as_str().unwrap(),
        key["n"].as_str().unwrap()
    );
    let expected = base64url_encode(digest(&SHA256, canonical.as_bytes()).as_ref());
    assert_eq!(issuer().kid(), expected);
    assert_eq!(key["kid"], expected.as_str());
    assert_ne!(issuer().kid(), other_issuer().kid());
}

#[test]
fn given_an_issuer_when_debug_printed_then_only_the_key_id_shows() {
    let printed = format!("{:?}", issuer());
    assert_eq!(
        printed,
        format!("LocalIssuer {{ kid: {:?}, .. }}", issuer().kid())
    );
}
