//! The API over the in-memory adapters, a fake token checker, and two workflow starters: one
//! that records what it was asked to start, one that runs the workflows in process.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tally_schemas::{MeterCatalog, TenantId, Timestamp};
use tally_tenancy::memory::{
    ManualClock, MemoryAudit, MemoryBilling, MemoryMailer, MemoryResources, MemoryTenants,
};
use tally_tenancy::{ControlPlane, Provisioners, RetryPolicy, TenantStore};
use tenant_management::routes::{UNROUTED_STATUSES, resolve};
use tenant_management::{
    Api, AuthFailure, Authenticate, Error, HttpRequest, HttpResponse, Onboarding, handle,
};

/// The token of an admin, whose actor is [`ADMIN`].
pub const ADMIN_TOKEN: &str = "Bearer admin-token";
/// The actor of [`ADMIN_TOKEN`].
pub const ADMIN: &str = "alice@example.com";
/// A valid token of someone who is not an admin.
pub const VIEWER_TOKEN: &str = "Bearer viewer-token";
/// 2026-11-26T14:00:00Z.
pub const NOW: Timestamp = Timestamp::from_millis(1_795_701_600_000);

pub type MemorySteps = Provisioners<
    MemoryResources,
    MemoryResources,
    MemoryResources,
    MemoryResources,
    MemoryMailer,
    MemoryBilling,
>;
pub type MemoryControl = ControlPlane<MemoryTenants, MemoryAudit, MemorySteps, ManualClock>;
pub type TestApi<O> = Api<MemoryTenants, MemoryAudit, MemorySteps, ManualClock, O, FakeAuth>;

/// Admits [`ADMIN_TOKEN`], forbids [`VIEWER_TOKEN`], refuses anything else.
pub struct FakeAuth;

impl Authenticate for FakeAuth {
    fn authenticate(
        &self,
        authorization: Option<&str>,
        _now: Timestamp,
    ) -> Result<String, AuthFailure> {
        match authorization {
            Some(ADMIN_TOKEN) => Ok(ADMIN.to_owned()),
            Some(VIEWER_TOKEN) => Err(AuthFailure {
                status: 403,
                detail: "bob is not in the tally-admins group".to_owned(),
            }),
            Some(_) => Err(AuthFailure {
                status: 401,
                detail: "the token is not valid".to_owned(),
            }),
            None => Err(AuthFailure {
                status: 401,
                detail: "the request has no Authorization header".to_owned(),
            }),
        }
    }
}

/// What a [`RecordingOnboarding`] was asked: workflow, tenant, actor.
pub type Started = Arc<Mutex<Vec<(&'static str, String, String)>>>;

/// Records every start and offboard; fails them while `failing` is set.
#[derive(Clone, Default)]
pub struct RecordingOnboarding {
    pub started: Started,
    pub failing: Arc<AtomicBool>,
}

impl RecordingOnboarding {
    fn record(
        &self,
        workflow: &'static str,
        tenant_id: &TenantId,
        actor: &str,
    ) -> tenant_management::Result<()> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(Error::workflow(
                workflow,
                tenant_id,
                "StartExecution: ThrottlingException arn:aws:states:secret",
            ));
        }
        self.started
            .lock()
            .unwrap()
            .push((workflow, tenant_id.to_string(), actor.to_owned()));
        Ok(())
    }
}

impl Onboarding for RecordingOnboarding {
    async fn start(&self, tenant_id: &TenantId, actor: &str) -> tenant_management::Result<()> {
        self.record("onboarding", tenant_id, actor)
    }

    async fn offboard(&self, tenant_id: &TenantId, actor: &str) -> tenant_management::Result<()> {
        self.record("offboarding", tenant_id, actor)
    }
}

/// Runs the workflows to the end before answering, as `tally serve` does.
pub struct InProcessOnboarding {
    pub control: Arc<MemoryControl>,
}

impl Onboarding for InProcessOnboarding {
    async fn start(&self, tenant_id: &TenantId, _actor: &str) -> tenant_management::Result<()> {
        self.control
            .onboard(tenant_id, "onboarding")
            .await
            .map(drop)
            .map_err(|error| Error::workflow("onboarding", tenant_id, error))
    }

    async fn offboard(&self, tenant_id: &TenantId, _actor: &str) -> tenant_management::Result<()> {
        self.control
            .offboard(tenant_id, "offboarding")
            .await
            .map(drop)
            .map_err(|error| Error::workflow("offboarding", tenant_id, error))
    }
}

/// The control plane over fresh in-memory adapters; `live` holds the provisioned resources.
pub fn control_plane(live: &Arc<Mutex<BTreeSet<String>>>) -> Arc<MemoryControl> {
    let resources = |name| MemoryResources::new(name, live.clone());
    Arc::new(ControlPlane {
        store: MemoryTenants::default(),
        audit: MemoryAudit::default(),
        steps: Provisioners {
            database: resources("database"),
            storage: resources("storage"),
            auth: resources("auth"),
            app: resources("app"),
            mailer: MemoryMailer::default(),
            billing: MemoryBilling,
        },
        clock: ManualClock::at(NOW),
        catalog: MeterCatalog::defaults(),
        retry: RetryPolicy::ONBOARDING,
    })
}

/// The API with a recording workflow starter.
pub fn recording_api() -> (TestApi<RecordingOnboarding>, RecordingOnboarding) {
    let onboarding = RecordingOnboarding::default();
    let control = control_plane(&Arc::default());
    let api = Api {
        control,
        onboarding: onboarding.clone(),
        auth: FakeAuth,
    };
    (api, onboarding)
}

/// The API running its workflows in process, and the set of live resources.
pub fn in_process_api() -> (TestApi<InProcessOnboarding>, Arc<Mutex<BTreeSet<String>>>) {
    let live = Arc::default();
    let control = control_plane(&live);
    let onboarding = InProcessOnboarding {
        control: control.clone(),
    };
    (
        Api {
            control,
            onboarding,
            auth: FakeAuth,
        },
        live,
    )
}

/// Sends `request` and checks that the status is one the route table declares for its route.
pub async fn call<O: Onboarding>(api: &TestApi<O>, request: HttpRequest) -> HttpResponse {
    let declared = match resolve(&request.method, &request.path) {
        Ok((route, _)) => route.statuses,
        Err(_) => UNROUTED_STATUSES,
    };
    let label = format!(
        "{} {}",
        request.method,
        request.path.chars().take(80).collect::<String>()
    );
    let response = handle(api, request).await;
    assert!(
        declared.contains(&response.status),
        "{label} answered {} which its route does not declare",
        response.status
    );
    assert_eq!(
        response.header("cache-control"),
        Some("no-store"),
        "{label}"
    );
    response
}

/// An admin's request.
pub fn admin(method: &str, target: &str) -> HttpRequest {
    HttpRequest::new(method, target).with_header("authorization", ADMIN_TOKEN)
}

/// An admin's request with a JSON body.
pub fn admin_json(method: &str, target: &str, body: &str) -> HttpRequest {
    admin(method, target)
        .with_header("content-type", "application/json")
        .with_body(body)
}

/// A create body for `id`.
pub fn new_tenant(id: &str) -> String {
    format!(
        r#"{{"tenant_id":"{id}","name":"Tenant {id}","tier":"standard","admin_email":"ops@{id}.example.com"}}"#
    )
}

/// Creates tenant `id` and checks the 201.
pub async fn create<O: Onboarding>(api: &TestApi<O>, id: &str) -> Value {
    let response = call(api, admin_json("POST", "/admin/tenants", &new_tenant(id))).await;
    assert_eq!(response.status, 201, "{}", text(&response));
    json(&response)
}

/// The body as JSON.
pub fn json(response: &HttpResponse) -> Value {
    serde_json::from_slice(&response.body).expect("a JSON body")
}

/// The body as text.
pub fn text(response: &HttpResponse) -> String {
    String::from_utf8_lossy(&response.body).into_owned()
}

/// The problem's status, reason and field, after checking it is problem+json.
pub fn problem(response: &HttpResponse) -> (u16, String, Option<String>) {
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json"),
        "{}",
        text(response)
    );
    let body = json(response);
    assert_eq!(body["status"], response.status);
    assert_eq!(body["type"], "about:blank");
    assert!(body["title"].is_string() && body["detail"].is_string());
    let field = body["field"].as_str().map(str::to_owned);
    (
        response.status,
        body["reason"].as_str().unwrap().to_owned(),
        field,
    )
}

/// How many tenants are stored.
pub async fn stored<O: Onboarding>(api: &TestApi<O>) -> usize {
    api.control.store.list(None, 10_000).await.unwrap().len()
}

/// A tenant id known to be valid.
pub fn id(text: &str) -> TenantId {
    TenantId::parse(text).expect("a valid tenant id")
}
