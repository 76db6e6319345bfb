//! `openapi.json` in step with the code: the same (method, path) pairs as the route table, the
//! bearer security on every operation, exactly the statuses each route can answer, problem+json
//! for every refusal, the request schemas' fields and limits equal to the Rust types', and the
//! document's examples accepted by the router.

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tally_schemas::limits::MAX_TENANT_ID_CHARS;
use tally_schemas::tenant::TENANT_ID_PATTERN;
use tally_tenancy::request::{MAX_EMAIL_CHARS, MAX_FEATURES, MAX_LABEL_CHARS, MAX_NAME_CHARS};
use tally_tenancy::workflow::MAX_PAGE;
use tally_tenancy::{Isolation, NewTenant, Status, TenantConfig, TenantPatch, Tier};
use tenant_management::body::{MAX_REASON_CHARS, SuspendRequest};
use tenant_management::headers::MAX_IDEMPOTENCY_KEY_CHARS;
use tenant_management::{DEFAULT_PAGE, MAX_BODY_BYTES, OPENAPI_JSON, ROUTES, Route};

use crate::support::*;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

fn document() -> Value {
    serde_json::from_str(OPENAPI_JSON).expect("openapi.json is JSON")
}

/// `value`, or what its `$ref` points at.
fn deref<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value["$ref"].as_str() {
        Some(pointer) => document
            .pointer(pointer.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling $ref {pointer}")),
        None => value,
    }
}

fn operation<'a>(document: &'a Value, route: &Route) -> &'a Value {
    &document["paths"][route.path][route.method.to_ascii_lowercase()]
}

fn schema<'a>(document: &'a Value, name: &str) -> &'a Value {
    &document["components"]["schemas"][name]
}

#[test]
fn the_documented_operations_are_exactly_the_route_table() {
    let document = document();
    let mut documented = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                documented.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    let routed: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|route| (route.method.to_owned(), route.path.to_owned()))
        .collect();
    assert_eq!(documented, routed);
    for route in ROUTES {
        assert_eq!(
            operation(&document, route)["operationId"],
            route.operation.id(),
            "{}",
            route.path
        );
    }
}

#[test]
fn every_operation_declares_the_bearer_security() {
    let document = document();
    let scheme = &document["components"]["securitySchemes"]["bearer"];
    assert_eq!(
        (scheme["type"].as_str(), scheme["scheme"].as_str()),
        (Some("http"), Some("bearer"))
    );
    assert_eq!(document["security"], json!([{ "bearer": [] }]));
    for route in ROUTES {
        let security = &operation(&document, route)["security"];
        assert_eq!(
            security,
            &json!([{ "bearer": [] }]),
            "{} {}",
            route.method,
            route.path
        );
    }
}

#[test]
fn every_route_documents_exactly_the_statuses_it_can_answer() {
    let document = document();
    for route in ROUTES {
        let label = format!("{} {}", route.method, route.path);
        let responses = operation(&document, route)["responses"]
            .as_object()
            .unwrap();
        let documented: BTreeSet<u16> =
            responses.keys().map(|code| code.parse().unwrap()).collect();
        let declared: BTreeSet<u16> = route.statuses.iter().copied().collect();
        assert_eq!(documented, declared, "{label}");
        for (code, response) in responses {
            let response = deref(&document, response);
            let media_type = if code.starts_with('2') {
                "application/json"
            } else {
                "application/problem+json"
            };
            assert!(
                response["content"].get(media_type).is_some(),
                "{label} {code} is not {media_type}"
            );
            if media_type == "application/problem+json" {
                let problem = &response["content"][media_type]["schema"]["$ref"];
                assert_eq!(problem, "#/components/schemas/Problem", "{label} {code}");
            }
            assert!(
                response["headers"].get("Cache-Control").is_some(),
                "{label} {code}"
            );
            if code == "401" {
                assert!(
                    response["headers"].get("WWW-Authenticate").is_some(),
                    "{label}"
                );
            }
        }
    }
}

#[test]
fn bodies_and_path_parameters_are_documented_where_the_routes_read_them() {
    let document = document();
    for route in ROUTES {
        let label = format!("{} {}", route.method, route.path);
        let body = &operation(&document, route)["requestBody"];
        assert_eq!(!body.is_null(), route.takes_body, "{label}");
        if route.takes_body {
            assert!(body["content"].get("application/json").is_some(), "{label}");
        }
        if route.path.contains("{id}") {
            let parameters = &document["paths"][route.path]["parameters"];
            assert_eq!(
                parameters[0]["$ref"], "#/components/parameters/TenantId",
                "{label}"
            );
        }
    }
    let tenant_id = &document["components"]["parameters"]["TenantId"];
    assert_eq!(
        (tenant_id["in"].as_str(), tenant_id["name"].as_str()),
        (Some("path"), Some("id"))
    );
}

/// The field names serde accepts for `T`, read from its refusal of an unknown field.
fn serde_fields<T: DeserializeOwned + std::fmt::Debug>() -> BTreeSet<String> {
    let error = serde_json::from_str::<T>(r#"{"~unknown~":0}"#)
        .unwrap_err()
        .to_string();
    let (_, expected) = error
        .split_once("expected")
        .expect("an unknown-field message");
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn documented_fields(document: &Value, name: &str) -> BTreeSet<String> {
    let schema = schema(document, name);
    assert_eq!(
        schema["additionalProperties"], false,
        "{name} must refuse unknown fields"
    );
    schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

#[test]
fn request_schemas_have_the_fields_of_the_rust_types() {
    let document = document();
    assert_eq!(
        documented_fields(&document, "NewTenant"),
        serde_fields::<NewTenant>()
    );
    assert_eq!(
        documented_fields(&document, "TenantPatch"),
        serde_fields::<TenantPatch>()
    );
    assert_eq!(
        documented_fields(&document, "TenantConfig"),
        serde_fields::<TenantConfig>()
    );
    assert_eq!(
        documented_fields(&document, "SuspendRequest"),
        serde_fields::<SuspendRequest>()
    );
}

/// Every variant, listed where a new one fails to compile.
fn enums() -> (Vec<Tier>, Vec<Isolation>, Vec<Status>) {
    let _tier = |tier: Tier| match tier {
        Tier::Standard | Tier::Premium => (),
    };
    let _isolation = |isolation: Isolation| match isolation {
        Isolation::Pooled | Isolation::Siloed => (),
    };
    let _status = |status: Status| match status {
        Status::Pending
        | Status::Provisioning
        | Status::Active
        | Status::Suspended
        | Status::Offboarding
        | Status::Offboarded
        | Status::Failed => (),
    };
    (
        vec![Tier::Standard, Tier::Premium],
        vec![Isolation::Pooled, Isolation::Siloed],
        vec![
            Status::Pending,
            Status::Provisioning,
            Status::Active,
            Status::Suspended,
            Status::Offboarding,
            Status::Offboarded,
            Status::Failed,
        ],
    )
}

#[test]
fn schema_constraints_are_the_codes_limits() {
    let document = document();
    let schemas = &document["components"]["schemas"];
    let parameters = &document["components"]["parameters"];
    assert_eq!(schemas["TenantId"]["pattern"], TENANT_ID_PATTERN);
    assert_eq!(schemas["TenantId"]["maxLength"], MAX_TENANT_ID_CHARS);
    let (tiers, isolations, statuses) = enums();
    assert_eq!(schemas["Tier"]["enum"], json!(tiers));
    assert_eq!(schemas["Isolation"]["enum"], json!(isolations));
    assert_eq!(schemas["Status"]["enum"], json!(statuses));
    for name in ["NewTenant", "TenantPatch"] {
        let properties = &schemas[name]["properties"];
        assert_eq!(properties["name"]["maxLength"], MAX_NAME_CHARS, "{name}");
        assert_eq!(
            properties["admin_email"]["maxLength"], MAX_EMAIL_CHARS,
            "{name}"
        );
        assert_eq!(properties["plan"]["maxLength"], MAX_LABEL_CHARS, "{name}");
    }
    let features = &schemas["TenantConfig"]["properties"]["features"];
    assert_eq!(features["maxItems"], MAX_FEATURES);
    assert_eq!(features["items"]["maxLength"], MAX_LABEL_CHARS);
    assert_eq!(
        schemas["SuspendRequest"]["properties"]["reason"]["maxLength"],
        MAX_REASON_CHARS
    );
    assert_eq!(parameters["Limit"]["schema"]["maximum"], MAX_PAGE);
    assert_eq!(parameters["Limit"]["schema"]["default"], DEFAULT_PAGE);
    assert_eq!(
        parameters["IdempotencyKey"]["schema"]["maxLength"],
        MAX_IDEMPOTENCY_KEY_CHARS
    );
    let too_large = document["components"]["responses"]["ContentTooLarge"]["description"]
        .as_str()
        .unwrap();
    assert!(
        too_large.contains(&MAX_BODY_BYTES.to_string()),
        "{too_large}"
    );
}

#[tokio::test]
async fn the_tenant_schema_describes_what_the_api_returns() {
    let document = document();
    let (api, _) = in_process_api();
    create(&api, "acme").await;
    let response = call(
        &api,
        admin_json("POST", "/admin/tenants/acme/suspend", r#"{"reason":"r"}"#),
    )
    .await;
    let tenant = json(&response);
    let tenant_schema = schema(&document, "Tenant");
    let documented: BTreeSet<&String> = tenant_schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    let returned: BTreeSet<&String> = tenant.as_object().unwrap().keys().collect();
    assert_eq!(documented, returned);
    let required: BTreeSet<&str> = tenant_schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key.as_str().unwrap())
        .collect();
    let optional: BTreeSet<&str> = returned
        .iter()
        .map(|key| key.as_str())
        .filter(|key| !required.contains(key))
        .collect();
    assert_eq!(optional, BTreeSet::from(["status_reason"]));
    let page = json(&call(&api, admin("GET", "/admin/tenants")).await);
    let page_keys: BTreeSet<&String> = page.as_object().unwrap().keys().collect();
    let page_schema: BTreeSet<&String> = schema(&document, "TenantPage")["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(page_keys, page_schema);
}

#[tokio::test]
async fn the_documents_examples_are_accepted() {
    let document = document();
    let (api, _) = in_process_api();
    let example = |path: &str, method: &str| {
        document["paths"][path][method]["requestBody"]["content"]["application/json"]["example"]
            .to_string()
    };
    let created = call(
        &api,
        admin_json("POST", "/admin/tenants", &example("/admin/tenants", "post")),
    )
    .await;
    assert_eq!(created.status, 201, "{}", text(&created));
    let location = created.header("location").unwrap().to_owned();
    let patched = call(
        &api,
        admin_json("PATCH", &location, &example("/admin/tenants/{id}", "patch")),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", text(&patched));
    let suspend = example("/admin/tenants/{id}/suspend", "post");
    let suspended = call(
        &api,
        admin_json("POST", &format!("{location}/suspend"), &suspend),
    )
    .await;
    assert_eq!(suspended.status, 200, "{}", text(&suspended));
}

#[tokio::test]
async fn the_served_document_is_the_file() {
    let (api, _) = recording_api();
    let response = call(&api, admin("GET", "/admin/openapi.json")).await;
    assert_eq!(response.body, OPENAPI_JSON.as_bytes());
}

#[tokio::test]
async fn the_required_fields_of_new_tenant_are_the_ones_the_api_requires() {
    let document = document();
    let example = &document["paths"]["/admin/tenants"]["post"]["requestBody"]["content"]["application/json"]
        ["example"];
    let required: Vec<&str> = schema(&document, "NewTenant")["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    let (api, _) = recording_api();
    for missing in &required {
        let mut body = example.clone();
        body.as_object_mut().unwrap().remove(*missing);
        let response = call(
            &api,
            admin_json("POST", "/admin/tenants", &body.to_string()),
        )
        .await;
        assert_eq!(problem(&response).2.as_deref(), Some(*missing));
    }
    let minimal: serde_json::Map<String, Value> = example
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, _)| required.contains(&name.as_str()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let response = call(
        &api,
        admin_json(
            "POST",
            "/admin/tenants",
            &Value::Object(minimal).to_string(),
        ),
    )
    .await;
    assert_eq!(response.status, 201, "{}", text(&response));
}
