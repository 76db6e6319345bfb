//! The adapters the onboarding workflow adds, against moto server on loopback (started by
//! scripts/test): the Step Functions starter starts one execution per request however often it
//! is repeated, the DeployApp manifests land outside every tenant prefix and go again on undo,
//! and the registry read pages through every tenant. Every test uses names of its own.

mod common;

use common::{config, tenant, unique};

use tally_control_aws::manifests::{NAMESPACE_RESOURCE, manifests_prefix, namespace_claim_key};
use tally_control_aws::step_functions::{Started, execution_name};
use tally_control_aws::{
    DynamoTenants, S3Manifests, StepFunctionsStarter, Workflow, create_table, s3_client,
};
use tally_schemas::TenantId;
use tally_tenancy::{Provision, TenantStore, Tier};

/// A state machine that does nothing: moto does not run Lambda tasks anyway.
const PASS_DEFINITION: &str = r#"{"StartAt":"Done","States":{"Done":{"Type":"Pass","End":true}}}"#;

async fn state_machine(sfn: &aws_sdk_sfn::Client, label: &str) -> String {
    let created = sfn
        .create_state_machine()
        .name(unique(label))
        .definition(PASS_DEFINITION)
        .role_arn("arn:aws:iam::123456789012:role/tally-test-states")
        .send()
        .await
        .unwrap();
    created.state_machine_arn().to_owned()
}

/// The names of the executions of a state machine.
async fn executions(sfn: &aws_sdk_sfn::Client, arn: &str) -> Vec<String> {
    let listed = sfn
        .list_executions()
        .state_machine_arn(arn)
        .send()
        .await
        .unwrap();
    listed
        .executions()
        .iter()
        .map(|execution| execution.name().to_owned())
        .collect()
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn a_repeated_start_starts_one_execution() {
    let config = config().await;
    let sfn = aws_sdk_sfn::Client::new(&config);
    let onboarding = state_machine(&sfn, "onboarding-").await;
    let offboarding = state_machine(&sfn, "offboarding-").await;
    let starter = StepFunctionsStarter::new(sfn.clone(), &onboarding, &offboarding);
    let acme = TenantId::parse(&unique("acme-")).unwrap();
    // WHEN onboarding is started at version 1
    let first = starter.start(Workflow::Onboarding, &acme, 1).await.unwrap();
    // THEN one execution runs, named after the tenant and version, with the tenant as input
    let Started::Running { execution_arn } = &first else {
        panic!("expected a running execution, got {first:?}");
    };
    let name = execution_name(Workflow::Onboarding, &acme, 1);
    assert_eq!(executions(&sfn, &onboarding).await, vec![name.clone()]);
    let described = sfn
        .describe_execution()
        .execution_arn(execution_arn)
        .send()
        .await
        .unwrap();
    let input: serde_json::Value = serde_json::from_str(described.input().unwrap()).unwrap();
    assert_eq!(input, serde_json::json!({ "tenant_id": acme.as_str() }));
    // WHEN the same request starts it again, THEN it finds the same execution
    let again = starter.start(Workflow::Onboarding, &acme, 1).await.unwrap();
    assert_eq!(again, first);
    assert_eq!(executions(&sfn, &onboarding).await.len(), 1);
    // WHEN that execution has ended and the request comes once more, THEN nothing starts
    sfn.stop_execution()
        .execution_arn(execution_arn)
        .send()
        .await
        .unwrap();
    let late = starter.start(Workflow::Onboarding, &acme, 1).await.unwrap();
    assert_eq!(late, Started::Existed);
    assert_eq!(executions(&sfn, &onboarding).await.len(), 1);
    // WHEN a later version (a new request) starts it, THEN that is a second execution
    starter.start(Workflow::Onboarding, &acme, 4).await.unwrap();
    assert_eq!(executions(&sfn, &onboarding).await.len(), 2);
    assert!(executions(&sfn, &offboarding).await.is_empty());
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn a_running_execution_is_found_by_tenant() {
    let config = config().await;
    let sfn = aws_sdk_sfn::Client::new(&config);
    let onboarding = state_machine(&sfn, "onboarding-").await;
    let offboarding = state_machine(&sfn, "offboarding-").await;
    let starter = StepFunctionsStarter::new(sfn.clone(), &onboarding, &offboarding);
    let acme = TenantId::parse(&unique("acme-")).unwrap();
    let longer = TenantId::parse(&format!("{acme}-v1")).unwrap();
    let started = starter
        .start(Workflow::Offboarding, &longer, 3)
        .await
        .unwrap();
    let Started::Running { execution_arn } = started else {
        panic!("expected a running execution");
    };
    // A tenant whose id the other extends has none; the other has its own, whatever the version.
    let found = starter.running(Workflow::Offboarding, &acme).await;
    assert_eq!(found.unwrap(), None);
    let found = starter.running(Workflow::Offboarding, &longer).await;
    assert_eq!(found.unwrap(), Some(execution_arn.clone()));
    let found = starter.running(Workflow::Onboarding, &longer).await;
    assert_eq!(found.unwrap(), None);
    // An ended execution is not running.
    sfn.stop_execution()
        .execution_arn(&execution_arn)
        .send()
        .await
        .unwrap();
    let found = starter.running(Workflow::Offboarding, &longer).await;
    assert_eq!(found.unwrap(), None);
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn a_missing_state_machine_is_an_error_naming_it() {
    let sfn = aws_sdk_sfn::Client::new(&config().await);
    let missing = "arn:aws:states:us-east-1:123456789012:stateMachine:tally-missing";
    let starter = StepFunctionsStarter::new(sfn, missing, missing);
    let acme = TenantId::parse("acme").unwrap();
    let error = starter
        .start(Workflow::Onboarding, &acme, 1)
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with(&format!("Step Functions StartExecution {missing}")),
        "{text}"
    );
}

async fn object_keys(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<String> {
    let listed = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    listed
        .contents()
        .iter()
        .filter_map(|object| object.key().map(str::to_owned))
        .collect()
}

async fn read_json(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> serde_json::Value {
    let object = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    let bytes = object.body.collect().await.unwrap().into_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn manifests_are_written_for_the_agent_and_removed_on_undo() {
    let config = config().await;
    let s3 = s3_client(&config);
    let bucket = unique("tally-manifests-");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let deploy = S3Manifests::new(s3.clone(), &bucket);
    let id = unique("acme_");
    let mut acme = tenant(&id, Tier::Premium);
    // WHEN applied (twice: a repeat finds its own claim)
    let provisioned = deploy.apply(&acme).await.unwrap();
    assert_eq!(deploy.apply(&acme).await.unwrap(), provisioned);
    // THEN the three manifests are under the platform prefix, the namespace labelled
    let prefix = manifests_prefix(&acme.tenant_id);
    assert!(prefix.starts_with("_platform/manifests/"));
    let keys = object_keys(&s3, &bucket, &prefix).await;
    assert_eq!(keys.len(), 3, "{keys:?}");
    let namespace = read_json(&s3, &bucket, &format!("{prefix}00-namespace.yaml")).await;
    assert_eq!(namespace["kind"], "Namespace");
    assert_eq!(namespace["metadata"]["labels"]["tally.dev/tenant"], id);
    assert_eq!(namespace["metadata"]["labels"]["tally.dev/tier"], "premium");
    let namespace_name = &provisioned.resources[NAMESPACE_RESOURCE];
    assert_eq!(namespace["metadata"]["name"], namespace_name.as_str());
    assert!(object_keys(&s3, &bucket, "tenants/").await.is_empty());
    // WHEN a tenant whose id differs only in case deploys, THEN it is refused for good
    let rival = tenant(&id.to_uppercase(), Tier::Standard);
    let refused = deploy.apply(&rival).await.unwrap_err();
    assert!(!refused.is_transient(), "{refused}");
    assert!(
        refused.to_string().contains("belongs to tenant"),
        "{refused}"
    );
    // and its undo leaves the owner's claim alone
    deploy.undo(&rival).await.unwrap();
    let claim = namespace_claim_key(namespace_name);
    assert_eq!(read_json(&s3, &bucket, &claim).await["tenant_id"], id);
    // WHEN undone (twice), THEN the manifests and the claim are gone
    acme.resources.extend(provisioned.resources);
    deploy.undo(&acme).await.unwrap();
    deploy.undo(&acme).await.unwrap();
    assert!(object_keys(&s3, &bucket, "_platform/").await.is_empty());
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn the_registry_read_pages_through_every_tenant() {
    let client = aws_sdk_dynamodb::Client::new(&config().await);
    let table = unique("tenants-");
    assert!(create_table(&client, &table).await.unwrap());
    let tenants = DynamoTenants::new(client, table);
    assert!(tenants.all().await.unwrap().is_empty());
    // Records of about 300 KB: four of them overflow a 1 MB Query page.
    let mut expected = Vec::new();
    for index in 0..5 {
        let mut record = tenant(&format!("t{index}"), Tier::Standard);
        record
            .resources
            .insert("padding".into(), "x".repeat(300_000));
        tenants.create(&record).await.unwrap();
        expected.push(record.tenant_id);
    }
    tenants
        .claim_idempotency_key("key", "fingerprint", &expected[0])
        .await
        .unwrap();
    let all = tenants.all().await.unwrap();
    let ids: Vec<_> = all.into_iter().map(|tenant| tenant.tenant_id).collect();
    assert_eq!(ids, expected, "every tenant once, in id order, and no key");
}
