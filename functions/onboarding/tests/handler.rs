//! The handler over the in-memory adapters of `tally_tenancy::memory`, invoked as Lambda invokes
//! it (`LambdaEvent { payload, context }`): each action, the error names Step Functions matches,
//! a failing step and its compensation, `fail` keeping the reason, conflicts; and both generated
//! state machines run against the handler by a small interpreter of their Task, Retry and Catch
//! rules, so the definitions and the function cannot drift apart.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use onboarding::{Error, Response, handle};
use serde_json::{Value, json};
use tally_schemas::{MeterCatalog, TenantId, Timestamp};
use tally_tenancy::memory::{
    Failure, ManualClock, MemoryAudit, MemoryBilling, MemoryMailer, MemoryResources, MemoryTenants,
};
use tally_tenancy::{
    ControlPlane, IdempotencyClaim, NewTenant, Provisioners, RetryPolicy, Status, Tenant,
    TenantStore,
};

type Steps = Provisioners<
    MemoryResources,
    MemoryResources,
    MemoryResources,
    MemoryResources,
    MemoryMailer,
    MemoryBilling,
>;
type Plane = ControlPlane<FlakyTenants, MemoryAudit, Steps, ManualClock>;

/// The in-memory tenants table, whose writes can be made to fail.
#[derive(Clone, Default)]
struct FlakyTenants {
    inner: MemoryTenants,
    /// Every write fails as the store not answering.
    unavailable: Arc<AtomicBool>,
    /// Every write finds that another writer moved the version on.
    contended: Arc<AtomicBool>,
}

impl TenantStore for FlakyTenants {
    async fn get(&self, tenant_id: &TenantId) -> tally_tenancy::Result<Option<Tenant>> {
        self.inner.get(tenant_id).await
    }

    async fn create(&self, tenant: &Tenant) -> tally_tenancy::Result<()> {
        self.inner.create(tenant).await
    }

    async fn replace(&self, tenant: &Tenant) -> tally_tenancy::Result<()> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(tally_tenancy::Error::store(
                "DynamoDB PutItem tenants",
                "timed out (transient: try again)",
            ));
        }
        if self.contended.load(Ordering::SeqCst) {
            return Err(tally_tenancy::Error::conflict("the version moved on"));
        }
        self.inner.replace(tenant).await
    }

    async fn list(
        &self,
        after: Option<&TenantId>,
        limit: usize,
    ) -> tally_tenancy::Result<Vec<Tenant>> {
        self.inner.list(after, limit).await
    }

    async fn claim_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
        tenant_id: &TenantId,
    ) -> tally_tenancy::Result<IdempotencyClaim> {
        self.inner
            .claim_idempotency_key(key, fingerprint, tenant_id)
            .await
    }
}

struct World {
    plane: Plane,
    live: Arc<Mutex<BTreeSet<String>>>,
    mailer: MemoryMailer,
}

fn world() -> World {
    let live = Arc::new(Mutex::new(BTreeSet::new()));
    let mailer = MemoryMailer::default();
    let clock = ManualClock::at(Timestamp::parse("2026-11-26T12:00:00Z").unwrap());
    let resources = |name| MemoryResources::new(name, live.clone());
    let plane = ControlPlane {
        store: FlakyTenants::default(),
        audit: MemoryAudit::default(),
        steps: Provisioners {
            database: resources("database"),
            storage: resources("storage"),
            auth: resources("auth"),
            app: resources("app"),
            mailer: mailer.clone(),
            billing: MemoryBilling,
        },
        clock,
        catalog: MeterCatalog::defaults(),
        retry: RetryPolicy::ONBOARDING,
    };
    World {
        plane,
        live,
        mailer,
    }
}

impl World {
    async fn create(&self, id: &str) {
        let request: NewTenant = serde_json::from_value(json!({
            "tenant_id": id, "name": "Acme", "tier": "standard", "admin_email": "ops@acme.example"
        }))
        .unwrap();
        self.plane.create(request, "alice", None).await.unwrap();
    }

    async fn tenant(&self, id: &str) -> Tenant {
        self.plane.get(&TenantId::parse(id).unwrap()).await.unwrap()
    }

    async fn invoke(&self, payload: Value) -> Result<Response, Error> {
        handle(&self.plane, LambdaEvent::new(payload, Context::default())).await
    }

    fn live(&self) -> Vec<String> {
        self.live.lock().unwrap().iter().cloned().collect()
    }

    fn fail_next(&self, resource: &str, failure: Failure) {
        let steps = &self.plane.steps;
        let target = match resource {
            "database" => &steps.database,
            "storage" => &steps.storage,
            "auth" => &steps.auth,
            _ => &steps.app,
        };
        target.failures.lock().unwrap().push(failure);
    }
}

fn action(action: &str, id: &str) -> Value {
    json!({ "action": action, "tenant_id": id })
}

fn step(action: &str, step: &str, id: &str) -> Value {
    json!({ "action": action, "step": step, "tenant_id": id })
}

/// The `$.error` Step Functions writes when it catches `error` from the function: the
/// function's error response is the cause.
fn caught(error: Error) -> Value {
    let diagnostic = Diagnostic::from(error);
    let response = json!({
        "errorType": diagnostic.error_type,
        "errorMessage": diagnostic.error_message,
    });
    json!({ "Error": diagnostic.error_type, "Cause": response.to_string() })
}

#[tokio::test]
async fn given_a_pending_tenant_when_every_onboarding_action_runs_then_it_is_active() {
    let world = world();
    world.create("acme").await;
    let begun = world.invoke(action("begin", "acme")).await.unwrap();
    assert_eq!(
        (begun.tenant_id.as_str(), begun.status),
        ("acme", Status::Provisioning)
    );
    for name in [
        "validate",
        "create_database",
        "provision_storage",
        "configure_auth",
        "deploy_app",
        "notify",
    ] {
        let applied = world.invoke(step("apply", name, "acme")).await.unwrap();
        assert_eq!(applied.status, Status::Provisioning, "{name}");
    }
    let finished = world.invoke(action("finish", "acme")).await.unwrap();
    assert_eq!(finished.status, Status::Active);
    let tenant = world.tenant("acme").await;
    assert_eq!(tenant.resources["database.id"], "database/acme");
    assert_eq!(tenant.resources["welcome_email"], "message-1");
    assert_eq!(world.live().len(), 4);
    // The response is what the state machine's Task receives.
    assert_eq!(
        serde_json::to_value(&finished).unwrap(),
        json!({"tenant_id": "acme", "status": "active"})
    );
}

#[tokio::test]
async fn given_a_status_move_that_took_effect_when_repeated_then_nothing_changes() {
    let world = world();
    world.create("acme").await;
    world.invoke(action("begin", "acme")).await.unwrap();
    let version = world.tenant("acme").await.version;
    // WHEN Step Functions retries begin after a timeout that hid its success
    let again = world.invoke(action("begin", "acme")).await.unwrap();
    // THEN the tenant is as it was
    assert_eq!(again.status, Status::Provisioning);
    assert_eq!(world.tenant("acme").await.version, version);
}

#[tokio::test]
async fn given_a_throttled_step_then_the_error_is_transient_and_a_retry_succeeds() {
    let world = world();
    world.create("acme").await;
    world.invoke(action("begin", "acme")).await.unwrap();
    world.fail_next("storage", Failure::Transient);
    let error = world
        .invoke(step("apply", "provision_storage", "acme"))
        .await
        .unwrap_err();
    let diagnostic = Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "Tally.Transient");
    assert_eq!(
        diagnostic.error_message,
        "ProvisionStorage failed: storage throttled"
    );
    let retried = world
        .invoke(step("apply", "provision_storage", "acme"))
        .await;
    assert_eq!(retried.unwrap().status, Status::Provisioning);
    assert_eq!(world.live(), ["storage/acme"]);
}

#[tokio::test]
async fn given_a_step_that_fails_for_good_when_compensated_and_failed_then_nothing_is_left_and_the_reason_is_kept()
 {
    let world = world();
    world.create("acme").await;
    world.invoke(action("begin", "acme")).await.unwrap();
    for name in ["validate", "create_database", "provision_storage"] {
        world.invoke(step("apply", name, "acme")).await.unwrap();
    }
    // WHEN ConfigureAuth creates its resource, then fails for good
    world.fail_next("auth", Failure::PermanentAfterCreating);
    let error = world
        .invoke(step("apply", "configure_auth", "acme"))
        .await
        .unwrap_err();
    assert_eq!(error.error_type(), "Tally.Permanent");
    // AND the state machine undoes it and the steps before it, then records the failure
    for name in ["configure_auth", "provision_storage", "create_database"] {
        world.invoke(step("undo", name, "acme")).await.unwrap();
    }
    let mut payload = action("fail", "acme");
    payload["error"] = caught(error);
    let failed = world.invoke(payload.clone()).await.unwrap();
    // THEN nothing is left and the tenant is failed with the step's reason
    assert_eq!(failed.status, Status::Failed);
    assert!(world.live().is_empty(), "{:?}", world.live());
    let tenant = world.tenant("acme").await;
    assert_eq!(
        tenant.status_reason.as_deref(),
        Some("ConfigureAuth failed: auth refused")
    );
    assert!(tenant.resources.is_empty(), "{:?}", tenant.resources);
    // WHEN fail is repeated with another cause, THEN the first reason stays, unchanged
    let entries = world
        .plane
        .audit_log(&tenant.tenant_id)
        .await
        .unwrap()
        .len();
    payload["error"] = json!({"Error": "States.Timeout"});
    world.invoke(payload).await.unwrap();
    assert_eq!(world.tenant("acme").await, tenant);
    let audit = world.plane.audit_log(&tenant.tenant_id).await.unwrap();
    assert_eq!(audit.len(), entries);
    assert_eq!(audit.last().unwrap().action, "onboarding.fail");
}

#[tokio::test]
async fn given_resources_an_undo_could_not_remove_then_the_reason_names_their_steps() {
    let world = world();
    world.create("acme").await;
    world.invoke(action("begin", "acme")).await.unwrap();
    world
        .invoke(step("apply", "create_database", "acme"))
        .await
        .unwrap();
    // The undo chain failed to undo CreateDatabase (its Catch goes on to MarkFailed).
    let mut payload = action("fail", "acme");
    payload["error"] = json!({"Error": "States.Timeout", "Cause": "the task timed out"});
    world.invoke(payload).await.unwrap();
    let reason = world.tenant("acme").await.status_reason.unwrap();
    assert_eq!(
        reason,
        "States.Timeout: the task timed out; left for offboarding to remove: CreateDatabase"
    );
}

#[tokio::test]
async fn given_an_active_tenant_when_every_offboarding_action_runs_then_it_is_offboarded_once() {
    let world = world();
    world.create("acme").await;
    let tenant_id = TenantId::parse("acme").unwrap();
    world.plane.onboard(&tenant_id, "test").await.unwrap();
    assert_eq!(world.live().len(), 4);
    let begun = world.invoke(action("begin_offboarding", "acme")).await;
    assert_eq!(begun.unwrap().status, Status::Offboarding);
    for name in [
        "deploy_app",
        "configure_auth",
        "provision_storage",
        "create_database",
    ] {
        let undone = world.invoke(step("undo", name, "acme")).await.unwrap();
        assert_eq!(undone.status, Status::Offboarding);
    }
    assert!(world.live().is_empty());
    // Conclude, repeated: one final invoice and one goodbye.
    for _ in 0..2 {
        let concluded = world.invoke(action("conclude", "acme")).await.unwrap();
        assert_eq!(concluded.status, Status::Offboarding);
    }
    let sent = world.mailer.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 2, "the welcome and one goodbye");
    assert!(sent[1].body.contains("final-acme"));
    for _ in 0..2 {
        let finished = world.invoke(action("finish_offboarding", "acme")).await;
        assert_eq!(finished.unwrap().status, Status::Offboarded);
    }
    let tenant = world.tenant("acme").await;
    assert_eq!(tenant.resources["final_invoice"], "final-acme");
    let actions: Vec<String> = world
        .plane
        .audit_log(&tenant_id)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.action)
        .filter(|action| action.starts_with("offboarding"))
        .collect();
    assert_eq!(
        actions,
        [
            "offboarding.start",
            "offboarding.conclude",
            "offboarding.finish"
        ]
    );
}

#[tokio::test]
async fn given_an_undo_that_fails_during_offboarding_then_the_reason_says_offboarding() {
    let world = world();
    world.create("acme").await;
    world
        .invoke(action("begin_offboarding", "acme"))
        .await
        .unwrap();
    let mut payload = action("fail", "acme");
    payload["error"] = caught(Error::permanent("undoing DeployApp failed: refused"));
    world.invoke(payload).await.unwrap();
    let tenant = world.tenant("acme").await;
    assert_eq!(tenant.status, Status::Failed);
    assert_eq!(
        tenant.status_reason.as_deref(),
        Some("offboarding: undoing DeployApp failed: refused")
    );
}

#[tokio::test]
async fn given_a_lifecycle_conflict_or_a_bad_request_then_the_error_is_permanent() {
    let world = world();
    world.create("acme").await;
    let refusals = [
        // Steps run only while provisioning.
        step("apply", "create_database", "acme"),
        // Pending cannot become active without provisioning.
        action("finish", "acme"),
        // The final invoice is only for an offboarding tenant.
        action("conclude", "acme"),
        // No such tenant.
        action("begin", "nobody"),
        // Not a payload the state machines send.
        json!({"action": "apply", "tenant_id": "acme"}),
        json!({"action": "begin"}),
    ];
    for payload in refusals {
        let error = world.invoke(payload.clone()).await.unwrap_err();
        assert_eq!(error.error_type(), "Tally.Permanent", "{payload}: {error}");
    }
    assert_eq!(world.tenant("acme").await.status, Status::Pending);
}

#[tokio::test]
async fn given_a_store_that_does_not_answer_then_the_error_is_transient() {
    let world = world();
    world.create("acme").await;
    world.plane.store.unavailable.store(true, Ordering::SeqCst);
    let error = world.invoke(action("begin", "acme")).await.unwrap_err();
    assert_eq!(error.error_type(), "Tally.Transient", "{error}");
    assert!(error.to_string().contains("DynamoDB PutItem"), "{error}");
}

#[tokio::test]
async fn given_writers_that_keep_moving_the_version_then_the_conflict_is_permanent() {
    let world = world();
    world.create("acme").await;
    world.plane.store.contended.store(true, Ordering::SeqCst);
    let error = world.invoke(action("begin", "acme")).await.unwrap_err();
    assert_eq!(error.error_type(), "Tally.Permanent", "{error}");
    assert!(error.to_string().contains("kept changing"), "{error}");
}

// ---------------------------------------------------------------------------------------------
// The generated state machines, run against the handler
// ---------------------------------------------------------------------------------------------

/// Runs `definition` for `tenant` the way Step Functions would: each Task's payload filled in
/// from the state's input, its Retry rules applied to the function's error type (without the
/// waits), its Catch writing the error at its `ResultPath`. Returns the terminal state's type
/// and the Task states visited, in order.
async fn execute(world: &World, definition: &Value, tenant: &str) -> (String, Vec<String>) {
    let states = &definition["States"];
    let mut input = json!({ "tenant_id": tenant });
    let mut current = definition["StartAt"].as_str().unwrap().to_owned();
    let mut visited = Vec::new();
    loop {
        let state = &states[&current];
        if state["Type"] != "Task" {
            return (state["Type"].as_str().unwrap().to_owned(), visited);
        }
        visited.push(current.clone());
        let mut payload = serde_json::Map::new();
        for (name, value) in state["Parameters"]["Payload"].as_object().unwrap() {
            match name.strip_suffix(".$") {
                Some(field) => {
                    let path = value.as_str().unwrap().trim_start_matches("$.");
                    payload.insert(field.to_owned(), input[path].clone());
                }
                None => {
                    payload.insert(name.clone(), value.clone());
                }
            }
        }
        let retry = &state["Retry"][0];
        let max_retries = retry["MaxAttempts"].as_u64().unwrap();
        let mut attempt = 0;
        let outcome = loop {
            let outcome = world.invoke(Value::Object(payload.clone())).await;
            let retried = match &outcome {
                Err(error) => retry["ErrorEquals"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(error.error_type())),
                Ok(_) => false,
            };
            if !retried || attempt == max_retries {
                break outcome;
            }
            attempt += 1;
        };
        current = match outcome {
            Ok(_) => state["Next"].as_str().unwrap().to_owned(),
            Err(error) => {
                let Some(catch) = state["Catch"].get(0) else {
                    return ("Uncaught".to_owned(), visited);
                };
                let path = catch["ResultPath"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("$.");
                input[path] = caught(error);
                catch["Next"].as_str().unwrap().to_owned()
            }
        };
    }
}

#[tokio::test]
async fn the_onboarding_state_machine_onboards_through_the_handler() {
    let world = world();
    world.create("acme").await;
    // A throttle on the way is retried by the definition's Retry.
    world.fail_next("database", Failure::Transient);
    let definition = tally_tenancy::state_machine::onboarding();
    let (end, _) = execute(&world, &definition, "acme").await;
    assert_eq!(end, "Succeed");
    assert_eq!(world.tenant("acme").await.status, Status::Active);
    assert_eq!(world.live().len(), 4);
}

#[tokio::test]
async fn the_onboarding_state_machine_compensates_a_failing_step_through_the_handler() {
    let world = world();
    world.create("acme").await;
    world.fail_next("app", Failure::PermanentAfterCreating);
    let definition = tally_tenancy::state_machine::onboarding();
    let (end, visited) = execute(&world, &definition, "acme").await;
    assert_eq!(end, "Fail");
    assert_eq!(
        &visited[6..],
        [
            "UndoDeployApp",
            "UndoConfigureAuth",
            "UndoProvisionStorage",
            "UndoCreateDatabase",
            "MarkFailed"
        ]
    );
    assert!(world.live().is_empty(), "{:?}", world.live());
    let tenant = world.tenant("acme").await;
    assert_eq!(tenant.status, Status::Failed);
    assert_eq!(
        tenant.status_reason.as_deref(),
        Some("DeployApp failed: app refused")
    );
}

#[tokio::test]
async fn the_offboarding_state_machine_offboards_through_the_handler() {
    let world = world();
    world.create("acme").await;
    let onboarding = tally_tenancy::state_machine::onboarding();
    assert_eq!(execute(&world, &onboarding, "acme").await.0, "Succeed");
    let offboarding = tally_tenancy::state_machine::offboarding();
    assert_eq!(execute(&world, &offboarding, "acme").await.0, "Succeed");
    let tenant = world.tenant("acme").await;
    assert_eq!(tenant.status, Status::Offboarded);
    assert_eq!(tenant.resources["final_invoice"], "final-acme");
    assert!(world.live().is_empty());
}
