//! The control plane's AWS adapters against moto server on loopback (started by scripts/test):
//! the tenants table keeps the TenantStore contract, the audit log reads back in order, and the
//! storage, auth and email steps create, find again and remove what they should. Every test uses
//! names of its own, so the tests run in parallel on one server.

mod common;

use common::{config, endpoint, tenant, unique};

use std::collections::BTreeMap;
use std::io::{Read, Write};

use aws_config::SdkConfig;
use serde_json::Value;
use tally_control_aws::names::{IAM_PATH, MAX_IAM_NAME_CHARS, iam_name};
use tally_control_aws::storage::{POLICY_RESOURCE, ROLE_RESOURCE};
use tally_control_aws::{
    CognitoAuth, DynamoTenants, S3AuditLog, S3Storage, Secrets, SesMailer, create_table, s3_client,
};
use tally_schemas::{TenantId, Timestamp};
use tally_tenancy::{
    AuditEntry, AuditLog, Email, Error, IdempotencyClaim, Mailer, Provision, Tenant, TenantStore,
    Tier,
};

/// `tenant` as a later write makes it: one version on, one field changed.
fn changed(tenant: &Tenant) -> Tenant {
    let mut next = tenant.clone();
    next.name.push('!');
    next.version += 1;
    next
}

async fn fresh_tenants(config: &SdkConfig) -> DynamoTenants {
    let client = aws_sdk_dynamodb::Client::new(config);
    let table = unique("tenants-");
    assert!(create_table(&client, &table).await.unwrap());
    DynamoTenants::new(client, table)
}

async fn fresh_bucket(config: &SdkConfig) -> String {
    let bucket = unique("tally-test-");
    s3_client(config)
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    bucket
}

// ---------------------------------------------------------------------------------------------
// The tenants table
// ---------------------------------------------------------------------------------------------

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn tenants_are_created_once_and_read_back_whole() {
    let tenants = fresh_tenants(&config().await).await;
    let mut acme = tenant(&unique("acme-"), Tier::Premium);
    acme.quotas
        .insert("api_calls".into(), "1000.5".parse().unwrap());
    acme.resources
        .insert("database".into(), "tenant_acme".into());
    // WHEN it is created, THEN it reads back equal
    tenants.create(&acme).await.unwrap();
    assert_eq!(
        tenants.get(&acme.tenant_id).await.unwrap(),
        Some(acme.clone())
    );
    // WHEN it is created again, THEN that is a conflict and the first record stays
    let mut other = acme.clone();
    other.name = "Impostor".into();
    let error = tenants.create(&other).await.unwrap_err();
    assert!(matches!(error, Error::Conflict { .. }), "{error}");
    assert_eq!(
        tenants.get(&acme.tenant_id).await.unwrap(),
        Some(acme.clone())
    );
    // AND an unknown id is absent
    let unknown = TenantId::parse(&unique("nobody-")).unwrap();
    assert_eq!(tenants.get(&unknown).await.unwrap(), None);
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn replace_needs_the_version_it_read() {
    let tenants = fresh_tenants(&config().await).await;
    let first = tenant(&unique("acme-"), Tier::Standard);
    tenants.create(&first).await.unwrap();
    // GIVEN a write from version 1 to 2
    let second = changed(&first);
    tenants.replace(&second).await.unwrap();
    assert_eq!(
        tenants.get(&first.tenant_id).await.unwrap(),
        Some(second.clone())
    );
    // WHEN another writer that also read version 1 writes
    let mut stale = changed(&first);
    stale.name = "stale".into();
    let error = tenants.replace(&stale).await.unwrap_err();
    // THEN it conflicts and the stored record is the first writer's
    assert!(matches!(error, Error::Conflict { .. }), "{error}");
    assert!(error.to_string().contains("version 2"), "{error}");
    assert_eq!(
        tenants.get(&first.tenant_id).await.unwrap(),
        Some(second.clone())
    );
    // AND the next version goes on from 2
    tenants.replace(&changed(&second)).await.unwrap();
    // AND replacing a tenant that does not exist is not-found
    let ghost = changed(&tenant(&unique("ghost-"), Tier::Standard));
    let error = tenants.replace(&ghost).await.unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error}");
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn list_pages_through_tenants_in_id_order() {
    let tenants = fresh_tenants(&config().await).await;
    let ids = ["m", "B", "a", "z9", "a-1", "0", "Zed"];
    for id in ids {
        tenants.create(&tenant(id, Tier::Standard)).await.unwrap();
    }
    let mut expected: Vec<&str> = ids.to_vec();
    expected.sort_unstable();
    // WHEN listed three at a time, each page after the last id of the one before
    let mut seen = Vec::new();
    let mut after: Option<TenantId> = None;
    loop {
        let page = tenants.list(after.as_ref(), 3).await.unwrap();
        assert!(page.len() <= 3);
        if page.is_empty() {
            break;
        }
        after = page.last().map(|tenant| tenant.tenant_id.clone());
        seen.extend(page.into_iter().map(|tenant| tenant.tenant_id.to_string()));
    }
    // THEN every tenant comes once, in id order
    assert_eq!(seen, expected);
    let all = tenants.list(None, 100).await.unwrap();
    assert_eq!(all.len(), ids.len());
    assert!(tenants.list(None, 0).await.unwrap().is_empty());
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn an_idempotency_key_binds_once_then_replays() {
    let tenants = fresh_tenants(&config().await).await;
    let acme = TenantId::parse("acme").unwrap();
    let other = TenantId::parse("other").unwrap();
    // Client text: slashes, spaces, quotes, non-ASCII; never a key as it is.
    let key = "client/42 \"retry\" — ключ";
    let claim = tenants
        .claim_idempotency_key(key, "fp-1", &acme)
        .await
        .unwrap();
    assert_eq!(claim, IdempotencyClaim::Claimed);
    // WHEN the key comes again, with another body and tenant
    let again = tenants
        .claim_idempotency_key(key, "fp-2", &other)
        .await
        .unwrap();
    // THEN it replays the first binding
    assert_eq!(
        again,
        IdempotencyClaim::Replay {
            fingerprint: "fp-1".into(),
            tenant_id: acme.clone()
        }
    );
    // AND keys are limited to 255 characters
    let longest = "k".repeat(255);
    let claim = tenants
        .claim_idempotency_key(&longest, "fp", &acme)
        .await
        .unwrap();
    assert_eq!(claim, IdempotencyClaim::Claimed);
    let error = tenants
        .claim_idempotency_key(&"k".repeat(256), "fp", &acme)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Invalid { .. }), "{error}");
}

fn a_day_later() -> Timestamp {
    tally_runtime::clock::now().plus_millis(25 * 60 * 60 * 1000)
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn an_expired_idempotency_key_can_be_claimed_again() {
    let tenants = fresh_tenants(&config().await).await;
    let acme = TenantId::parse("acme").unwrap();
    let claim = tenants
        .claim_idempotency_key("key", "fp-1", &acme)
        .await
        .unwrap();
    assert_eq!(claim, IdempotencyClaim::Claimed);
    // GIVEN the binding expired (the TTL deletes it only eventually)
    let later = tenants.clone().with_clock(a_day_later);
    // THEN the key is free again
    let claim = later
        .claim_idempotency_key("key", "fp-2", &acme)
        .await
        .unwrap();
    assert_eq!(claim, IdempotencyClaim::Claimed);
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn the_tenants_table_is_created_once_with_its_ttl() {
    let config = config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique("tenants-");
    assert!(create_table(&client, &table).await.unwrap());
    assert!(!create_table(&client, &table).await.unwrap());
    let ttl = client
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let description = ttl.time_to_live_description().unwrap();
    assert_eq!(description.attribute_name(), Some("expires_at"));
}

// ---------------------------------------------------------------------------------------------
// The audit log
// ---------------------------------------------------------------------------------------------

fn entry(tenant: &Tenant, at: &str, action: &str) -> AuditEntry {
    AuditEntry {
        tenant_id: tenant.tenant_id.clone(),
        at: Timestamp::parse(at).unwrap(),
        actor: "tally-cli".into(),
        action: action.into(),
        before: None,
        after: Some(tenant.clone()),
    }
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn the_audit_log_reads_back_in_order() {
    let config = config().await;
    let log = S3AuditLog::new(s3_client(&config), fresh_bucket(&config).await);
    let first = tenant("acme", Tier::Standard);
    let second = changed(&first);
    let third = changed(&second);
    let entries = [
        entry(&first, "2026-11-26T14:00:00Z", "create"),
        entry(&second, "2026-11-26T14:00:00Z", "update"),
        entry(&third, "2026-11-27T09:30:00.250Z", "suspend"),
    ];
    // WHEN appended out of order, next to another tenant's entry
    for index in [2, 0, 1] {
        log.append(&entries[index]).await.unwrap();
    }
    let beta = tenant("beta", Tier::Premium);
    log.append(&entry(&beta, "2026-11-26T15:00:00Z", "create"))
        .await
        .unwrap();
    // THEN the tenant's entries come back whole, oldest first, and only its own
    assert_eq!(
        log.entries(&first.tenant_id).await.unwrap(),
        entries.to_vec()
    );
    assert_eq!(log.entries(&beta.tenant_id).await.unwrap().len(), 1);
    let nobody = TenantId::parse("nobody").unwrap();
    assert!(log.entries(&nobody).await.unwrap().is_empty());
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn a_long_audit_log_reads_back_in_order() {
    let config = config().await;
    let log = S3AuditLog::new(s3_client(&config), fresh_bucket(&config).await);
    // GIVEN more entries than are read at once, appended newest first
    let mut current = tenant("acme", Tier::Standard);
    let start = Timestamp::parse("2026-11-26T14:00:00Z").unwrap();
    let mut entries = Vec::new();
    for minute in 0..40 {
        let mut entry = entry(&current, "2026-11-26T14:00:00Z", "update");
        entry.at = start.plus_millis(minute * 60_000);
        entries.push(entry);
        current = changed(&current);
    }
    for entry in entries.iter().rev() {
        log.append(entry).await.unwrap();
    }
    // THEN they read back oldest first
    assert_eq!(log.entries(&current.tenant_id).await.unwrap(), entries);
}

// ---------------------------------------------------------------------------------------------
// Storage: the prefix, the policy, the role
// ---------------------------------------------------------------------------------------------

/// IAM answers policy documents URL-encoded (moto does not); either reads as JSON here.
fn policy_json(document: &str) -> Value {
    if let Ok(value) = serde_json::from_str(document) {
        return value;
    }
    let bytes = document.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap();
            decoded.push(u8::from_str_radix(hex, 16).unwrap());
            index += 3;
        } else {
            decoded.push(if bytes[index] == b'+' {
                b' '
            } else {
                bytes[index]
            });
            index += 1;
        }
    }
    serde_json::from_slice(&decoded).unwrap()
}

fn tag_map<'a>(tags: impl Iterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, String> {
    tags.map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect()
}

/// Checks the tenant's policy: tags, and a document on exactly the tenant's tagged prefix.
async fn assert_policy(iam: &aws_sdk_iam::Client, arn: &str, bucket: &str, tenant: &Tenant) {
    let policy = iam.get_policy().policy_arn(arn).send().await.unwrap();
    let policy = policy.policy().unwrap();
    assert_eq!(policy.path(), Some(IAM_PATH));
    let tags = iam.list_policy_tags().policy_arn(arn).send().await.unwrap();
    let tags = tag_map(tags.tags().iter().map(|tag| (tag.key(), tag.value())));
    let id = tenant.tenant_id.as_str();
    assert_eq!(tags["tenant_id"], id);
    assert_eq!(tags["tier"], tenant.tier.as_str());
    let version = policy.default_version_id().unwrap();
    let document = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .unwrap();
    let document = policy_json(document.policy_version().unwrap().document().unwrap());
    let statements = document["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 3);
    let objects = &statements[0];
    assert_eq!(
        objects["Action"],
        serde_json::json!(["s3:GetObject", "s3:PutObject"])
    );
    let prefix = "tenants/${aws:PrincipalTag/tenant_id}/";
    assert_eq!(
        objects["Resource"],
        format!("arn:aws:s3:::{bucket}/{prefix}*")
    );
    let listing = &statements[1];
    assert_eq!(listing["Resource"], format!("arn:aws:s3:::{bucket}"));
    // One pattern, written as a string or a one-element list (IAM reads both alike).
    let listed = &listing["Condition"]["StringLike"]["s3:prefix"];
    let patterns = listed
        .as_array()
        .cloned()
        .unwrap_or_else(|| vec![listed.clone()]);
    assert_eq!(patterns, vec![Value::from(format!("{prefix}*"))]);
    // The bucket's key, through S3 only, for this bucket's objects only.
    let key = &statements[2];
    assert_eq!(
        key["Action"],
        serde_json::json!(["kms:Decrypt", "kms:GenerateDataKey"])
    );
    let key_condition = &key["Condition"]["StringLike"];
    assert_eq!(key_condition["kms:ViaService"], "s3.*.amazonaws.com");
    assert_eq!(
        key_condition["kms:EncryptionContext:aws:s3:arn"],
        serde_json::json!([
            format!("arn:aws:s3:::{bucket}"),
            format!("arn:aws:s3:::{bucket}/{prefix}*")
        ])
    );
    for statement in statements {
        assert_eq!(statement["Effect"], "Allow");
        assert_eq!(
            statement["Condition"]["StringEquals"]["aws:PrincipalTag/tenant_id"],
            id
        );
    }
}

async fn assert_role(iam: &aws_sdk_iam::Client, role_arn: &str, policy_arn: &str, tenant: &Tenant) {
    let name = iam_name(&tenant.tenant_id);
    let role = iam.get_role().role_name(&name).send().await.unwrap();
    let role = role.role().unwrap();
    assert_eq!(role.arn(), role_arn);
    assert_eq!(role.path(), IAM_PATH);
    let tags = tag_map(role.tags().iter().map(|tag| (tag.key(), tag.value())));
    assert_eq!(tags["tenant_id"], tenant.tenant_id.as_str());
    assert_eq!(tags["tier"], tenant.tier.as_str());
    let attached = iam
        .list_attached_role_policies()
        .role_name(&name)
        .send()
        .await
        .unwrap();
    let attached: Vec<_> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
        .collect();
    assert_eq!(attached, vec![policy_arn]);
}

async fn object_exists(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> bool {
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(_) => true,
        Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => false,
        Err(error) => panic!("HeadObject {key}: {error:?}"),
    }
}

async fn assert_storage_gone(iam: &aws_sdk_iam::Client, policy_arn: &str, tenant: &Tenant) {
    let policy = iam.get_policy().policy_arn(policy_arn).send().await;
    assert_eq!(
        policy
            .unwrap_err()
            .as_service_error()
            .and_then(|e| e.meta().code()),
        Some("NoSuchEntity")
    );
    let role = iam
        .get_role()
        .role_name(iam_name(&tenant.tenant_id))
        .send()
        .await;
    assert_eq!(
        role.unwrap_err()
            .as_service_error()
            .and_then(|e| e.meta().code()),
        Some("NoSuchEntity")
    );
}

/// Storage applied, checked, applied again, undone twice: for a tenant of any id.
async fn storage_round_trip(mut subject: Tenant) {
    let config = config().await;
    let bucket = fresh_bucket(&config).await;
    let (s3, iam) = (s3_client(&config), aws_sdk_iam::Client::new(&config));
    let storage = S3Storage::new(s3.clone(), iam.clone(), &bucket);
    let id = subject.tenant_id.clone();
    // WHEN applied
    let provisioned = storage.apply(&subject).await.unwrap();
    let marker = format!("tenants/{id}/.tenant");
    assert_eq!(
        provisioned.resources["storage.prefix"],
        format!("s3://{bucket}/tenants/{id}/")
    );
    let (policy_arn, role_arn) = (
        &provisioned.resources[POLICY_RESOURCE],
        &provisioned.resources[ROLE_RESOURCE],
    );
    // THEN the prefix, the policy and the role exist as specified
    assert!(object_exists(&s3, &bucket, &marker).await);
    assert_policy(&iam, policy_arn, &bucket, &subject).await;
    assert_role(&iam, role_arn, policy_arn, &subject).await;
    // WHEN applied again, THEN it finds the same resources
    assert_eq!(storage.apply(&subject).await.unwrap(), provisioned);
    // GIVEN usage under the prefix, WHEN undone (twice), THEN IAM and the marker are gone, the data kept
    let usage = format!("tenants/{id}/usage/events/dt=2026-11-26/part-1.parquet");
    s3.put_object()
        .bucket(&bucket)
        .key(&usage)
        .body(b"PAR1".to_vec().into())
        .send()
        .await
        .unwrap();
    subject.resources.extend(provisioned.resources.clone());
    storage.undo(&subject).await.unwrap();
    assert_storage_gone(&iam, policy_arn, &subject).await;
    assert!(!object_exists(&s3, &bucket, &marker).await);
    assert!(object_exists(&s3, &bucket, &usage).await);
    storage.undo(&subject).await.unwrap();
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn storage_creates_finds_and_removes_the_prefix_policy_and_role() {
    storage_round_trip(tenant(&unique("acme-"), Tier::Standard)).await;
}

/// The permissions boundary of the role called `name`, if it has one.
async fn boundary_of(iam: &aws_sdk_iam::Client, name: &str) -> Option<String> {
    let role = iam.get_role().role_name(name).send().await.unwrap();
    role.role()
        .and_then(|role| role.permissions_boundary())
        .and_then(|boundary| boundary.permissions_boundary_arn())
        .map(str::to_owned)
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn a_bounded_storage_caps_new_and_existing_tenant_roles() {
    let config = config().await;
    let bucket = fresh_bucket(&config).await;
    let (s3, iam) = (s3_client(&config), aws_sdk_iam::Client::new(&config));
    let boundary = iam
        .create_policy()
        .policy_name(unique("tally-tenant-boundary-"))
        .policy_document(
            serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let boundary = boundary.policy().unwrap().arn().unwrap().to_owned();
    let (fresh, existing) = (
        tenant(&unique("bounded-"), Tier::Standard),
        tenant(&unique("unbounded-"), Tier::Premium),
    );
    // GIVEN a role made before a boundary was configured
    let unbounded = S3Storage::new(s3.clone(), iam.clone(), &bucket);
    unbounded.apply(&existing).await.unwrap();
    assert_eq!(
        boundary_of(&iam, &iam_name(&existing.tenant_id)).await,
        None
    );
    // WHEN storage is applied with the boundary, to a new tenant and again to that one
    let bounded = S3Storage::new(s3, iam.clone(), &bucket).bounded_by(&boundary);
    for subject in [&fresh, &existing] {
        bounded.apply(subject).await.unwrap();
        // THEN both roles are capped by it
        assert_eq!(
            boundary_of(&iam, &iam_name(&subject.tenant_id)).await,
            Some(boundary.clone()),
            "{}",
            subject.tenant_id
        );
    }
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn secrets_are_read_as_strings_and_logins_without_repeating_them() {
    let config = config().await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let create = |name: String, value: &'static str| {
        let client = client.clone();
        async move {
            let created = client
                .create_secret()
                .name(name)
                .secret_string(value)
                .send()
                .await
                .unwrap();
            created.arn().unwrap().to_owned()
        }
    };
    let owner = create(
        unique("rds-owner-"),
        r#"{"username": "tally_owner", "password": "p@ss:w/rd"}"#,
    )
    .await;
    let app = create(unique("app-password-"), "app-secret-value").await;
    let malformed = create(unique("malformed-"), "not-json-secret-value").await;
    let secrets = Secrets::from_config(&config);

    assert_eq!(
        secrets.login(&owner).await.unwrap(),
        ("tally_owner".to_owned(), "p@ss:w/rd".to_owned())
    );
    assert_eq!(secrets.string(&app).await.unwrap(), "app-secret-value");
    // A login secret of the wrong shape, or one that does not exist, is named, never shown.
    let error = secrets.login(&malformed).await.unwrap_err();
    assert!(
        error.contains(&malformed) && error.contains("\"username\""),
        "{error}"
    );
    assert!(!error.contains("not-json-secret-value"), "{error}");
    let missing = format!("{owner}-missing");
    let error = secrets.string(&missing).await.unwrap_err();
    assert!(
        error.contains(&missing) && error.contains("ResourceNotFoundException"),
        "{error}"
    );
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn storage_undo_finds_what_a_crash_kept_from_being_recorded() {
    let config = config().await;
    let bucket = fresh_bucket(&config).await;
    let iam = aws_sdk_iam::Client::new(&config);
    let storage = S3Storage::new(s3_client(&config), iam.clone(), &bucket).trusting("123456789012");
    let subject = tenant(&unique("crash-"), Tier::Premium);
    // GIVEN an apply whose result was never recorded on the tenant
    let provisioned = storage.apply(&subject).await.unwrap();
    assert!(subject.resources.is_empty());
    // WHEN undone, THEN the policy is found by its name and removed with the role
    storage.undo(&subject).await.unwrap();
    assert_storage_gone(&iam, &provisioned.resources[POLICY_RESOURCE], &subject).await;
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn storage_failures_name_the_request_and_resource() {
    let config = config().await;
    let missing = unique("no-such-bucket-");
    let storage = S3Storage::new(
        s3_client(&config),
        aws_sdk_iam::Client::new(&config),
        &missing,
    );
    let error = storage
        .apply(&tenant("acme", Tier::Standard))
        .await
        .unwrap_err();
    assert!(!error.is_transient(), "{error}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "S3 PutObject s3://{missing}/tenants/acme/.tenant: "
        )),
        "{message}"
    );
    assert!(message.contains("NoSuchBucket"), "{message}");
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn storage_never_deletes_a_policy_the_tenant_does_not_own() {
    let config = config().await;
    let storage = S3Storage::new(s3_client(&config), aws_sdk_iam::Client::new(&config), "any");
    let mut subject = tenant("acme", Tier::Standard);
    let foreign = "arn:aws:iam::123456789012:policy/AdministratorAccess";
    subject
        .resources
        .insert(POLICY_RESOURCE.into(), foreign.into());
    let error = storage.undo(&subject).await.unwrap_err();
    assert!(!error.is_transient());
    assert!(error.to_string().contains(foreign), "{error}");
}

// ---------------------------------------------------------------------------------------------
// Auth: Cognito
// ---------------------------------------------------------------------------------------------

fn cognito_code<E: aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata>(
    error: &aws_sdk_cognitoidentityprovider::error::SdkError<E>,
) -> Option<&str> {
    error.as_service_error().and_then(|service| service.code())
}

async fn shared_pool(cognito: &aws_sdk_cognitoidentityprovider::Client) -> String {
    let pool = cognito
        .create_user_pool()
        .pool_name(unique("shared-"))
        .send()
        .await
        .unwrap();
    pool.user_pool()
        .and_then(|pool| pool.id())
        .unwrap()
        .to_owned()
}

/// Standard auth applied, checked, applied again, undone twice.
async fn standard_auth_round_trip(mut subject: Tenant) {
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&config().await);
    let pool_id = shared_pool(&cognito).await;
    let auth = CognitoAuth::new(cognito.clone()).sharing(&pool_id);
    let id = subject.tenant_id.clone();
    // WHEN applied
    let provisioned = auth.apply(&subject).await.unwrap();
    let resources = &provisioned.resources;
    // THEN the tenant has a group and an app client in the shared pool
    assert_eq!(resources["auth.user_pool_id"], pool_id);
    assert_eq!(resources["auth.group"], format!("tenant-{id}"));
    let group = cognito
        .get_group()
        .user_pool_id(&pool_id)
        .group_name(format!("tenant-{id}"))
        .send()
        .await;
    assert!(group.is_ok(), "{group:?}");
    let client_id = &resources["auth.app_client_id"];
    let client = cognito
        .describe_user_pool_client()
        .user_pool_id(&pool_id)
        .client_id(client_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        client.user_pool_client().and_then(|c| c.client_name()),
        Some(format!("tally-{id}").as_str())
    );
    // WHEN applied again, THEN it finds the same
    assert_eq!(auth.apply(&subject).await.unwrap(), provisioned);
    // WHEN undone (twice), THEN the client and group are gone, the shared pool stays
    subject.resources.extend(provisioned.resources.clone());
    auth.undo(&subject).await.unwrap();
    auth.undo(&subject).await.unwrap();
    let client = cognito
        .describe_user_pool_client()
        .user_pool_id(&pool_id)
        .client_id(client_id)
        .send()
        .await;
    assert_eq!(
        cognito_code(&client.unwrap_err()),
        Some("ResourceNotFoundException")
    );
    let group = cognito
        .get_group()
        .user_pool_id(&pool_id)
        .group_name(format!("tenant-{id}"))
        .send()
        .await;
    assert_eq!(
        cognito_code(&group.unwrap_err()),
        Some("ResourceNotFoundException")
    );
    assert!(
        cognito
            .describe_user_pool()
            .user_pool_id(&pool_id)
            .send()
            .await
            .is_ok()
    );
}

/// Premium auth applied, checked, applied again, undone twice.
async fn premium_auth_round_trip(mut subject: Tenant) {
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&config().await);
    let shared = shared_pool(&cognito).await;
    let auth = CognitoAuth::new(cognito.clone()).sharing(&shared);
    let id = subject.tenant_id.clone();
    let provisioned = auth.apply(&subject).await.unwrap();
    let resources = &provisioned.resources;
    // THEN the tenant has a pool of its own, tagged, with an app client and the admin group
    let pool_id = &resources["auth.user_pool_id"];
    assert_ne!(pool_id, &shared);
    let pool = cognito
        .describe_user_pool()
        .user_pool_id(pool_id)
        .send()
        .await
        .unwrap();
    let pool = pool.user_pool().unwrap();
    assert_eq!(pool.name(), Some(format!("tally-{id}").as_str()));
    let tags = pool.user_pool_tags().unwrap();
    assert_eq!(tags.get("tenant_id").map(String::as_str), Some(id.as_str()));
    assert_eq!(tags.get("tier").map(String::as_str), Some("premium"));
    assert_eq!(resources["auth.group"], "tally-admins");
    assert!(
        cognito
            .get_group()
            .user_pool_id(pool_id)
            .group_name("tally-admins")
            .send()
            .await
            .is_ok()
    );
    let client_id = &resources["auth.app_client_id"];
    assert!(
        cognito
            .describe_user_pool_client()
            .user_pool_id(pool_id)
            .client_id(client_id)
            .send()
            .await
            .is_ok()
    );
    // WHEN applied again, THEN it finds the same pool and client
    assert_eq!(auth.apply(&subject).await.unwrap(), provisioned);
    // WHEN undone (twice), THEN the pool is gone, the shared pool stays
    subject.resources.extend(provisioned.resources.clone());
    auth.undo(&subject).await.unwrap();
    auth.undo(&subject).await.unwrap();
    let gone = cognito
        .describe_user_pool()
        .user_pool_id(pool_id)
        .send()
        .await;
    assert_eq!(
        cognito_code(&gone.unwrap_err()),
        Some("ResourceNotFoundException")
    );
    assert!(
        cognito
            .describe_user_pool()
            .user_pool_id(&shared)
            .send()
            .await
            .is_ok()
    );
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn standard_tenants_get_a_group_and_client_in_the_shared_pool() {
    standard_auth_round_trip(tenant(&unique("std-"), Tier::Standard)).await;
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn premium_tenants_get_a_user_pool_of_their_own() {
    premium_auth_round_trip(tenant(&unique("prem-"), Tier::Premium)).await;
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn auth_refuses_what_it_cannot_do() {
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&config().await);
    // GIVEN no shared pool configured, THEN a standard tenant fails for good, naming the setting
    let error = CognitoAuth::new(cognito.clone())
        .apply(&tenant("acme", Tier::Standard))
        .await
        .unwrap_err();
    assert!(!error.is_transient());
    assert!(error.to_string().contains("TALLY_USER_POOL_ID"), "{error}");
    // GIVEN a premium record naming the shared pool, THEN undo refuses to delete it
    let shared = shared_pool(&cognito).await;
    let mut subject = tenant(&unique("prem-"), Tier::Premium);
    subject
        .resources
        .insert("auth.user_pool_id".into(), shared.clone());
    let auth = CognitoAuth::new(cognito.clone()).sharing(&shared);
    auth.undo(&subject).await.unwrap();
    assert!(
        cognito
            .describe_user_pool()
            .user_pool_id(&shared)
            .send()
            .await
            .is_ok()
    );
}

// ---------------------------------------------------------------------------------------------
// Email: SES
// ---------------------------------------------------------------------------------------------

/// The email moto accepted, from its model data (`GET /moto-api/data.json`, `ses` → `Message`:
/// id, source, subject, body, destinations), found by message id.
fn sent_message(message_id: &str) -> Option<Value> {
    let address = endpoint().trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    let request = format!("GET /moto-api/data.json HTTP/1.0\r\nHost: {address}\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8(response).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
        "{head}"
    );
    let data: Value = serde_json::from_str(body).unwrap();
    data["ses"]["Message"]
        .as_array()?
        .iter()
        .find(|message| message["id"] == message_id)
        .cloned()
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn email_is_sent_from_the_configured_sender() {
    let config = config().await;
    let ses = aws_sdk_sesv2::Client::new(&config);
    let sender = format!("{}@example.com", unique("noreply-"));
    // GIVEN the sender is a verified identity
    ses.create_email_identity()
        .email_identity(&sender)
        .send()
        .await
        .unwrap();
    let mailer = SesMailer::new(ses, &sender);
    let email = Email {
        to: "admin@example.org".into(),
        subject: "Welcome to Tally, Acme".into(),
        body: "Your tenant acme is ready.\n".into(),
    };
    // WHEN sent
    let message_id = mailer.send(&email).await.unwrap();
    // THEN moto holds exactly that message under the id returned
    let message = sent_message(&message_id).expect("moto recorded the message");
    assert_eq!(message["source"], sender.as_str());
    assert_eq!(message["subject"], email.subject.as_str());
    assert_eq!(message["body"], email.body.as_str());
    assert_eq!(
        message["destinations"]["ToAddresses"],
        serde_json::json!([email.to])
    );
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn email_from_an_unverified_sender_fails_for_good() {
    let ses = aws_sdk_sesv2::Client::new(&config().await);
    let mailer = SesMailer::new(ses, format!("{}@example.net", unique("unverified-")));
    let email = Email {
        to: "admin@example.org".into(),
        subject: "hi".into(),
        body: "hi".into(),
    };
    let error = mailer.send(&email).await.unwrap_err();
    assert!(!error.is_transient(), "{error}");
    assert!(
        error.to_string().starts_with("SES SendEmail from "),
        "{error}"
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile input: the longest tenant ids
// ---------------------------------------------------------------------------------------------

/// A 64-character tenant id (the limit), unique to this run, with capitals if asked.
fn longest_id(capitals: bool) -> String {
    let start = if capitals { "Z" } else { "z" };
    let id = format!("{start}{}", unique("-_"));
    format!("{id}{}", "x".repeat(64 - id.len()))
}

#[tokio::test]
#[ignore = "needs moto server: run scripts/test"]
async fn the_longest_tenant_ids_work_end_to_end() {
    for capitals in [false, true] {
        let id = longest_id(capitals);
        assert_eq!(id.len(), 64);
        let subject = tenant(&id, Tier::Premium);
        assert!(iam_name(&subject.tenant_id).len() <= MAX_IAM_NAME_CHARS);
        let config = config().await;
        let tenants = fresh_tenants(&config).await;
        tenants.create(&subject).await.unwrap();
        assert_eq!(
            tenants.get(&subject.tenant_id).await.unwrap(),
            Some(subject.clone())
        );
        assert_eq!(tenants.list(None, 10).await.unwrap(), vec![subject.clone()]);
        let log = S3AuditLog::new(s3_client(&config), fresh_bucket(&config).await);
        let created = entry(&subject, "2026-11-26T14:00:00Z", "create");
        log.append(&created).await.unwrap();
        assert_eq!(
            log.entries(&subject.tenant_id).await.unwrap(),
            vec![created]
        );
        storage_round_trip(subject.clone()).await;
        premium_auth_round_trip(subject).await;
        standard_auth_round_trip(tenant(&id, Tier::Standard)).await;
    }
}
