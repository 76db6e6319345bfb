//! What every route shares: bearer auth (401 with the challenge, 403), unknown routes 404, wrong
//! methods 405 with `Allow`, the body limit 413, the media type 415, `no-store` everywhere.

use tenant_management::routes::ROUTES;
use tenant_management::{HttpRequest, MAX_BODY_BYTES};

use crate::support::*;

/// One request per route, with a body where the route takes one.
fn every_route(authorization: Option<&str>) -> Vec<HttpRequest> {
    ROUTES
        .iter()
        .map(|route| {
            let mut request = HttpRequest::new(route.method, &route.path.replace("{id}", "acme"));
            if let Some(value) = authorization {
                request = request.with_header("authorization", value);
            }
            if route.takes_body {
                request = request
                    .with_header("content-type", "application/json")
                    .with_body(new_tenant("acme"));
            }
            request
        })
        .collect()
}

#[tokio::test]
async fn given_no_or_a_bad_token_when_calling_any_route_then_401_with_the_bearer_challenge() {
    let (api, onboarding) = recording_api();
    for authorization in [
        None,
        Some("Bearer forged"),
        Some("Basic YWRtaW46YWRtaW4="),
        Some(""),
    ] {
        for request in every_route(authorization) {
            let label = format!("{} {} {authorization:?}", request.method, request.path);
            // WHEN
            let response = call(&api, request).await;
            // THEN
            let (status, reason, _) = problem(&response);
            assert_eq!((status, reason.as_str()), (401, "unauthorized"), "{label}");
            assert_eq!(
                response.header("www-authenticate"),
                Some("Bearer realm=\"tally-admin\""),
                "{label}"
            );
        }
    }
    assert_eq!(stored(&api).await, 0);
    assert!(onboarding.started.lock().unwrap().is_empty());
}

#[tokio::test]
async fn given_a_non_admin_token_when_calling_any_route_then_403() {
    let (api, _) = recording_api();
    for request in every_route(Some(VIEWER_TOKEN)) {
        let label = format!("{} {}", request.method, request.path);
        let response = call(&api, request).await;
        assert_eq!(problem(&response).0, 403, "{label}");
        assert_eq!(response.header("www-authenticate"), None);
    }
    assert_eq!(stored(&api).await, 0);
}

#[tokio::test]
async fn given_two_authorization_headers_when_calling_then_401() {
    let (api, _) = recording_api();
    let request = admin("GET", "/admin/tenants").with_header("Authorization", VIEWER_TOKEN);
    assert_eq!(problem(&call(&api, request).await).0, 401);
}

#[tokio::test]
async fn given_unknown_paths_when_calling_then_404() {
    let (api, _) = recording_api();
    for path in [
        "/",
        "/admin",
        "/admin/tenant",
        "/v1/events",
        "/admin/tenants/acme/explode",
        "/admin/tenants/acme/audit/x",
    ] {
        let (status, reason, _) = problem(&call(&api, admin("GET", path)).await);
        assert_eq!((status, reason.as_str()), (404, "no_such_route"), "{path}");
    }
}

#[tokio::test]
async fn given_a_known_path_and_a_wrong_method_when_calling_then_405_with_allow() {
    let (api, _) = recording_api();
    for (method, path, allow) in [
        ("PUT", "/admin/tenants", "POST, GET"),
        ("DELETE", "/admin/tenants", "POST, GET"),
        ("POST", "/admin/tenants/acme", "GET, PATCH, DELETE"),
        ("GET", "/admin/tenants/acme/suspend", "POST"),
        ("DELETE", "/admin/tenants/acme/audit", "GET"),
        ("POST", "/admin/openapi.json", "GET"),
        ("get", "/admin/tenants", "POST, GET"),
    ] {
        let response = call(&api, admin(method, path)).await;
        assert_eq!(problem(&response).0, 405, "{method} {path}");
        assert_eq!(response.header("allow"), Some(allow), "{method} {path}");
    }
}

#[tokio::test]
async fn given_a_body_over_the_limit_when_posting_then_413_and_nothing_stored() {
    let (api, _) = recording_api();
    let padding = " ".repeat(MAX_BODY_BYTES);
    for (method, path) in [
        ("POST", "/admin/tenants"),
        ("PATCH", "/admin/tenants/acme"),
        ("POST", "/admin/tenants/acme/suspend"),
    ] {
        let body = format!("{}{padding}", new_tenant("acme"));
        let (status, reason, _) = problem(&call(&api, admin_json(method, path, &body)).await);
        assert_eq!(
            (status, reason.as_str()),
            (413, "body_too_large"),
            "{method} {path}"
        );
    }
    assert_eq!(stored(&api).await, 0);
}

#[tokio::test]
async fn given_a_body_that_is_not_declared_json_when_posting_then_415() {
    let (api, _) = recording_api();
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonx"),
    ] {
        let mut request = admin("POST", "/admin/tenants").with_body(new_tenant("acme"));
        if let Some(value) = content_type {
            request = request.with_header("content-type", value);
        }
        let (status, reason, _) = problem(&call(&api, request).await);
        assert_eq!(
            (status, reason.as_str()),
            (415, "unsupported_media_type"),
            "{content_type:?}"
        );
    }
    let upper = admin("POST", "/admin/tenants")
        .with_header("Content-Type", "Application/JSON; charset=UTF-8")
        .with_body(new_tenant("acme"));
    assert_eq!(call(&api, upper).await.status, 201);
}

#[tokio::test]
async fn given_an_admin_when_fetching_the_openapi_document_then_it_is_served() {
    let (api, _) = recording_api();
    let response = call(&api, admin("GET", "/admin/openapi.json")).await;
    assert_eq!(response.status, 200);
    assert_eq!(json(&response)["openapi"], "3.1.0");
}
