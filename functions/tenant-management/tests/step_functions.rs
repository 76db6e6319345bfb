//! The Step Functions adapter of the `Onboarding` port against moto server on loopback (started
//! by scripts/test): a repeated request starts each workflow once, a repeated `DELETE` of a
//! tenant whose offboarding runs starts nothing, and an unknown tenant starts nothing.
#![cfg(feature = "aws")]

use aws_config::BehaviorVersion;
use serde_json::json;
use tally_control_aws::StepFunctionsStarter;
use tally_schemas::{MeterCatalog, TenantId, Timestamp};
use tally_tenancy::lifecycle::transition;
use tally_tenancy::memory::MemoryTenants;
use tally_tenancy::{NewTenant, Status, TenantStore};
use tenant_management::Onboarding;
use tenant_management::step_functions::StepFunctionsOnboarding;

const PASS_DEFINITION: &str = r#"{"StartAt":"Done","States":{"Done":{"Type":"Pass","End":true}}}"#;

async fn client() -> aws_sdk_sfn::Client {
    let endpoint = std::env::var("TALLY_TEST_AWS_ENDPOINT").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.0.0.1:"),
        "TALLY_TEST_AWS_ENDPOINT is not set to moto server on loopback: run scripts/test"
    );
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .load()
        .await;
    aws_sdk_sfn::Client::new(&config)
}

async fn state_machine(sfn: &aws_sdk_sfn::Client, name: String) -> String {
    let created = sfn
        .create_state_machine()
        .name(name)
        .definition(PASS_DEFINITION)
        .role_arn("arn:aws:iam::123456789012:role/tally-test-states")
        .send()
        .await
        .unwrap();
    created.state_machine_arn().to_owned()
}

async fn executions(sfn: &aws_sdk_sfn::Client, arn: &str) -> usize {
    let listed = sfn.list_executions().state_machine_arn(arn).send().await;
    listed.unwrap().executions().len()
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn repeated_requests_start_each_workflow_once() {
    let sfn = client().await;
    let run = {
        use std::hash::{BuildHasher, Hasher};
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
    };
    let onboarding = state_machine(&sfn, format!("tm-onboarding-{run}")).await;
    let offboarding = state_machine(&sfn, format!("tm-offboarding-{run}")).await;
    let tenants = MemoryTenants::default();
    let request: NewTenant = serde_json::from_value(json!({
        "tenant_id": "acme", "name": "Acme", "tier": "standard", "admin_email": "a@b.io"
    }))
    .unwrap();
    let now = Timestamp::parse("2026-11-26T14:00:00Z").unwrap();
    let tenant = request.into_tenant(&MeterCatalog::defaults(), now).unwrap();
    tenants.create(&tenant).await.unwrap();
    let port = StepFunctionsOnboarding {
        starter: StepFunctionsStarter::new(sfn.clone(), &onboarding, &offboarding),
        tenants: tenants.clone(),
    };
    let id = tenant.tenant_id.clone();
    // A create replayed before the workflow began: one execution.
    port.start(&id, "alice").await.unwrap();
    port.start(&id, "alice").await.unwrap();
    assert_eq!(executions(&sfn, &onboarding).await, 1);
    // A DELETE, then its repeat once the running workflow moved the tenant on: one.
    port.offboard(&id, "alice").await.unwrap();
    let offboarding_now = transition(&tenant, Status::Offboarding, None, now).unwrap();
    tenants.replace(&offboarding_now).await.unwrap();
    port.offboard(&id, "alice").await.unwrap();
    assert_eq!(executions(&sfn, &offboarding).await, 1);
    // An unknown tenant cannot be started.
    let nobody = TenantId::parse("nobody").unwrap();
    assert!(port.start(&nobody, "alice").await.is_err());
}
