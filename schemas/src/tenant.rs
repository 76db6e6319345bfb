//! Tenant ids: the one check every tenant id passes before it reaches a path, a key, a SQL
//! statement or a policy.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::limits::MAX_TENANT_ID_CHARS;

/// The tenant id rule as a regular expression, as published in the JSON Schema.
pub const TENANT_ID_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$";

/// A validated tenant id: 1–64 characters of `[A-Za-z0-9_-]`, starting with a letter or digit.
///
/// The only way to get one is [`TenantId::parse`], so a `TenantId` is always safe to put in an
/// object key or a file path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    /// Checks `text` against the tenant id rule.
    ///
    /// Fails with a sentence saying which part of the rule `text` breaks.
    pub fn parse(text: &str) -> Result<TenantId, InvalidTenantId> {
        check_tenant_id(text)?;
        Ok(TenantId(text.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl AsRef<str> for TenantId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for TenantId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        TenantId::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Why a text is not a tenant id.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidTenantId(pub &'static str);

fn check_tenant_id(text: &str) -> Result<(), InvalidTenantId> {
    let bytes = text.as_bytes();
    let Some(first) = bytes.first() else {
        return Err(InvalidTenantId("tenant_id is empty"));
    };
    if bytes.len() > MAX_TENANT_ID_CHARS {
        return Err(InvalidTenantId("tenant_id is longer than 64 characters"));
    }
    if !first.is_ascii_alphanumeric() {
        return Err(InvalidTenantId(
            "tenant_id must start with a letter or a digit",
        ));
    }
    if !bytes
        .iter()
        .all(|byte| byte.is_ascii_alphanumeric() || *byte == b'_' || *byte == b'-')
    {
        return Err(InvalidTenantId(
            "tenant_id may only contain letters, digits, '_' and '-'",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ids_of_the_documented_alphabet() {
        for id in ["tenant_123", "a", "9-lives", "A_b-C", &"x".repeat(64)] {
            assert_eq!(TenantId::parse(id).unwrap().as_str(), id);
        }
    }

    #[test]
    fn refuses_hostile_and_malformed_ids() {
        let long = "x".repeat(65);
        for id in [
            "", "../x", "_lead", "-lead", "a/b", "a b", "a'b", "a;DROP", "é", "a.b", &long, "a\0b",
            "tenant\n",
        ] {
            assert!(TenantId::parse(id).is_err(), "{id:?} was accepted");
        }
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<TenantId>("\"ok_1\"").is_ok());
        assert!(serde_json::from_str::<TenantId>("\"../etc\"").is_err());
    }
}
