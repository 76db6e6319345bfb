//! Hostile tenant ids in paths: refused with 400 before anything else (auth included), quoted
//! back at most 64 characters, and nothing read, stored or started.

use tally_tenancy::AuditLog;

use crate::support::*;

/// Ids as a path segment: raw, percent-encoded, double-encoded, traversal, quotes, SQL, huge,
/// unicode, control characters.
fn hostile_segments() -> Vec<String> {
    let mut segments: Vec<String> = [
        "..%2Fx",
        "..%252Fx",
        "%2E%2E",
        "..",
        "'",
        "a'b",
        "a\"b",
        "%22%3E%3Cscript%3E",
        "' OR 1=1--",
        "%27%20OR%201%3D1--",
        "tenant;DROP TABLE tenants",
        "t%C3%A9nant",
        "租户",
        "a%00b",
        "a%0Ab",
        "_lead",
        "-lead",
        "%20",
        "",
    ]
    .iter()
    .map(|segment| segment.to_string())
    .collect();
    segments.push("x".repeat(10 * 1024));
    segments.push("a".repeat(65));
    segments
}

#[tokio::test]
async fn given_hostile_ids_on_every_id_route_when_called_then_400_and_nothing_happens() {
    let (api, onboarding) = recording_api();
    create(&api, "victim").await;
    let audit_before = api
        .control
        .audit
        .entries(&id("victim"))
        .await
        .unwrap()
        .len();
    for segment in hostile_segments() {
        for (method, suffix) in [
            ("GET", ""),
            ("PATCH", ""),
            ("DELETE", ""),
            ("POST", "/suspend"),
            ("POST", "/activate"),
            ("POST", "/onboard"),
            ("GET", "/audit"),
            ("GET", "/nonsense/deeper"),
        ] {
            let target = format!("/admin/tenants/{segment}{suffix}");
            let request = admin_json(method, &target, r#"{"reason":"x","name":"y"}"#);
            // WHEN
            let response = call(&api, request).await;
            // THEN
            let (status, reason, field) = problem(&response);
            let label = format!("{method} {}", target.chars().take(60).collect::<String>());
            assert_eq!(
                (status, reason.as_str(), field.as_deref()),
                (400, "invalid_field", Some("tenant_id")),
                "{label}"
            );
            let detail = json(&response)["detail"].as_str().unwrap().to_owned();
            assert!(
                detail.chars().count() < 64 + 120,
                "{label}: echoed {} chars",
                detail.len()
            );
            assert!(!detail.contains('\n') && !detail.contains('\0'), "{label}");
        }
    }
    // THEN nothing was stored, changed or started
    assert_eq!(stored(&api).await, 1);
    assert_eq!(
        api.control
            .audit
            .entries(&id("victim"))
            .await
            .unwrap()
            .len(),
        audit_before
    );
    assert_eq!(onboarding.started.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn given_a_hostile_id_without_a_token_when_called_then_the_id_is_refused_first() {
    let (api, _) = recording_api();
    let request =
        tenant_management::HttpRequest::new("GET", "/admin/tenants/..%2F..%2Fetc%2Fpasswd");
    assert_eq!(problem(&call(&api, request).await).0, 400);
}

#[tokio::test]
async fn given_hostile_after_cursors_when_listing_then_400_naming_after() {
    let (api, _) = recording_api();
    for after in ["..%2Fx", "%27%20OR%201%3D1--", &"x".repeat(10 * 1024)] {
        let response = call(&api, admin("GET", &format!("/admin/tenants?after={after}"))).await;
        let (status, _, field) = problem(&response);
        assert_eq!((status, field.as_deref()), (400, Some("after")));
    }
}
