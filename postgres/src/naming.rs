//! SQL names and literals: every identifier derived from a tenant id is injective, at most 63
//! bytes and always double-quoted; every literal that cannot be a bind parameter is escaped.

use sha2::{Digest, Sha256};
use tally_schemas::TenantId;

/// PostgreSQL's identifier limit in bytes (`NAMEDATALEN - 1`); longer names are silently truncated
/// by the server, which could make two names equal.
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// The prefix of every database and role name derived from a tenant id.
pub const TENANT_IDENTIFIER_PREFIX: &str = "tenant_";

/// Hex digits of the SHA-256 of the tenant id appended to names that need one: 64 bits, so that
/// nobody can choose a second id that lands on an existing tenant's name.
const HASH_SUFFIX_HEX_DIGITS: usize = 16;

/// The longest part of the tenant id kept in a hashed name: `tenant_` + stem + `_` + 16 hex = 63.
const MAX_HASHED_STEM_BYTES: usize =
    MAX_IDENTIFIER_BYTES - TENANT_IDENTIFIER_PREFIX.len() - 1 - HASH_SUFFIX_HEX_DIGITS;

/// The database name (and owner role name) of a tenant: `tenant_<id>` when the id is already
/// lower case without `-` and short enough, `tenant_<lowercased id, - as _, cut>_<hash>` otherwise.
///
/// Two different tenant ids never get the same name: plain names are the id itself behind the
/// prefix, and are never shaped like a hashed name (an id that ends like a hash suffix is hashed
/// too), while two hashed names agree only if the SHA-256 of the two ids agree in 64 bits. The
/// result is at most [`MAX_IDENTIFIER_BYTES`] bytes of `[a-z0-9_]`, stable across releases
/// (changing it would orphan existing databases).
pub fn tenant_identifier(tenant: &TenantId) -> String {
    let id = tenant.as_str();
    let stem: String = id
        .chars()
        .map(|character| match character {
            '-' => '_',
            other => other.to_ascii_lowercase(),
        })
        .collect();
    let plain_fits = TENANT_IDENTIFIER_PREFIX.len() + stem.len() <= MAX_IDENTIFIER_BYTES;
    if stem == id && plain_fits && !ends_like_hash_suffix(id) {
        return format!("{TENANT_IDENTIFIER_PREFIX}{stem}");
    }
    // The stem is ASCII, so cutting at a byte index never splits a character.
    let kept = &stem[..stem.len().min(MAX_HASHED_STEM_BYTES)];
    format!("{TENANT_IDENTIFIER_PREFIX}{kept}_{}", hash_suffix(id))
}

/// Whether `id` ends with `_` and [`HASH_SUFFIX_HEX_DIGITS`] lower-case hex digits, the shape a
/// hashed name ends with.
fn ends_like_hash_suffix(id: &str) -> bool {
    let bytes = id.as_bytes();
    let Some(split) = bytes.len().checked_sub(HASH_SUFFIX_HEX_DIGITS + 1) else {
        return false;
    };
    bytes[split] == b'_'
        && bytes[split + 1..]
            .iter()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(byte))
}

/// The first [`HASH_SUFFIX_HEX_DIGITS`] hex digits of the SHA-256 of the id as given.
fn hash_suffix(id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    let mut hex = String::with_capacity(HASH_SUFFIX_HEX_DIGITS);
    for byte in digest.iter().take(HASH_SUFFIX_HEX_DIGITS / 2) {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

/// `name` as a double-quoted SQL identifier, embedded `"` doubled.
///
/// Quoting also keeps the case of the name, so the server sees exactly the bytes given.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as an SQL string literal in the `E'...'` form, with `\` and `'` doubled, which reads
/// the same whatever the server's `standard_conforming_strings`.
///
/// Only for the few places where the grammar takes no bind parameter (`CREATE ROLE ... PASSWORD`,
/// DDL). The caller makes sure `text` has no NUL, which no PostgreSQL text can hold.
pub fn quote_literal(text: &str) -> String {
    assert!(!text.contains('\0'), "an SQL literal cannot hold NUL");
    format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_of(id: &str) -> String {
        tenant_identifier(&TenantId::parse(id).unwrap())
    }

    fn is_hashed(name: &str) -> bool {
        ends_like_hash_suffix(name)
    }

    #[test]
    fn given_a_lower_case_id_when_named_then_the_name_is_the_prefixed_id() {
        assert_eq!(name_of("acme"), "tenant_acme");
        assert_eq!(name_of("tenant_123"), "tenant_tenant_123");
        assert_eq!(name_of("9lives"), "tenant_9lives");
    }

    #[test]
    fn given_ids_equal_up_to_case_or_dash_when_named_then_names_differ() {
        let groups = [
            ["Acme", "acme", "ACME", "aCme"],
            ["a-b", "a_b", "A-b", "A_B"],
            ["x-y-z", "x_y-z", "x-y_z", "x_y_z"],
        ];
        for group in groups {
            let names: std::collections::BTreeSet<String> =
                group.iter().map(|id| name_of(id)).collect();
            assert_eq!(names.len(), group.len(), "{group:?} gave {names:?}");
            for name in &names {
                assert!(name.starts_with("tenant_"));
            }
        }
        assert!(is_hashed(&name_of("Acme")) && name_of("Acme").starts_with("tenant_acme_"));
        assert!(is_hashed(&name_of("a-b")) && name_of("a-b").starts_with("tenant_a_b_"));
    }

    #[test]
    fn given_an_id_shaped_like_a_hashed_name_when_named_then_it_is_hashed_too() {
        // "acme_" + the suffix "Acme" gets: as a plain name it would equal the name of "Acme".
        let victim = name_of("Acme");
        let suffix = &victim[victim.len() - HASH_SUFFIX_HEX_DIGITS..];
        let imitation = format!("acme_{suffix}");
        assert_ne!(name_of(&imitation), victim);
        assert!(name_of(&imitation).starts_with(&format!("tenant_{imitation}_")));
        // An id of exactly 16 hex digits is plain: no hashed name is that short.
        assert_eq!(name_of("0123456789abcdef"), "tenant_0123456789abcdef");
    }

    #[test]
    fn given_long_ids_when_named_then_names_fit_in_63_bytes_and_stay_distinct() {
        let longest_plain = "a".repeat(MAX_IDENTIFIER_BYTES - TENANT_IDENTIFIER_PREFIX.len());
        assert_eq!(name_of(&longest_plain), format!("tenant_{longest_plain}"));
        let too_long = "a".repeat(longest_plain.len() + 1);
        let mut names = std::collections::BTreeSet::new();
        for id in [
            too_long.clone(),
            "a".repeat(64),
            format!("{}b", "a".repeat(63)),
            "A".repeat(64),
            format!("{}-", "a".repeat(63)),
            longest_plain.clone(),
        ] {
            let name = name_of(&id);
            assert!(name.len() <= MAX_IDENTIFIER_BYTES, "{name} is too long");
            assert!(names.insert(name), "{id} collided");
        }
        assert_eq!(name_of(&"a".repeat(64)).len(), MAX_IDENTIFIER_BYTES);
    }

    #[test]
    fn given_any_valid_id_when_named_then_the_name_is_safe_and_stable() {
        for id in ["A", "Robert-drop_table", "0", "z-", "Q_-_-"] {
            let name = name_of(id);
            assert!(name.len() <= MAX_IDENTIFIER_BYTES);
            assert!(
                name.bytes()
                    .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
            );
            assert_eq!(name, name_of(id), "naming must be deterministic");
        }
        // Pinned: a change here renames every premium tenant's database.
        assert_eq!(
            name_of("Acme"),
            format!("tenant_acme_{}", hash_suffix("Acme"))
        );
        assert_eq!(hash_suffix("Acme").len(), HASH_SUFFIX_HEX_DIGITS);
    }

    #[test]
    fn quoting_an_identifier_doubles_embedded_quotes() {
        assert_eq!(quote_identifier("tenant_acme"), "\"tenant_acme\"");
        assert_eq!(quote_identifier("Mixed Case"), "\"Mixed Case\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(
            quote_identifier("x\"; DROP TABLE tenants; --"),
            "\"x\"\"; DROP TABLE tenants; --\""
        );
        assert_eq!(quote_identifier(""), "\"\"");
    }

    #[test]
    fn quoting_a_literal_doubles_quotes_and_backslashes() {
        assert_eq!(quote_literal("secret"), "E'secret'");
        assert_eq!(quote_literal("it's"), "E'it''s'");
        assert_eq!(quote_literal("a\\'; --"), "E'a\\\\''; --'");
    }

    #[test]
    #[should_panic(expected = "NUL")]
    fn quoting_a_literal_with_nul_is_a_bug() {
        quote_literal("a\0b");
    }
}
