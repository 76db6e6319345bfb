//! What the moto tests of this crate share: the emulator's address and SDK configuration, names
//! no other test uses, and a tenant to act on.

use std::collections::BTreeMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use aws_config::{BehaviorVersion, SdkConfig};
use tally_schemas::{TenantId, Timestamp};
use tally_tenancy::{Status, Tenant, TenantConfig, Tier};

pub const REGION: &str = "us-east-1";

/// The emulator's address, checked to be moto on loopback so nothing reaches real AWS.
pub fn endpoint() -> String {
    let endpoint = std::env::var("TALLY_TEST_AWS_ENDPOINT").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.0.0.1:"),
        "TALLY_TEST_AWS_ENDPOINT is not set to moto server on loopback: run scripts/test"
    );
    endpoint
}

/// The SDK configuration for the emulator.
pub async fn config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(aws_config::Region::new(REGION))
        .load()
        .await
}

/// `prefix` and a random suffix: a name no other test (or run) uses.
pub fn unique(prefix: &str) -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    format!("{prefix}{:012x}", hasher.finish() & 0xffff_ffff_ffff)
}

/// A pending tenant `id` of `tier`, as onboarding hands it to a step.
pub fn tenant(id: &str, tier: Tier) -> Tenant {
    let at = Timestamp::parse("2026-11-26T14:00:00Z").unwrap();
    Tenant {
        tenant_id: TenantId::parse(id).unwrap(),
        name: format!("Tenant {id}"),
        tier,
        isolation: tier.isolation(),
        status: Status::Pending,
        status_reason: None,
        admin_email: "admin@example.com".into(),
        plan: tier.as_str().into(),
        config: TenantConfig {
            region: REGION.into(),
            features: vec![],
        },
        quotas: BTreeMap::new(),
        resources: BTreeMap::new(),
        created_at: at,
        updated_at: at,
        version: 1,
    }
}
