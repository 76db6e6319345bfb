//! The request headers the API reads besides the body's type: `Idempotency-Key` on create (a
//! repeat of the same body returns the same tenant), `If-Match` on update (optimistic
//! concurrency on the tenant's version, which every response carries as its `ETag`).

use sha2::{Digest, Sha256};

use crate::http::HttpRequest;
use crate::problem::Problem;

/// The longest `Idempotency-Key`, in characters.
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// The most entity tags one `If-Match` may list.
const MAX_IF_MATCH_TAGS: usize = 16;

/// The one value of header `name` (lowercase), if sent.
///
/// Fails with 400 when it was sent more than once: which one counts would be a guess.
pub fn single_header<'a>(request: &'a HttpRequest, name: &str) -> Result<Option<&'a str>, Problem> {
    let mut values = request.header_values(name);
    let first = values.next();
    if values.next().is_some() {
        return Err(Problem::invalid(
            name,
            format!("the {name} header was sent more than once"),
        ));
    }
    Ok(first)
}

/// The `Idempotency-Key`, if sent.
///
/// Fails with 400 unless it is 1–[`MAX_IDEMPOTENCY_KEY_CHARS`] visible ASCII characters.
pub fn idempotency_key(request: &HttpRequest) -> Result<Option<&str>, Problem> {
    let Some(key) = single_header(request, "idempotency-key")? else {
        return Ok(None);
    };
    let visible = key.bytes().all(|byte| byte.is_ascii_graphic());
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_CHARS || !visible {
        return Err(Problem::invalid(
            "Idempotency-Key",
            format!(
                "must be 1–{MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters (no spaces), \
                 e.g. a UUID"
            ),
        ));
    }
    Ok(Some(key))
}

/// The fingerprint an idempotency key is bound to: the hex SHA-256 of the body bytes as sent.
pub fn fingerprint(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The entity tag of a tenant version, as `ETag` carries it.
pub fn entity_tag(version: u64) -> String {
    format!("\"{version}\"")
}

/// What an `If-Match` header asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current version.
    Any,
    /// One of these versions.
    Versions(Vec<u64>),
}

impl IfMatch {
    /// Whether `version` satisfies the precondition.
    pub fn admits(&self, version: u64) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Versions(versions) => versions.contains(&version),
        }
    }
}

/// The `If-Match` precondition, if sent: `*` or a list of strong tags `"<version>"`. A weak tag
/// (`W/"3"`) never matches, as RFC 9110 requires strong comparison for `If-Match`.
///
/// Fails with 400 when a tag is not a quoted version or weak, or there are too many.
pub fn if_match(request: &HttpRequest) -> Result<Option<IfMatch>, Problem> {
    let Some(value) = single_header(request, "if-match")? else {
        return Ok(None);
    };
    if value.trim() == "*" {
        return Ok(Some(IfMatch::Any));
    }
    let tags: Vec<&str> = value.split(',').map(str::trim).collect();
    if tags.len() > MAX_IF_MATCH_TAGS {
        return Err(Problem::invalid(
            "If-Match",
            format!("at most {MAX_IF_MATCH_TAGS} entity tags"),
        ));
    }
    let mut versions = Vec::with_capacity(tags.len());
    for tag in tags {
        // A weak tag is well-formed but never matches under strong comparison.
        let (weak, tag) = match tag.strip_prefix("W/") {
            Some(strong_part) => (true, strong_part),
            None => (false, tag),
        };
        let version = tag
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            .and_then(|digits| digits.parse::<u64>().ok())
            .ok_or_else(|| {
                Problem::invalid(
                    "If-Match",
                    "must be * or the tenant's ETag, a version in double quotes such as \"3\"",
                )
            })?;
        if !weak {
            versions.push(version);
        }
    }
    Ok(Some(IfMatch::Versions(versions)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &str, value: &str) -> HttpRequest {
        HttpRequest::new("PATCH", "/admin/tenants/a").with_header(name, value)
    }

    #[test]
    fn given_bodies_when_fingerprinting_then_it_is_the_hex_sha256() {
        assert_eq!(
            fingerprint(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn given_keys_when_checking_then_only_visible_ascii_up_to_255_passes() {
        assert_eq!(
            idempotency_key(&with("idempotency-key", "k-1")).unwrap(),
            Some("k-1")
        );
        let long = "k".repeat(256);
        for bad in ["", "a b", "ключ", "a\tb", long.as_str()] {
            let problem = idempotency_key(&with("idempotency-key", bad)).unwrap_err();
            assert_eq!(problem.field.as_deref(), Some("Idempotency-Key"), "{bad:?}");
        }
        let twice = with("idempotency-key", "a").with_header("Idempotency-Key", "b");
        assert_eq!(idempotency_key(&twice).unwrap_err().status, 400);
    }

    #[test]
    fn given_if_match_values_when_parsing_then_versions_star_and_errors() {
        assert_eq!(
            if_match(&with("if-match", "\"3\"")).unwrap(),
            Some(IfMatch::Versions(vec![3]))
        );
        let either = if_match(&with("if-match", "\"3\", \"4\""))
            .unwrap()
            .unwrap();
        assert!(either.admits(4) && !either.admits(5));
        assert_eq!(
            if_match(&with("if-match", "*")).unwrap(),
            Some(IfMatch::Any)
        );
        let weak = if_match(&with("if-match", "W/\"3\"")).unwrap().unwrap();
        assert!(!weak.admits(3));
        for bad in ["3", "W/3", "\"x\"", ""] {
            assert_eq!(
                if_match(&with("if-match", bad)).unwrap_err().status,
                400,
                "{bad}"
            );
        }
    }
}
