use super::*;

fn request(json: &str) -> std::result::Result<NewTenant, serde_json::Error> {
    serde_json::from_str(json)
}

fn now() -> Timestamp {
    Timestamp::parse("2026-11-26T12:00:00Z").expect("a time")
}

fn build(json: &str) -> Result<Tenant> {
    request(json)
        .expect("parses")
        .into_tenant(&MeterCatalog::defaults(), now())
}

fn field_of(error: Error) -> String {
    match error {
        Error::Invalid { field, .. } => field,
        other => panic!("expected an invalid field, got {other}"),
    }
}

#[test]
fn given_a_full_request_when_built_then_every_field_is_kept_and_it_is_pending() {
    let tenant = build(
        r#"{"tenant_id":"acme","name":"Acme Corp","tier":"premium","admin_email":"ops@acme.example",
            "plan":"growth","config":{"region":"eu-west-1","features":["sso","audit","sso"]},
            "quotas":{"api_calls":"1000000"}}"#,
    )
    .expect("valid");
    assert_eq!(tenant.tenant_id.as_str(), "acme");
    assert_eq!(tenant.isolation, crate::Isolation::Siloed);
    assert_eq!(tenant.status, Status::Pending);
    assert_eq!(tenant.config.features, vec!["audit", "sso"]);
    assert_eq!(tenant.quotas["api_calls"], Decimal::from(1_000_000));
    assert_eq!((tenant.version, tenant.plan.as_str()), (1, "growth"));
}

#[test]
fn given_no_id_when_built_then_it_is_derived_from_the_name() {
    let tenant =
        build(r#"{"name":"  Ünïcode Café & Co. 42 ","tier":"standard","admin_email":"a@b.io"}"#)
            .expect("valid");
    assert_eq!(tenant.tenant_id.as_str(), "n-code-caf-co-42");
    assert_eq!(tenant.plan, "standard");
    assert_eq!(tenant.config.region, DEFAULT_REGION);
    let long = "x".repeat(200);
    let tenant = build(&format!(
        r#"{{"name":"{long}","tier":"standard","admin_email":"a@b.io"}}"#
    ));
    assert_eq!(field_of(tenant.expect_err("name too long")), "name");
    let tenant = build(&format!(
        r#"{{"name":"{}","tier":"standard","admin_email":"a@b.io"}}"#,
        "y".repeat(100)
    ))
    .expect("valid");
    assert_eq!(tenant.tenant_id.as_str().len(), 64);
}

#[test]
fn given_hostile_ids_and_names_then_each_is_refused_naming_the_field() {
    let cases = [
        (
            r#"{"tenant_id":"../x","name":"a","tier":"standard","admin_email":"a@b.io"}"#,
            "tenant_id",
        ),
        (
            r#"{"tenant_id":"a'; drop table tenants;--","name":"a","tier":"standard","admin_email":"a@b.io"}"#,
            "tenant_id",
        ),
        (
            r#"{"tenant_id":"ténant","name":"a","tier":"standard","admin_email":"a@b.io"}"#,
            "tenant_id",
        ),
        (
            r#"{"name":"日本語","tier":"standard","admin_email":"a@b.io"}"#,
            "tenant_id",
        ),
        (
            r#"{"name":"a\u0000b","tier":"standard","admin_email":"a@b.io"}"#,
            "name",
        ),
        (
            r#"{"name":"a","tier":"standard","admin_email":"a@b.io\r\nBcc: x@y.io"}"#,
            "admin_email",
        ),
        (
            r#"{"name":"a","tier":"standard","admin_email":"no-at-sign"}"#,
            "admin_email",
        ),
        (
            r#"{"name":"a","tier":"standard","admin_email":"a@b.io","plan":"../../etc"}"#,
            "plan",
        ),
        (
            r#"{"name":"a","tier":"standard","admin_email":"a@b.io","config":{"region":"us-east-1; rm"}}"#,
            "config.region",
        ),
        (
            r#"{"name":"a","tier":"standard","admin_email":"a@b.io","quotas":{"bogus":"1"}}"#,
            "quotas.bogus",
        ),
        (
            r#"{"name":"a","tier":"standard","admin_email":"a@b.io","quotas":{"api_calls":"-1"}}"#,
            "quotas.api_calls",
        ),
    ];
    for (json, field) in cases {
        let error = build(json).expect_err(json);
        assert_eq!(field_of(error), field, "{json}");
    }
    let huge = "a".repeat(10 * 1024);
    let json =
        format!(r#"{{"tenant_id":"{huge}","name":"a","tier":"standard","admin_email":"a@b.io"}}"#);
    assert_eq!(field_of(build(&json).expect_err("10 KB id")), "tenant_id");
    let json = format!(
        r#"{{"name":"a","tier":"standard","admin_email":"a@b.io","quotas":{{"{huge}":"1"}}}}"#
    );
    assert_eq!(field_of(build(&json).expect_err("10 KB meter")), "quotas");
}

#[test]
fn given_unknown_fields_or_tiers_then_the_body_does_not_parse() {
    assert!(request(r#"{"name":"a","tier":"gold","admin_email":"a@b.io"}"#).is_err());
    assert!(
        request(r#"{"name":"a","tier":"standard","admin_email":"a@b.io","owner":"x"}"#).is_err()
    );
}

#[test]
fn given_a_patch_then_fields_change_the_version_moves_and_the_tier_cannot_change() {
    let tenant =
        build(r#"{"name":"Acme","tier":"standard","admin_email":"a@b.io"}"#).expect("valid");
    let patch: TenantPatch =
        serde_json::from_str(r#"{"name":"Acme Inc","quotas":{"storage_gb":"50"}}"#)
            .expect("parses");
    let next = patch
        .apply(&tenant, &MeterCatalog::defaults(), now())
        .expect("valid");
    assert_eq!((next.name.as_str(), next.version), ("Acme Inc", 2));
    assert_eq!(next.quotas["storage_gb"], Decimal::from(50));
    let patch: TenantPatch = serde_json::from_str(r#"{"tier":"premium"}"#).expect("parses");
    let error = patch
        .apply(&tenant, &MeterCatalog::defaults(), now())
        .expect_err("tier");
    assert_eq!(field_of(error), "tier");
}
