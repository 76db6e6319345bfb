use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use super::*;
use crate::memory::{
    Failure, ManualClock, MemoryAudit, MemoryBilling, MemoryMailer, MemoryResources, MemoryTenants,
};
use crate::provisioners::Provisioners;

type Plane = ControlPlane<
    MemoryTenants,
    MemoryAudit,
    Provisioners<
        MemoryResources,
        MemoryResources,
        MemoryResources,
        MemoryResources,
        MemoryMailer,
        MemoryBilling,
    >,
    ManualClock,
>;

struct World {
    plane: Plane,
    live: Arc<Mutex<BTreeSet<String>>>,
    mailer: MemoryMailer,
    clock: ManualClock,
}

fn world() -> World {
    let live = Arc::new(Mutex::new(BTreeSet::new()));
    let mailer = MemoryMailer::default();
    let clock = ManualClock::at(Timestamp::parse("2026-11-26T12:00:00Z").expect("time"));
    let steps = Provisioners {
        database: MemoryResources::new("database", live.clone()),
        storage: MemoryResources::new("storage", live.clone()),
        auth: MemoryResources::new("auth", live.clone()),
        app: MemoryResources::new("app", live.clone()),
        mailer: mailer.clone(),
        billing: MemoryBilling,
    };
    let plane = ControlPlane {
        store: MemoryTenants::default(),
        audit: MemoryAudit::default(),
        steps,
        clock: clock.clone(),
        catalog: MeterCatalog::defaults(),
        retry: RetryPolicy::ONBOARDING,
    };
    World {
        plane,
        live,
        mailer,
        clock,
    }
}

fn request(id: &str) -> NewTenant {
    serde_json::from_value(serde_json::json!({
        "tenant_id": id, "name": "Acme", "tier": "standard", "admin_email": "ops@acme.example"
    }))
    .expect("a request")
}

fn id(text: &str) -> TenantId {
    TenantId::parse(text).expect("an id")
}

fn live(world: &World) -> Vec<String> {
    world.live.lock().expect("live").iter().cloned().collect()
}

#[tokio::test]
async fn given_working_ports_when_onboarded_then_every_step_ran_and_the_tenant_is_active() {
    let world = world();
    world
        .plane
        .create(request("acme"), "admin", None)
        .await
        .expect("created");
    let tenant = world
        .plane
        .onboard(&id("acme"), "admin")
        .await
        .expect("onboarded");
    assert_eq!(tenant.status, Status::Active);
    assert_eq!(
        live(&world),
        ["app/acme", "auth/acme", "database/acme", "storage/acme"]
    );
    assert_eq!(tenant.resources["database.id"], "database/acme");
    assert!(tenant.resources.contains_key("welcome_email"));
    let sent = world.mailer.sent.lock().expect("sent").clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "ops@acme.example");
    let actions: Vec<String> = world
        .plane
        .audit_log(&id("acme"))
        .await
        .expect("audit")
        .into_iter()
        .map(|entry| entry.action)
        .collect();
    assert_eq!(actions.first().map(String::as_str), Some("create"));
    assert_eq!(
        actions.last().map(String::as_str),
        Some("onboarding.finish")
    );
    assert!(actions.contains(&"step.configure_auth".to_owned()));
}

#[tokio::test]
async fn given_transient_failures_when_onboarded_then_the_step_is_retried_with_backoff() {
    let world = world();
    world
        .plane
        .steps
        .database
        .failures
        .lock()
        .expect("f")
        .extend([Failure::Transient, Failure::Transient]);
    world
        .plane
        .create(request("acme"), "admin", None)
        .await
        .expect("created");
    let tenant = world
        .plane
        .onboard(&id("acme"), "admin")
        .await
        .expect("onboarded");
    assert_eq!(tenant.status, Status::Active);
    assert_eq!(*world.clock.sleeps.lock().expect("sleeps"), vec![2, 4]);
}

#[tokio::test]
async fn given_a_step_failing_for_good_when_onboarded_then_nothing_is_left_and_the_reason_is_kept()
{
    let world = world();
    world
        .plane
        .steps
        .auth
        .failures
        .lock()
        .expect("f")
        .push(Failure::PermanentAfterCreating);
    world
        .plane
        .create(request("acme"), "admin", None)
        .await
        .expect("created");
    let tenant = world
        .plane
        .onboard(&id("acme"), "admin")
        .await
        .expect("ran");
    assert_eq!(tenant.status, Status::Failed);
    let reason = tenant.status_reason.clone().expect("a reason");
    assert!(
        reason.starts_with("ConfigureAuth failed: auth refused"),
        "{reason}"
    );
    assert!(live(&world).is_empty(), "left behind: {:?}", live(&world));
    assert!(tenant.resources.is_empty(), "{:?}", tenant.resources);
    assert!(world.mailer.sent.lock().expect("sent").is_empty());
    // A failed tenant may be onboarded again once the cause is fixed.
    let tenant = world
        .plane
        .onboard(&id("acme"), "admin")
        .await
        .expect("ran");
    assert_eq!(tenant.status, Status::Active);
}

#[tokio::test]
async fn given_retries_exhausted_when_onboarded_then_it_fails_after_four_attempts() {
    let world = world();
    world
        .plane
        .steps
        .storage
        .failures
        .lock()
        .expect("f")
        .extend([Failure::Transient; 4]);
    world
        .plane
        .create(request("acme"), "admin", None)
        .await
        .expect("created");
    let tenant = world
        .plane
        .onboard(&id("acme"), "admin")
        .await
        .expect("ran");
    assert_eq!(tenant.status, Status::Failed);
    assert_eq!(*world.clock.sleeps.lock().expect("sleeps"), vec![2, 4, 8]);
    assert!(live(&world).is_empty());
}

#[tokio::test]
async fn given_an_active_tenant_when_offboarded_then_resources_go_and_a_final_invoice_is_issued() {
    let world = world();
    world
        .plane
        .create(request("acme"), "admin", None)
        .await
        .expect("created");
    world
        .plane
        .onboard(&id("acme"), "admin")
        .await
        .expect("onboarded");
    let tenant = world
        .plane
        .offboard(&id("acme"), "admin")
        .await
        .expect("offboarded");
    assert_eq!(tenant.status, Status::Offboarded);
    assert!(live(&world).is_empty());
    assert_eq!(tenant.resources["final_invoice"], "final-acme");
    let sent = world.mailer.sent.lock().expect("sent").clone();
    assert_eq!(sent.len(), 2);
    assert!(sent[1].body.contains("final-acme"));
    let error = world
        .plane
        .update(&id("acme"), TenantPatch::default(), "admin")
        .await;
    assert!(matches!(error, Err(Error::Conflict { .. })));
}

#[tokio::test]
async fn given_lifecycle_rules_then_suspend_and_activate_move_only_where_allowed() {
    let world = world();
    world
        .plane
        .create(request("acme"), "admin", None)
        .await
        .expect("created");
    let early = world.plane.suspend(&id("acme"), "unpaid", "admin").await;
    assert!(
        matches!(early, Err(Error::Conflict { .. })),
        "pending cannot be suspended"
    );
    world
        .plane
        .onboard(&id("acme"), "admin")
        .await
        .expect("onboarded");
    let tenant = world
        .plane
        .suspend(&id("acme"), "unpaid", "admin")
        .await
        .expect("suspended");
    assert_eq!(
        (tenant.status, tenant.status_reason.as_deref()),
        (Status::Suspended, Some("unpaid"))
    );
    let tenant = world
        .plane
        .activate(&id("acme"), "admin")
        .await
        .expect("activated");
    assert_eq!(tenant.status, Status::Active);
    assert!(matches!(
        world.plane.activate(&id("acme"), "admin").await,
        Err(Error::Conflict { .. })
    ));
}

#[tokio::test]
async fn given_an_idempotency_key_then_a_repeat_returns_the_tenant_and_another_body_conflicts() {
    let world = world();
    let (_, created) = world
        .plane
        .create(request("acme"), "a", Some(("key-1", "f1")))
        .await
        .expect("first");
    let (tenant, again) = world
        .plane
        .create(request("acme"), "a", Some(("key-1", "f1")))
        .await
        .expect("repeat");
    assert!(created && !again);
    assert_eq!(tenant.tenant_id.as_str(), "acme");
    let other = world
        .plane
        .create(request("other"), "a", Some(("key-1", "f2")))
        .await;
    assert!(matches!(other, Err(Error::Conflict { .. })));
    assert!(matches!(
        world.plane.create(request("acme"), "a", None).await,
        Err(Error::Conflict { .. })
    ));
}

#[tokio::test]
async fn given_many_tenants_then_pages_cover_them_once_in_order() {
    let world = world();
    for index in 0..45 {
        world
            .plane
            .create(request(&format!("t{index:02}")), "a", None)
            .await
            .expect("created");
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = world.plane.list(after.as_ref(), 20).await.expect("page");
        seen.extend(
            page.tenants
                .iter()
                .map(|tenant| tenant.tenant_id.to_string()),
        );
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let expected: Vec<String> = (0..45).map(|index| format!("t{index:02}")).collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn given_a_stale_version_when_updating_then_the_write_is_refused_and_nothing_changes() {
    let world = world();
    let (tenant, _) = world
        .plane
        .create(request("acme"), "a", None)
        .await
        .expect("created");
    let rename = |name: &str| TenantPatch {
        name: Some(name.to_owned()),
        ..TenantPatch::default()
    };
    let moved = world
        .plane
        .update_if(&id("acme"), rename("First"), Some(tenant.version), "a")
        .await
        .expect("at the version read");
    let stale = world
        .plane
        .update_if(&id("acme"), rename("Second"), Some(tenant.version), "a")
        .await;
    assert!(
        matches!(stale, Err(Error::VersionMismatch { current, .. }) if current == moved.version)
    );
    assert_eq!(
        world.plane.get(&id("acme")).await.expect("stored").name,
        "First"
    );
}
