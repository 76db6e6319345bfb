//! The names of a tenant's IAM and Cognito resources: derived from the tenant id alone, so that a
//! repeat or an undo finds what an earlier attempt created; distinct tenants never share a name.
//!
//! IAM names are at most 64 characters (roles; policies allow 128, and one rule serves both) and
//! unique *regardless of case*, while tenant ids are case-sensitive and up to 64 characters. So
//! a tenant id that is short enough and has no capital letter is used as it is
//! (`tally-tenant-acme`); any other is lower-cased, cut, and followed by `.` and 16 hex digits of
//! the SHA-256 of the id as given (`tally-tenant-acme.1f0c...`). A tenant id cannot hold `.`, so
//! the two forms never meet; two hashed names meet only if 64-bit hashes of distinct ids do.

use sha2::{Digest, Sha256};
use tally_schemas::TenantId;

/// The IAM path of every tenant policy and role, so an operator (or `ListPolicies`) can tell
/// them from the rest of the account.
pub const IAM_PATH: &str = "/tally/tenants/";
/// What every tenant policy and role name starts with.
pub const IAM_NAME_PREFIX: &str = "tally-tenant-";
/// The longest IAM role name.
pub const MAX_IAM_NAME_CHARS: usize = 64;
/// Hex digits of the id's SHA-256 in a hashed IAM name (64 bits).
const HASH_HEX_DIGITS: usize = 16;
/// The group of a premium tenant's admins, in its own user pool.
pub const ADMIN_GROUP: &str = "tally-admins";

/// The name of the tenant's IAM policy and role (see the module docs for the rule).
pub fn iam_name(tenant_id: &TenantId) -> String {
    let id = tenant_id.as_str();
    // One character is left free, so a plain name is always shorter than a hashed one of an id
    // that fills the limit; the separator keeps the forms apart anyway.
    let plain_fits = IAM_NAME_PREFIX.len() + id.len() < MAX_IAM_NAME_CHARS;
    if plain_fits && !id.bytes().any(|byte| byte.is_ascii_uppercase()) {
        return format!("{IAM_NAME_PREFIX}{id}");
    }
    let kept = MAX_IAM_NAME_CHARS - IAM_NAME_PREFIX.len() - 1 - HASH_HEX_DIGITS;
    // Tenant ids are ASCII, so cutting at a byte index never splits a character.
    let stem = id[..id.len().min(kept)].to_ascii_lowercase();
    let hash = sha256_hex(id.as_bytes());
    format!("{IAM_NAME_PREFIX}{stem}.{}", &hash[..HASH_HEX_DIGITS])
}

/// The name of a premium tenant's own user pool: `tally-{tenant_id}`.
pub fn user_pool_name(tenant_id: &TenantId) -> String {
    format!("tally-{tenant_id}")
}

/// The name of the tenant's app client: `tally-{tenant_id}`.
pub fn app_client_name(tenant_id: &TenantId) -> String {
    format!("tally-{tenant_id}")
}

/// The group of a standard tenant's users in the shared user pool: `tenant-{tenant_id}`.
pub fn tenant_group_name(tenant_id: &TenantId) -> String {
    format!("tenant-{tenant_id}")
}

/// The SHA-256 of `bytes` in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> TenantId {
        TenantId::parse(text).expect("a valid tenant id")
    }

    #[test]
    fn short_lower_case_ids_are_used_as_they_are() {
        assert_eq!(iam_name(&id("acme")), "tally-tenant-acme");
        let longest_plain = "a".repeat(MAX_IAM_NAME_CHARS - IAM_NAME_PREFIX.len() - 1);
        assert_eq!(
            iam_name(&id(&longest_plain)),
            format!("tally-tenant-{longest_plain}")
        );
    }

    #[test]
    fn ids_at_the_limit_get_names_that_fit() {
        // GIVEN two 64-character ids that differ only in their last character
        let first = format!("{}x", "t".repeat(63));
        let second = format!("{}y", "t".repeat(63));
        // THEN both names fit the role limit and differ
        let (first, second) = (iam_name(&id(&first)), iam_name(&id(&second)));
        assert_eq!(first.len(), MAX_IAM_NAME_CHARS);
        assert_eq!(second.len(), MAX_IAM_NAME_CHARS);
        assert_ne!(first, second);
        assert!(first.starts_with("tally-tenant-tttt"));
    }

    #[test]
    fn ids_differing_in_case_only_get_names_differing_regardless_of_case() {
        // GIVEN ids IAM would confuse (it compares names without case)
        let names = ["acme", "Acme", "ACME", "aCme"].map(|text| iam_name(&id(text)));
        // THEN no two names are equal even ignoring case
        for (index, name) in names.iter().enumerate() {
            for other in &names[index + 1..] {
                assert!(!name.eq_ignore_ascii_case(other), "{name} vs {other}");
            }
        }
        assert!(names.iter().all(|name| name.len() <= MAX_IAM_NAME_CHARS));
    }

    #[test]
    fn a_plain_id_shaped_like_a_hashed_name_cannot_take_it() {
        // GIVEN a long id and a short id spelled like the long id's hashed name
        let long = id(&"b".repeat(60));
        let hashed = iam_name(&long);
        let lookalike = hashed
            .strip_prefix(IAM_NAME_PREFIX)
            .expect("prefixed")
            .replace('.', "-");
        // THEN the short id's name differs (the separator is not a tenant id character)
        assert_ne!(iam_name(&id(&lookalike)), hashed);
    }

    #[test]
    fn names_are_deterministic_and_valid_iam_names() {
        let long = id(&format!("Z{}", "9_-".repeat(21)));
        assert_eq!(iam_name(&long), iam_name(&long));
        let valid = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
        assert!(iam_name(&long).chars().all(valid));
    }

    #[test]
    fn cognito_names_follow_the_tenant_id() {
        let tenant = id("acme");
        assert_eq!(user_pool_name(&tenant), "tally-acme");
        assert_eq!(app_client_name(&tenant), "tally-acme");
        assert_eq!(tenant_group_name(&tenant), "tenant-acme");
    }

    #[test]
    fn sha256_is_hex_of_the_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
