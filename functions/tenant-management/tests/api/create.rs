//! `POST /admin/tenants`: creation, derived ids, field errors, idempotency, and onboarding started
//! through the port (recorded, or run in process to `active`).

use std::sync::atomic::Ordering;

use tally_schemas::TenantId;
use tally_tenancy::AuditLog;

use crate::support::*;

#[tokio::test]
async fn given_a_valid_body_when_creating_then_201_with_location_and_onboarding_started() {
    let (api, onboarding) = recording_api();
    // WHEN
    let response = call(
        &api,
        admin_json("POST", "/admin/tenants", &new_tenant("acme")),
    )
    .await;
    // THEN
    assert_eq!(response.status, 201, "{}", text(&response));
    assert_eq!(response.header("location"), Some("/admin/tenants/acme"));
    assert_eq!(response.header("etag"), Some("\"1\""));
    assert_eq!(response.header("content-type"), Some("application/json"));
    let tenant = json(&response);
    assert_eq!(tenant["tenant_id"], "acme");
    assert_eq!(tenant["status"], "pending");
    assert_eq!(tenant["isolation"], "pooled");
    let started = onboarding.started.lock().unwrap().clone();
    assert_eq!(
        started,
        vec![("onboarding", "acme".to_owned(), ADMIN.to_owned())]
    );
}

#[tokio::test]
async fn given_no_tenant_id_when_creating_then_the_id_is_derived_from_the_name() {
    let (api, _) = recording_api();
    let body = r#"{"name":"  Acme Corp. (EU) ","tier":"premium","admin_email":"ops@acme.io"}"#;
    let response = call(&api, admin_json("POST", "/admin/tenants", body)).await;
    assert_eq!(response.status, 201, "{}", text(&response));
    assert_eq!(
        response.header("location"),
        Some("/admin/tenants/acme-corp-eu")
    );
    let tenant = json(&response);
    assert_eq!(
        (tenant["name"].as_str(), tenant["isolation"].as_str()),
        (Some("Acme Corp. (EU)"), Some("siloed"))
    );
    assert_eq!(tenant["plan"], "premium");
}

#[tokio::test]
async fn given_invalid_bodies_when_creating_then_400_names_the_field_and_nothing_is_stored() {
    let (api, onboarding) = recording_api();
    let base = r#""name":"Acme","admin_email":"ops@acme.io""#;
    let cases = [
        (
            format!(r#"{{{base},"tier":"standard","colour":"red"}}"#),
            "colour",
        ),
        (format!(r#"{{{base},"tier":"gold"}}"#), "tier"),
        (
            r#"{"name":"Acme","tier":"standard","admin_email":"ops@@acme"}"#.to_owned(),
            "admin_email",
        ),
        (
            r#"{"name":"Acme","tier":"standard","admin_email":"ops@localhost"}"#.to_owned(),
            "admin_email",
        ),
        (
            format!(r#"{{{base},"tier":"standard","quotas":{{"api_callz":5}}}}"#),
            "quotas.api_callz",
        ),
        (
            format!(r#"{{{base},"tier":"standard","quotas":{{"api_calls":-5}}}}"#),
            "quotas.api_calls",
        ),
        (
            format!(r#"{{{base},"tier":"standard","config":{{"region":"mars"}}}}"#),
            "config.region",
        ),
        (
            format!(r#"{{{base},"tier":"standard","tenant_id":"../etc"}}"#),
            "tenant_id",
        ),
        (
            r#"{"name":"Acme","tier":"standard"}"#.to_owned(),
            "admin_email",
        ),
        (
            r#"{"name":"!!!","tier":"standard","admin_email":"ops@acme.io"}"#.to_owned(),
            "tenant_id",
        ),
        (
            r#"["acme","Acme","standard","ops@acme.io"]"#.to_owned(),
            "body",
        ),
    ];
    for (body, field) in cases {
        // WHEN
        let response = call(&api, admin_json("POST", "/admin/tenants", &body)).await;
        // THEN
        let (status, reason, named) = problem(&response);
        assert_eq!((status, reason.as_str()), (400, "invalid_field"), "{body}");
        assert_eq!(named.as_deref(), Some(field), "{body}");
    }
    assert_eq!(stored(&api).await, 0);
    assert!(onboarding.started.lock().unwrap().is_empty());
}

#[tokio::test]
async fn given_an_idempotency_key_when_the_same_body_is_sent_again_then_200_with_the_same_tenant() {
    let (api, _) = in_process_api();
    let request = || {
        admin_json("POST", "/admin/tenants", &new_tenant("acme"))
            .with_header("Idempotency-Key", "key-1")
    };
    let first = call(&api, request()).await;
    assert_eq!(first.status, 201);
    // WHEN the client repeats the request
    let replay = call(&api, request()).await;
    // THEN it gets the tenant the first request created, and onboarding ran once
    assert_eq!(replay.status, 200, "{}", text(&replay));
    assert_eq!(replay.header("location"), Some("/admin/tenants/acme"));
    assert_eq!(json(&replay), json(&first));
    let entries = api.control.audit.entries(&id("acme")).await.unwrap();
    let starts = entries
        .iter()
        .filter(|entry| entry.action == "onboarding.start")
        .count();
    assert_eq!((starts, entries[0].action.as_str()), (1, "create"));
    assert_eq!(stored(&api).await, 1);
}

#[tokio::test]
async fn given_a_replay_while_onboarding_has_not_begun_then_the_start_is_repeated() {
    // GIVEN a workflow engine that has accepted the start but not yet moved the tenant
    let (api, onboarding) = recording_api();
    let request = || {
        admin_json("POST", "/admin/tenants", &new_tenant("acme"))
            .with_header("Idempotency-Key", "key-1")
    };
    assert_eq!(call(&api, request()).await.status, 201);
    // WHEN the client repeats the request
    assert_eq!(call(&api, request()).await.status, 200);
    // THEN the start is asked again (the port's starts are idempotent per tenant)
    let started = onboarding.started.lock().unwrap().clone();
    assert_eq!(started.len(), 2);
    assert_eq!(started[0], started[1]);
}

#[tokio::test]
async fn given_a_used_idempotency_key_when_another_body_is_sent_then_409() {
    let (api, _) = recording_api();
    let with_key = |body: &str| {
        admin_json("POST", "/admin/tenants", body).with_header("Idempotency-Key", "key-1")
    };
    assert_eq!(call(&api, with_key(&new_tenant("acme"))).await.status, 201);
    // WHEN the same key comes with another tenant
    let response = call(&api, with_key(&new_tenant("globex"))).await;
    // THEN
    assert_eq!(problem(&response).0, 409);
    assert_eq!(stored(&api).await, 1);
}

#[tokio::test]
async fn given_a_malformed_idempotency_key_when_creating_then_400() {
    let (api, _) = recording_api();
    for key in ["", "has space", &"k".repeat(256), "clé"] {
        let request = admin_json("POST", "/admin/tenants", &new_tenant("acme"))
            .with_header("idempotency-key", key);
        let (status, _, field) = problem(&call(&api, request).await);
        assert_eq!(
            (status, field.as_deref()),
            (400, Some("Idempotency-Key")),
            "{key:?}"
        );
    }
    assert_eq!(stored(&api).await, 0);
}

#[tokio::test]
async fn given_a_taken_id_when_creating_then_409() {
    let (api, _) = recording_api();
    create(&api, "acme").await;
    let response = call(
        &api,
        admin_json("POST", "/admin/tenants", &new_tenant("acme")),
    )
    .await;
    assert_eq!(problem(&response).0, 409);
}

#[tokio::test]
async fn given_in_process_onboarding_when_creating_then_the_answer_is_the_active_tenant() {
    let (api, live) = in_process_api();
    // WHEN
    let tenant = create(&api, "acme").await;
    // THEN the whole flow ran before the answer
    assert_eq!(tenant["status"], "active");
    assert_eq!(tenant["resources"]["welcome_email"], "message-1");
    let live = live.lock().unwrap().clone();
    let expected = ["app/acme", "auth/acme", "database/acme", "storage/acme"];
    assert_eq!(live.into_iter().collect::<Vec<_>>(), expected);
    let id = TenantId::parse("acme").unwrap();
    assert_eq!(
        api.control.get(&id).await.unwrap().status,
        tally_tenancy::Status::Active
    );
}

#[tokio::test]
async fn given_the_workflow_cannot_start_when_creating_then_503_and_a_replay_starts_it() {
    let (api, onboarding) = recording_api();
    onboarding.failing.store(true, Ordering::SeqCst);
    let request = || {
        admin_json("POST", "/admin/tenants", &new_tenant("acme"))
            .with_header("Idempotency-Key", "k")
    };
    // WHEN the workflow engine refuses
    let response = call(&api, request()).await;
    // THEN the tenant is stored, the caller is told how to go on, and no internals leak
    let (status, reason, _) = problem(&response);
    assert_eq!((status, reason.as_str()), (503, "workflow_unavailable"));
    assert_eq!(response.header("location"), Some("/admin/tenants/acme"));
    assert!(!text(&response).contains("arn:aws"));
    assert_eq!(stored(&api).await, 1);
    // WHEN the engine is back and the client repeats the request
    onboarding.failing.store(false, Ordering::SeqCst);
    let replay = call(&api, request()).await;
    // THEN the replay starts the onboarding that never started
    assert_eq!(replay.status, 200);
    assert_eq!(onboarding.started.lock().unwrap().len(), 1);
}
