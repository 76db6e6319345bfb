//! The control plane's acceptance test, against real servers: the admin API router
//! (`tenant_management::handle`, with a real bearer-token verifier) over a control plane whose
//! every port is the AWS or PostgreSQL adapter the onboarding function runs (DynamoDB tenants,
//! S3 audit log, PostgreSQL, S3 and IAM storage, Cognito, manifests in S3, SES), onboarding in
//! process with `ControlPlane::onboard` (the steps and compensation the state machine runs; moto's
//! Step Functions does not invoke Lambdas). It creates a standard and a premium tenant and sees
//! every step's effect in the servers themselves; makes Notify fail for good (an unverified SES
//! sender) and sees that compensation left nothing and the tenant says why; then offboards.
//!
//! `#[ignore]`d: needs moto server (`TALLY_TEST_AWS_ENDPOINT`) and a PostgreSQL superuser URL
//! (`TALLY_TEST_DATABASE_URL`), both started by scripts/test. Every name is unique to the run,
//! and the test's own database, roles and tenant databases are dropped at the end.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Write};
use std::sync::Arc;

use aws_config::{BehaviorVersion, SdkConfig};
use onboarding::billing::DraftFinalInvoice;
use serde_json::{Value, json};
use tally_auth::{ADMIN_GROUP, AuthConfig, LocalIssuer, Verifier};
use tally_control_aws::manifests::{manifests_prefix, namespace_claim_key};
use tally_control_aws::names::{IAM_PATH, iam_name};
use tally_control_aws::{
    CognitoAuth, DynamoTenants, S3AuditLog, S3Manifests, S3Storage, SesMailer, create_table,
    s3_client,
};
use tally_postgres::{
    AppRoles, POLICY_NAME, PostgresDatabase, RoleName, SharedDatabase, TENANT_TABLES,
    tenant_identifier,
};
use tally_runtime::control::SystemClock;
use tally_runtime::invoices::MemoryInvoices;
use tally_runtime::memory::MemoryBucket;
use tally_runtime::stream::{ConsumerConfig, MemoryTables, StreamConsumer};
use tally_schemas::layout::tenant_marker_key;
use tally_schemas::{MeterCatalog, TenantId};
use tally_tenancy::manifests::namespace_name;
use tally_tenancy::{ControlPlane, Provisioners, RetryPolicy, Status, Tenant, Tier};
use tenant_management::{Api, HttpRequest, Onboarding, handle};
use tokio_postgres::{Config, NoTls};

const REGION: &str = "us-east-1";

type Billing = DraftFinalInvoice<Arc<MemoryBucket>, Arc<MemoryTables>, MemoryInvoices>;
type Steps =
    Provisioners<PostgresDatabase, S3Storage, CognitoAuth, S3Manifests, SesMailer, Billing>;
type Plane = ControlPlane<DynamoTenants, S3AuditLog, Steps, SystemClock>;
type TestApi = Api<DynamoTenants, S3AuditLog, Steps, SystemClock, InProcess, Verifier>;

/// Runs the workflows in process, to the end, as `tally serve` does.
struct InProcess {
    control: Arc<Plane>,
}

impl Onboarding for InProcess {
    async fn start(&self, tenant_id: &TenantId, _actor: &str) -> tenant_management::Result<()> {
        let onboarded = self.control.onboard(tenant_id, "onboarding").await;
        onboarded
            .map(drop)
            .map_err(|error| tenant_management::Error::workflow("onboarding", tenant_id, error))
    }

    async fn offboard(&self, tenant_id: &TenantId, _actor: &str) -> tenant_management::Result<()> {
        let offboarded = self.control.offboard(tenant_id, "offboarding").await;
        offboarded
            .map(drop)
            .map_err(|error| tenant_management::Error::workflow("offboarding", tenant_id, error))
    }
}

/// A setting the test needs, or a panic naming it.
fn required(name: &str, what: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| panic!("{name} is not set: this test needs {what}; run scripts/test"))
}

fn endpoint() -> String {
    let endpoint = required("TALLY_TEST_AWS_ENDPOINT", "moto server on loopback");
    assert!(
        endpoint.starts_with("http://127.0.0.1:"),
        "{endpoint} is not loopback"
    );
    endpoint
}

/// A random lower-case hex suffix, unique to this run.
fn suffix() -> String {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
}

/// The servers and this run's resources on them.
struct World {
    aws: SdkConfig,
    suffix: String,
    server: Config,
    database: String,
    roles: AppRoles,
    bucket: String,
    tenants_table: String,
    shared_pool: String,
    sender: String,
    issuer: LocalIssuer,
}

impl World {
    async fn new() -> World {
        let aws = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(endpoint())
            .region(aws_config::Region::new(REGION))
            .load()
            .await;
        let server_url = required("TALLY_TEST_DATABASE_URL", "a PostgreSQL superuser URL");
        let server: Config = server_url.parse().expect("the database URL parses");
        let suffix = suffix();
        let roles = AppRoles::new(
            RoleName::parse(&format!("e2e_{suffix}_app")).unwrap(),
            RoleName::parse(&format!("e2e_{suffix}_login")).unwrap(),
            "e2e password",
        )
        .unwrap();
        let world = World {
            aws,
            database: format!("tally_e2e_{suffix}"),
            roles,
            bucket: format!("tally-e2e-{suffix}"),
            tenants_table: format!("tenants-e2e-{suffix}"),
            shared_pool: String::new(),
            sender: format!("noreply-{suffix}@example.com"),
            issuer: LocalIssuer::generate().unwrap(),
            server,
            suffix,
        };
        world.create_resources().await
    }

    /// The database, bucket, tables, shared user pool and verified sender of this run.
    async fn create_resources(mut self) -> World {
        let admin = self.connect(&self.server_database()).await;
        let create = format!("CREATE DATABASE \"{}\"", self.database);
        admin.batch_execute(&create).await.unwrap();
        s3_client(&self.aws)
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .unwrap();
        let dynamodb = aws_sdk_dynamodb::Client::new(&self.aws);
        assert!(create_table(&dynamodb, &self.tenants_table).await.unwrap());
        let cognito = aws_sdk_cognitoidentityprovider::Client::new(&self.aws);
        let pool = cognito
            .create_user_pool()
            .pool_name(format!("tally-shared-{}", self.suffix))
            .send()
            .await
            .unwrap();
        self.shared_pool = pool.user_pool().and_then(|p| p.id()).unwrap().to_owned();
        aws_sdk_sesv2::Client::new(&self.aws)
            .create_email_identity()
            .email_identity(&self.sender)
            .send()
            .await
            .unwrap();
        self
    }

    fn server_database(&self) -> String {
        self.server.get_dbname().unwrap_or("postgres").to_owned()
    }

    /// The superuser's `key=value` connection string for `dbname`.
    fn database_url(&self, dbname: &str) -> String {
        let host = match self.server.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
            _ => "127.0.0.1".to_owned(),
        };
        let port = self.server.get_ports().first().copied().unwrap_or(5432);
        let user = self.server.get_user().unwrap_or("postgres");
        format!("host={host} port={port} user={user} dbname={dbname}")
    }

    async fn connect(&self, dbname: &str) -> tokio_postgres::Client {
        let config: Config = self.database_url(dbname).parse().unwrap();
        let (client, connection) = config.connect(NoTls).await.expect("connect");
        tokio::spawn(connection);
        client
    }

    async fn shared_database(&self) -> SharedDatabase {
        let url = self.database_url(&self.database);
        SharedDatabase::connect(&url, self.roles.clone())
            .await
            .unwrap()
    }

    /// The control plane over the real adapters, mailing from `sender`.
    fn control_plane(&self, sender: &str) -> Arc<Plane> {
        let dynamodb = aws_sdk_dynamodb::Client::new(&self.aws);
        let s3 = s3_client(&self.aws);
        let steps = Provisioners {
            database: PostgresDatabase::new(self.database_url(&self.database), self.roles.clone()),
            storage: S3Storage::new(
                s3.clone(),
                aws_sdk_iam::Client::new(&self.aws),
                &self.bucket,
            ),
            auth: CognitoAuth::new(aws_sdk_cognitoidentityprovider::Client::new(&self.aws))
                .sharing(&self.shared_pool),
            app: S3Manifests::new(s3.clone(), &self.bucket),
            mailer: SesMailer::new(aws_sdk_sesv2::Client::new(&self.aws), sender),
            billing: empty_ledger_billing(),
        };
        Arc::new(ControlPlane {
            store: DynamoTenants::new(dynamodb, &self.tenants_table),
            audit: S3AuditLog::new(s3, &self.bucket),
            steps,
            clock: SystemClock,
            catalog: MeterCatalog::defaults(),
            retry: RetryPolicy::ONBOARDING,
        })
    }

    /// The admin API over a control plane mailing from `sender`.
    fn api(&self, sender: &str) -> TestApi {
        let control = self.control_plane(sender);
        let verifier = Verifier::new(self.issuer.key_set(), AuthConfig::local()).unwrap();
        Api {
            control: control.clone(),
            onboarding: InProcess { control },
            auth: verifier,
        }
    }

    /// An admin's bearer token, valid for an hour.
    fn token(&self) -> String {
        let now_secs = tally_runtime::clock::now().as_millis().div_euclid(1000);
        let token = self
            .issuer
            .token("e2e-admin", &[ADMIN_GROUP], 3600, now_secs);
        format!("Bearer {token}")
    }
}

/// The final invoice over an empty in-memory ledger (this test sends no usage).
fn empty_ledger_billing() -> Billing {
    let open = || {
        let config = ConsumerConfig {
            catalog: MeterCatalog::defaults(),
            max_event_age_days: 35,
            stream: "usage-metering".into(),
            cached_tenants: 100,
        };
        let bucket = Arc::new(MemoryBucket::default());
        let consumer = StreamConsumer::open(bucket, Arc::new(MemoryTables::default()), config)?;
        Ok((consumer, MemoryInvoices::default()))
    };
    DraftFinalInvoice::new(
        Box::new(open),
        MeterCatalog::defaults(),
        tally_billing::PlanBook::defaults(),
        tally_runtime::clock::now,
    )
}

/// Drops the run's database, tenant databases and roles, even when the test fails.
struct Cleanup<'a>(&'a World, Vec<TenantId>);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let mut statements = vec![format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.0.database
        )];
        for tenant in &self.1 {
            let name = tenant_identifier(tenant);
            statements.push(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            statements.push(format!("DROP ROLE IF EXISTS \"{name}\""));
        }
        statements.push(format!("DROP ROLE IF EXISTS \"{}\"", self.0.roles.login()));
        statements.push(format!("DROP ROLE IF EXISTS \"{}\"", self.0.roles.group()));
        let url = self.0.database_url(&self.0.server_database());
        // Drop cannot await, nor block the test's runtime: a thread with a runtime of its own.
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let config: Config = url.parse().unwrap();
                let Ok((client, connection)) = config.connect(NoTls).await else {
                    return;
                };
                tokio::spawn(connection);
                for statement in statements {
                    if let Err(error) = client.batch_execute(&statement).await {
                        eprintln!("cleanup: {statement}: {error}");
                    }
                }
            });
        })
        .join()
        .unwrap();
    }
}

/// Sends one request through the router; the status and the JSON body.
async fn call(
    api: &TestApi,
    token: &str,
    method: &str,
    target: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = HttpRequest::new(method, target).with_header("authorization", token);
    if let Some(body) = body {
        request = request
            .with_header("content-type", "application/json")
            .with_body(body.to_string());
    }
    let response = handle(api, request).await;
    let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    (response.status, body)
}

/// Creates a tenant through `POST /admin/tenants`; the tenant as the response shows it.
async fn create(api: &TestApi, token: &str, id: &str, tier: Tier) -> Tenant {
    let body = json!({
        "tenant_id": id,
        "name": format!("Tenant {id}"),
        "tier": tier.as_str(),
        "admin_email": format!("admin@{id}.example.org"),
    });
    let (status, body) = call(api, token, "POST", "/admin/tenants", Some(body)).await;
    assert_eq!(status, 201, "{body}");
    serde_json::from_value(body).unwrap()
}

/// The tenant through `GET /admin/tenants/{id}`.
async fn get(api: &TestApi, token: &str, id: &TenantId) -> Tenant {
    let (status, body) = call(api, token, "GET", &format!("/admin/tenants/{id}"), None).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).unwrap()
}

#[tokio::test]
#[ignore = "needs moto server and PostgreSQL: run scripts/test"]
async fn tenants_are_onboarded_compensated_and_offboarded_on_real_servers() {
    let world = World::new().await;
    let id = |label: &str| TenantId::parse(&format!("e2e-{label}-{}", world.suffix)).unwrap();
    let (standard, premium) = (id("std"), id("prem"));
    let (failing_standard, failing_premium) = (id("fail-std"), id("fail-prem"));
    let tracked = vec![premium.clone(), failing_premium.clone()];
    let _cleanup = Cleanup(&world, tracked);
    let api = world.api(&world.sender);
    let token = world.token();

    // GIVEN a standard and a premium tenant created through the API
    for (tenant_id, tier) in [(&standard, Tier::Standard), (&premium, Tier::Premium)] {
        let created = create(&api, &token, tenant_id.as_str(), tier).await;
        assert_eq!(
            created.status,
            Status::Active,
            "{:?}",
            created.status_reason
        );
        // THEN every step's effect is in the servers
        let tenant = get(&api, &token, tenant_id).await;
        assert_database(&world, &tenant).await;
        assert_storage(&world, &tenant).await;
        assert_auth(&world, &tenant).await;
        assert_manifests(&world, &tenant).await;
        assert_welcome(&world, &tenant);
        assert_audited(&api, &token, tenant_id).await;
    }

    // GIVEN a sender SES never verified, WHEN tenants are created, THEN Notify fails for good,
    // compensation leaves nothing, and the tenant is failed with the reason
    let unverified = format!("unverified-{}@example.net", world.suffix);
    let failing_api = world.api(&unverified);
    for (tenant_id, tier) in [
        (&failing_standard, Tier::Standard),
        (&failing_premium, Tier::Premium),
    ] {
        let created = create(&failing_api, &token, tenant_id.as_str(), tier).await;
        assert_eq!(created.status, Status::Failed);
        let tenant = get(&api, &token, tenant_id).await;
        assert_eq!(tenant.status, Status::Failed);
        let reason = tenant.status_reason.clone().unwrap_or_default();
        assert!(
            reason.starts_with("Notify failed: SES SendEmail from "),
            "{reason}"
        );
        assert!(!reason.contains("also failed"), "{reason}");
        assert!(tenant.resources.is_empty(), "{:?}", tenant.resources);
        assert_nothing_left(&world, &tenant).await;
    }

    // WHEN the onboarded tenants are deleted, THEN they are offboarded and their resources gone
    for tenant_id in [&standard, &premium] {
        let target = format!("/admin/tenants/{tenant_id}");
        let (status, body) = call(&api, &token, "DELETE", &target, None).await;
        assert_eq!(status, 202, "{body}");
        let tenant = get(&api, &token, tenant_id).await;
        assert_eq!(
            tenant.status,
            Status::Offboarded,
            "{:?}",
            tenant.status_reason
        );
        assert_eq!(
            tenant.resources["final_invoice"],
            format!("{tenant_id}-000001")
        );
        assert!(sent_email(&tenant.resources["goodbye_email"]).is_some());
        assert_nothing_left(&world, &tenant).await;
    }
}

// ---------------------------------------------------------------------------------------------
// What each step leaves in the servers
// ---------------------------------------------------------------------------------------------

/// Standard: a row in the shared registry under row-level security; premium: a dedicated
/// database with the same policies, and no row in the shared registry.
async fn assert_database(world: &World, tenant: &Tenant) {
    let mut shared = world.shared_database().await;
    let id = &tenant.tenant_id;
    let report = match tenant.tier {
        Tier::Standard => {
            assert!(shared.tenant_exists(id).await.unwrap());
            assert_eq!(tenant.resources["database.kind"], "shared");
            shared.schema_report().await.unwrap()
        }
        Tier::Premium => {
            assert!(!shared.tenant_exists(id).await.unwrap());
            assert!(shared.dedicated_database_exists(id).await.unwrap());
            assert_eq!(tenant.resources["database.name"], tenant_identifier(id));
            shared.dedicated_schema_report(id).await.unwrap()
        }
    };
    for table in TENANT_TABLES {
        let security = report.table(table).expect("the tenant table exists");
        assert!(
            security.row_security_enabled && security.row_security_forced,
            "{table}"
        );
        let policies: Vec<_> = report.policies_on(table).map(|p| p.name.as_str()).collect();
        assert_eq!(policies, [POLICY_NAME], "{table}");
    }
}

/// The marker of the tenant's prefix, its policy (the prefix, for the principal tagged with the
/// tenant) and its role holding the policy.
async fn assert_storage(world: &World, tenant: &Tenant) {
    let s3 = s3_client(&world.aws);
    assert!(object_exists(&s3, &world.bucket, &tenant_marker_key(&tenant.tenant_id)).await);
    let iam = aws_sdk_iam::Client::new(&world.aws);
    let arn = &tenant.resources["storage.policy_arn"];
    let policy = iam.get_policy().policy_arn(arn).send().await.unwrap();
    let version = policy
        .policy()
        .and_then(|p| p.default_version_id())
        .unwrap();
    let document = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .unwrap();
    let document = policy_document(document.policy_version().unwrap().document().unwrap());
    let prefix = format!(
        "arn:aws:s3:::{}/tenants/${{aws:PrincipalTag/tenant_id}}/*",
        world.bucket
    );
    let statements = document["Statement"].as_array().unwrap();
    assert_eq!(statements[0]["Resource"], prefix.as_str());
    for statement in statements {
        let condition = &statement["Condition"]["StringEquals"]["aws:PrincipalTag/tenant_id"];
        assert_eq!(condition, tenant.tenant_id.as_str());
    }
    let name = iam_name(&tenant.tenant_id);
    let attached = iam
        .list_attached_role_policies()
        .role_name(&name)
        .send()
        .await
        .unwrap();
    let attached: Vec<_> = attached
        .attached_policies()
        .iter()
        .filter_map(|policy| policy.policy_arn())
        .collect();
    assert_eq!(attached, [arn.as_str()]);
}

/// Standard: an app client and a group in the shared pool; premium: a pool of its own with an
/// app client and the admin group.
async fn assert_auth(world: &World, tenant: &Tenant) {
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&world.aws);
    let pool = &tenant.resources["auth.user_pool_id"];
    let group = &tenant.resources["auth.group"];
    match tenant.tier {
        Tier::Standard => {
            assert_eq!(pool, &world.shared_pool);
            assert_eq!(group, &format!("tenant-{}", tenant.tenant_id));
        }
        Tier::Premium => {
            assert_ne!(pool, &world.shared_pool);
            let described = cognito.describe_user_pool().user_pool_id(pool).send().await;
            let name = described
                .unwrap()
                .user_pool()
                .and_then(|p| p.name().map(str::to_owned));
            assert_eq!(name, Some(format!("tally-{}", tenant.tenant_id)));
        }
    }
    let client = cognito
        .describe_user_pool_client()
        .user_pool_id(pool)
        .client_id(&tenant.resources["auth.app_client_id"])
        .send()
        .await
        .unwrap();
    let client_name = client.user_pool_client().and_then(|c| c.client_name());
    assert_eq!(
        client_name,
        Some(format!("tally-{}", tenant.tenant_id).as_str())
    );
    let found = cognito
        .get_group()
        .user_pool_id(pool)
        .group_name(group)
        .send()
        .await;
    assert!(found.is_ok(), "{found:?}");
}

/// The namespace, network policy and quota in the bucket, the namespace labelled with the
/// tenant and its tier.
async fn assert_manifests(world: &World, tenant: &Tenant) {
    let s3 = s3_client(&world.aws);
    let prefix = manifests_prefix(&tenant.tenant_id);
    assert_eq!(keys(&s3, &world.bucket, &prefix).await.len(), 3);
    let namespace = read_json(&s3, &world.bucket, &format!("{prefix}00-namespace.yaml")).await;
    let labels = &namespace["metadata"]["labels"];
    assert_eq!(labels["tally.dev/tenant"], tenant.tenant_id.as_str());
    assert_eq!(labels["tally.dev/tier"], tenant.tier.as_str());
    assert_eq!(tenant.resources["app.namespace"], namespace_name(tenant));
}

/// The welcome email SES accepted, to the tenant's admin.
fn assert_welcome(world: &World, tenant: &Tenant) {
    let message = sent_email(&tenant.resources["welcome_email"]).expect("moto kept the email");
    assert_eq!(message["source"], world.sender.as_str());
    assert_eq!(
        message["destinations"]["ToAddresses"],
        json!([tenant.admin_email])
    );
    let subject = message["subject"].as_str().unwrap();
    assert!(subject.starts_with("Welcome to Tally"), "{subject}");
}

/// Every step is in the tenant's audit log, read through the API.
async fn assert_audited(api: &TestApi, token: &str, tenant_id: &TenantId) {
    let target = format!("/admin/tenants/{tenant_id}/audit");
    let (status, body) = call(api, token, "GET", &target, None).await;
    assert_eq!(status, 200, "{body}");
    let entries = body["entries"].as_array().cloned().unwrap_or_default();
    let actions: Vec<&str> = entries
        .iter()
        .filter_map(|entry| entry["action"].as_str())
        .collect();
    for action in [
        "create",
        "step.create_database",
        "step.notify",
        "onboarding.finish",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

/// Nothing of the tenant is left: no registry row or database, no marker, policy or role, no
/// Cognito client, group or pool, no manifests or namespace claim.
async fn assert_nothing_left(world: &World, tenant: &Tenant) {
    let id = &tenant.tenant_id;
    let mut shared = world.shared_database().await;
    assert!(!shared.tenant_exists(id).await.unwrap());
    assert!(!shared.dedicated_database_exists(id).await.unwrap());
    let s3 = s3_client(&world.aws);
    assert!(!object_exists(&s3, &world.bucket, &tenant_marker_key(id)).await);
    assert!(
        keys(&s3, &world.bucket, &manifests_prefix(id))
            .await
            .is_empty()
    );
    let claim = namespace_claim_key(&namespace_name(tenant));
    assert!(!object_exists(&s3, &world.bucket, &claim).await);
    let iam = aws_sdk_iam::Client::new(&world.aws);
    let name = iam_name(id);
    assert!(
        iam.get_role().role_name(&name).send().await.is_err(),
        "role {name}"
    );
    let policies = iam
        .list_policies()
        .path_prefix(IAM_PATH)
        .send()
        .await
        .unwrap();
    let policy_names: Vec<_> = policies
        .policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    assert!(!policy_names.contains(&name.as_str()), "policy {name}");
    let cognito = aws_sdk_cognitoidentityprovider::Client::new(&world.aws);
    let clients = cognito
        .list_user_pool_clients()
        .user_pool_id(&world.shared_pool)
        .max_results(60)
        .send()
        .await
        .unwrap();
    let client_names: Vec<_> = clients
        .user_pool_clients()
        .iter()
        .filter_map(|c| c.client_name())
        .collect();
    assert!(!client_names.contains(&format!("tally-{id}").as_str()));
    let group = cognito
        .get_group()
        .user_pool_id(&world.shared_pool)
        .group_name(format!("tenant-{id}"))
        .send()
        .await;
    assert!(group.is_err(), "group tenant-{id}");
    let pools = cognito
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .unwrap();
    let pool_names: Vec<_> = pools.user_pools().iter().filter_map(|p| p.name()).collect();
    assert!(
        !pool_names.contains(&format!("tally-{id}").as_str()),
        "pool tally-{id}"
    );
}

// ---------------------------------------------------------------------------------------------
// Reading the servers
// ---------------------------------------------------------------------------------------------

async fn object_exists(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> bool {
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(_) => true,
        Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => false,
        Err(error) => panic!("HeadObject {key}: {error:?}"),
    }
}

async fn keys(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<String> {
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
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

async fn read_json(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Value {
    let object = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    serde_json::from_slice(&object.body.collect().await.unwrap().into_bytes()).unwrap()
}

/// A policy document as IAM returns it: JSON, or JSON percent-encoded (as AWS does).
fn policy_document(text: &str) -> Value {
    if let Ok(value) = serde_json::from_str(text) {
        return value;
    }
    let bytes = text.as_bytes();
    let mut decoded = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok());
        match (
            bytes[index],
            hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()),
        ) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    serde_json::from_slice(&decoded).unwrap()
}

/// The email moto accepted with this message id, from its model data
/// (`GET /moto-api/data.json`, `ses` → `Message`).
fn sent_email(message_id: &str) -> Option<Value> {
    let address = endpoint().trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    let request = format!("GET /moto-api/data.json HTTP/1.0\r\nHost: {address}\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8(response).unwrap();
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    let data: Value = serde_json::from_str(body).unwrap();
    let messages = data["ses"]["Message"].as_array()?;
    messages
        .iter()
        .find(|message| message["id"] == message_id)
        .cloned()
}
