//! The Lambda handler over API Gateway v2 fixtures (`fixtures/apigw/`), with `LambdaEvent {
//! payload, context }`: conversion both ways, base64 bodies, named stages, and the real token
//! verifier of `tally-auth` behind the `Authenticate` port.

use aws_lambda_events::apigw::ApiGatewayV2httpRequest;
use aws_lambda_events::encodings::Body;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_runtime::{Context, LambdaEvent};
use tally_auth::{ADMIN_GROUP, AuthConfig, LocalIssuer, Verifier};
use tenant_management::{Api, HttpRequest, handle, handle_lambda};

use crate::support::*;

const CREATE: &str = include_str!("../../../../fixtures/apigw/admin-create-tenant.json");
const LIST_ON_STAGE: &str =
    include_str!("../../../../fixtures/apigw/admin-list-tenants-named-stage.json");

fn event(fixture: &str) -> LambdaEvent<ApiGatewayV2httpRequest> {
    let payload = serde_json::from_str(fixture).expect("an API Gateway v2 request");
    LambdaEvent {
        payload,
        context: Context::default(),
    }
}

fn body_text(body: &Option<Body>) -> String {
    match body {
        Some(Body::Text(text)) => text.clone(),
        other => panic!("expected a text body, got {other:?}"),
    }
}

#[tokio::test]
async fn given_the_create_fixture_when_invoked_then_201_with_location_and_no_store() {
    let (api, onboarding) = recording_api();
    // WHEN
    let response = handle_lambda(&api, event(CREATE)).await.unwrap();
    // THEN
    assert_eq!(response.status_code, 201, "{}", body_text(&response.body));
    assert_eq!(response.headers["location"], "/admin/tenants/acme-corp");
    assert_eq!(response.headers["cache-control"], "no-store");
    assert_eq!(response.headers["content-type"], "application/json");
    assert!(!response.is_base64_encoded);
    let tenant: serde_json::Value = serde_json::from_str(&body_text(&response.body)).unwrap();
    assert_eq!(
        (tenant["tier"].as_str(), tenant["config"]["region"].as_str()),
        (Some("premium"), Some("eu-west-1"))
    );
    assert_eq!(onboarding.started.lock().unwrap().len(), 1);
    // WHEN API Gateway delivers the same request again (a client retry)
    let replay = handle_lambda(&api, event(CREATE)).await.unwrap();
    // THEN the Idempotency-Key makes it a replay
    assert_eq!(replay.status_code, 200);
}

#[tokio::test]
async fn given_a_base64_body_when_invoked_then_it_is_decoded_and_bad_base64_is_400() {
    let (api, _) = recording_api();
    let mut encoded = event(CREATE);
    let body = encoded.payload.body.take().unwrap();
    encoded.payload.body = Some(STANDARD.encode(body));
    encoded.payload.is_base64_encoded = true;
    assert_eq!(handle_lambda(&api, encoded).await.unwrap().status_code, 201);

    let mut broken = event(CREATE);
    broken.payload.body = Some("not base64!".to_owned());
    broken.payload.is_base64_encoded = true;
    let response = handle_lambda(&api, broken).await.unwrap();
    assert_eq!(response.status_code, 400);
    assert_eq!(response.headers["content-type"], "application/problem+json");
    assert_eq!(response.headers["cache-control"], "no-store");
}

#[tokio::test]
async fn given_a_named_stage_when_invoked_then_the_stage_prefix_is_not_part_of_the_route() {
    let (api, _) = recording_api();
    for index in 0..3 {
        create(&api, &format!("t{index}")).await;
    }
    let response = handle_lambda(&api, event(LIST_ON_STAGE)).await.unwrap();
    assert_eq!(response.status_code, 200, "{}", body_text(&response.body));
    let page: serde_json::Value = serde_json::from_str(&body_text(&response.body)).unwrap();
    assert_eq!(page["next"], "t1");
    assert_eq!(
        response.headers["link"],
        "</admin/tenants?limit=2&after=t1>; rel=\"next\""
    );
}

#[tokio::test]
async fn given_a_hostile_raw_path_when_invoked_then_400_and_nothing_stored() {
    let (api, _) = recording_api();
    for raw_path in [
        "/admin/tenants/..%2F..%2Fetc",
        "/admin/tenants/../../etc/suspend",
        "/admin/tenants/%27%20OR%201%3D1--",
    ] {
        let mut hostile = event(CREATE);
        hostile.payload.raw_path = Some(raw_path.to_owned());
        hostile.payload.request_context.http.method = aws_lambda_events::http::Method::PATCH;
        let response = handle_lambda(&api, hostile).await.unwrap();
        assert_eq!(response.status_code, 400, "{raw_path}");
    }
    assert_eq!(stored(&api).await, 0);
}

#[tokio::test]
async fn given_tokens_of_the_local_issuer_when_the_verifier_authenticates_then_admins_pass() {
    let issuer = LocalIssuer::generate().expect("a signing key");
    let verifier = Verifier::new(issuer.key_set(), AuthConfig::local()).unwrap();
    let (base, _) = recording_api();
    let api = Api {
        control: base.control,
        onboarding: base.onboarding,
        auth: verifier,
    };
    let now_unix_secs = NOW.as_millis() / 1_000;
    let request = |token: &str| {
        HttpRequest::new("GET", "/admin/tenants")
            .with_header("authorization", &format!("Bearer {token}"))
    };
    // WHEN an admin's current token is sent
    let admin_token = issuer.token("carol", &[ADMIN_GROUP], 300, now_unix_secs);
    assert_eq!(handle(&api, request(&admin_token)).await.status, 200);
    // WHEN a non-admin's, an expired one, or none
    let viewer = issuer.token("dave", &["viewers"], 300, now_unix_secs);
    assert_eq!(handle(&api, request(&viewer)).await.status, 403);
    let expired = issuer.token("carol", &[ADMIN_GROUP], 300, now_unix_secs - 3_600);
    let response = handle(&api, request(&expired)).await;
    assert_eq!(response.status, 401);
    assert_eq!(
        response.header("www-authenticate"),
        Some("Bearer realm=\"tally-admin\"")
    );
    assert_eq!(
        handle(&api, HttpRequest::new("GET", "/admin/tenants"))
            .await
            .status,
        401
    );
    // THEN the actor in the audit log is the token's subject
    let create = HttpRequest::new("POST", "/admin/tenants")
        .with_header("authorization", &format!("Bearer {admin_token}"))
        .with_header("content-type", "application/json")
        .with_body(new_tenant("acme"));
    assert_eq!(handle(&api, create).await.status, 201);
    let entries = tally_tenancy::AuditLog::entries(&api.control.audit, &id("acme"))
        .await
        .unwrap();
    assert_eq!(entries[0].actor, "carol");
}
