//! `GET` and `PATCH /admin/tenants/{id}`: the version as `ETag`, `If-Match` preconditions.

use crate::support::*;

#[tokio::test]
async fn given_a_tenant_when_getting_it_then_200_with_its_etag() {
    let (api, _) = recording_api();
    create(&api, "acme").await;
    let response = call(&api, admin("GET", "/admin/tenants/acme")).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("etag"), Some("\"1\""));
    assert_eq!(json(&response)["tenant_id"], "acme");
}

#[tokio::test]
async fn given_no_tenant_when_getting_it_then_404() {
    let (api, _) = recording_api();
    let (status, reason, _) = problem(&call(&api, admin("GET", "/admin/tenants/ghost")).await);
    assert_eq!((status, reason.as_str()), (404, "not_found"));
}

#[tokio::test]
async fn given_no_if_match_when_patching_then_the_change_applies() {
    let (api, _) = recording_api();
    create(&api, "acme").await;
    // WHEN
    let body = r#"{"name":"Acme Corporation","quotas":{"api_calls":"2000000"}}"#;
    let response = call(&api, admin_json("PATCH", "/admin/tenants/acme", body)).await;
    // THEN
    assert_eq!(response.status, 200, "{}", text(&response));
    assert_eq!(response.header("etag"), Some("\"2\""));
    let tenant = json(&response);
    assert_eq!(tenant["name"], "Acme Corporation");
    assert_eq!(tenant["quotas"]["api_calls"], "2000000");
}

#[tokio::test]
async fn given_the_current_etag_when_patching_then_200_and_a_stale_one_then_412() {
    let (api, _) = recording_api();
    create(&api, "acme").await;
    let patch = |etag: &str, name: &str| {
        admin_json(
            "PATCH",
            "/admin/tenants/acme",
            &format!(r#"{{"name":"{name}"}}"#),
        )
        .with_header("If-Match", etag)
    };
    // WHEN the client names the version it read
    let response = call(&api, patch("\"1\"", "First")).await;
    // THEN
    assert_eq!(response.status, 200, "{}", text(&response));
    // WHEN another client still holds version 1
    let stale = call(&api, patch("\"1\"", "Second")).await;
    // THEN it is refused with the current version, and the first change stands
    let (status, reason, _) = problem(&stale);
    assert_eq!((status, reason.as_str()), (412, "version_mismatch"));
    assert_eq!(stale.header("etag"), Some("\"2\""));
    let current = json(&call(&api, admin("GET", "/admin/tenants/acme")).await);
    assert_eq!(current["name"], "First");
    assert_eq!(call(&api, patch("*", "Third")).await.status, 200);
    assert_eq!(problem(&call(&api, patch("W/\"3\"", "Weak")).await).0, 412);
    assert_eq!(problem(&call(&api, patch("3", "Bare")).await).0, 400);
}

#[tokio::test]
async fn given_invalid_patches_when_patching_then_400_naming_the_field() {
    let (api, _) = recording_api();
    create(&api, "acme").await;
    for (body, field) in [
        (r#"{"tier":"premium"}"#, "tier"),
        (r#"{"tenant_id":"other"}"#, "tenant_id"),
        (r#"{"admin_email":"nobody"}"#, "admin_email"),
        (r#"{"quotas":{"bananas":1}}"#, "quotas.bananas"),
        (
            r#"{"config":{"region":"us-east-1","features":["ok","not ok"]}}"#,
            "config.features",
        ),
    ] {
        let response = call(&api, admin_json("PATCH", "/admin/tenants/acme", body)).await;
        let (status, _, named) = problem(&response);
        assert_eq!((status, named.as_deref()), (400, Some(field)), "{body}");
    }
    assert_eq!(
        json(&call(&api, admin("GET", "/admin/tenants/acme")).await)["version"],
        1
    );
}

#[tokio::test]
async fn given_no_tenant_when_patching_then_404() {
    let (api, _) = recording_api();
    let response = call(
        &api,
        admin_json("PATCH", "/admin/tenants/ghost", r#"{"name":"x"}"#),
    )
    .await;
    assert_eq!(problem(&response).0, 404);
}
