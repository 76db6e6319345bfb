//! Suspend, activate, offboard and onboard again: the lifecycle's refusals are 409s, and
//! offboarding is started through the port.

use crate::support::*;

const REASON: &str = r#"{"reason":"invoices unpaid since 2026-09"}"#;

#[tokio::test]
async fn given_an_active_tenant_when_suspending_and_activating_then_both_apply() {
    let (api, _) = in_process_api();
    create(&api, "acme").await;
    // WHEN
    let suspended = call(
        &api,
        admin_json("POST", "/admin/tenants/acme/suspend", REASON),
    )
    .await;
    // THEN
    assert_eq!(suspended.status, 200, "{}", text(&suspended));
    assert_eq!(json(&suspended)["status"], "suspended");
    assert_eq!(
        json(&suspended)["status_reason"],
        "invoices unpaid since 2026-09"
    );
    // WHEN suspended again
    let again = call(
        &api,
        admin_json("POST", "/admin/tenants/acme/suspend", REASON),
    )
    .await;
    // THEN the lifecycle refuses
    assert_eq!(problem(&again).0, 409);
    // WHEN activated
    let active = call(&api, admin("POST", "/admin/tenants/acme/activate")).await;
    assert_eq!(active.status, 200);
    assert_eq!(json(&active)["status"], "active");
    assert_eq!(
        problem(&call(&api, admin("POST", "/admin/tenants/acme/activate")).await).0,
        409
    );
}

#[tokio::test]
async fn given_a_pending_tenant_when_suspending_or_activating_then_409() {
    let (api, _) = recording_api();
    create(&api, "acme").await;
    let suspend = call(
        &api,
        admin_json("POST", "/admin/tenants/acme/suspend", REASON),
    )
    .await;
    assert_eq!(problem(&suspend).0, 409);
    assert_eq!(
        problem(&call(&api, admin("POST", "/admin/tenants/acme/activate")).await).0,
        409
    );
}

#[tokio::test]
async fn given_bad_reasons_when_suspending_then_400_naming_reason() {
    let (api, _) = in_process_api();
    create(&api, "acme").await;
    let long = format!(r#"{{"reason":"{}"}}"#, "r".repeat(513));
    for body in [
        r#"{"reason":""}"#,
        r#"{"reason":"a\u0007b"}"#,
        long.as_str(),
        "{}",
        r#"{"reason":"x","why":"y"}"#,
    ] {
        let response = call(
            &api,
            admin_json("POST", "/admin/tenants/acme/suspend", body),
        )
        .await;
        let (status, _, field) = problem(&response);
        assert_eq!(status, 400, "{body}");
        assert!(
            matches!(field.as_deref(), Some("reason" | "why")),
            "{body}: {field:?}"
        );
    }
    assert_eq!(
        json(&call(&api, admin("GET", "/admin/tenants/acme")).await)["status"],
        "active"
    );
}

#[tokio::test]
async fn given_a_tenant_when_deleting_then_202_and_offboarding_started() {
    let (api, onboarding) = recording_api();
    create(&api, "acme").await;
    // WHEN
    let response = call(&api, admin("DELETE", "/admin/tenants/acme")).await;
    // THEN
    assert_eq!(response.status, 202, "{}", text(&response));
    let started = onboarding.started.lock().unwrap().clone();
    assert_eq!(
        started[1],
        ("offboarding", "acme".to_owned(), ADMIN.to_owned())
    );
}

#[tokio::test]
async fn given_in_process_offboarding_when_deleting_then_resources_go_and_a_repeat_is_200() {
    let (api, live) = in_process_api();
    create(&api, "acme").await;
    // WHEN
    let response = call(&api, admin("DELETE", "/admin/tenants/acme")).await;
    // THEN
    assert_eq!(response.status, 202);
    let tenant = json(&response);
    assert_eq!(tenant["status"], "offboarded");
    assert_eq!(tenant["resources"]["final_invoice"], "final-acme");
    assert!(live.lock().unwrap().is_empty());
    // WHEN deleted again
    let again = call(&api, admin("DELETE", "/admin/tenants/acme")).await;
    // THEN nothing starts, and the answer is the record
    assert_eq!(again.status, 200);
    assert_eq!(json(&again)["status"], "offboarded");
    let patch = call(
        &api,
        admin_json("PATCH", "/admin/tenants/acme", r#"{"name":"x"}"#),
    )
    .await;
    assert_eq!(problem(&patch).0, 409);
}

#[tokio::test]
async fn given_a_provisioning_tenant_when_deleting_then_409() {
    let (api, onboarding) = recording_api();
    create(&api, "acme").await;
    let acme = id("acme");
    api.control
        .move_to(
            &acme,
            tally_tenancy::Status::Provisioning,
            None,
            "test",
            "onboarding.start",
        )
        .await
        .unwrap();
    assert_eq!(
        problem(&call(&api, admin("DELETE", "/admin/tenants/acme")).await).0,
        409
    );
    assert_eq!(onboarding.started.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn given_a_pending_tenant_when_onboarding_again_then_202_and_an_active_one_409() {
    let (api, onboarding) = recording_api();
    create(&api, "acme").await;
    let response = call(&api, admin("POST", "/admin/tenants/acme/onboard")).await;
    assert_eq!(response.status, 202);
    assert_eq!(onboarding.started.lock().unwrap().len(), 2);

    let (api, _) = in_process_api();
    create(&api, "acme").await;
    assert_eq!(
        problem(&call(&api, admin("POST", "/admin/tenants/acme/onboard")).await).0,
        409
    );
}

#[tokio::test]
async fn given_changes_when_reading_the_audit_log_then_it_names_the_actor() {
    let (api, _) = in_process_api();
    create(&api, "acme").await;
    call(
        &api,
        admin_json("POST", "/admin/tenants/acme/suspend", REASON),
    )
    .await;
    // WHEN
    let response = call(&api, admin("GET", "/admin/tenants/acme/audit")).await;
    // THEN
    assert_eq!(response.status, 200);
    let log = json(&response);
    assert_eq!(log["tenant_id"], "acme");
    let entries = log["entries"].as_array().unwrap();
    let by = |action: &str| {
        entries
            .iter()
            .find(|entry| entry["action"] == action)
            .map(|entry| entry["actor"].clone())
    };
    assert_eq!(by("create"), Some(ADMIN.into()));
    assert_eq!(by("suspend"), Some(ADMIN.into()));
    assert_eq!(by("onboarding.finish"), Some("onboarding".into()));
    assert_eq!(
        problem(&call(&api, admin("GET", "/admin/tenants/ghost/audit")).await).0,
        404
    );
}
