//! The JSON Schema for producers stays in step with the Rust contract: the same fields, the same
//! required ones, the same limits and the same tenant id and timestamp rules.

use serde_json::Value;
use tally_schemas::event::{
    CLOUDEVENT_FIELDS, MAX_CLOUDEVENT_SOURCE_CHARS, V1_FIELDS, V1_REQUIRED,
};
use tally_schemas::limits::*;
use tally_schemas::tenant::TENANT_ID_PATTERN;

fn schema() -> Value {
    let text = include_str!("../usage-event.v1.schema.json");
    serde_json::from_str(text).expect("the schema is JSON")
}

fn keys(object: &Value) -> Vec<String> {
    let mut keys: Vec<String> = object.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

fn sorted(fields: &[&str]) -> Vec<String> {
    let mut fields: Vec<String> = fields.iter().map(|field| field.to_string()).collect();
    fields.sort();
    fields
}

#[test]
fn the_fields_and_required_fields_match_the_parser() {
    let schema = schema();
    let v1 = &schema["$defs"]["v1"];
    assert_eq!(keys(&v1["properties"]), sorted(&V1_FIELDS));
    let required: Vec<&str> = v1["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| field.as_str().unwrap())
        .collect();
    assert_eq!(sorted(&required), sorted(&V1_REQUIRED));
    assert_eq!(
        keys(&schema["$defs"]["cloudevent"]["properties"]),
        sorted(&CLOUDEVENT_FIELDS)
    );
}

#[test]
fn the_limits_match_the_rust_constants() {
    let defs = &schema()["$defs"];
    assert_eq!(defs["tenant_id"]["maxLength"], MAX_TENANT_ID_CHARS);
    assert_eq!(defs["tenant_id"]["pattern"], TENANT_ID_PATTERN);
    assert_eq!(defs["dimensions"]["maxProperties"], MAX_DIMENSIONS);
    assert_eq!(
        defs["dimensions"]["propertyNames"]["maxLength"],
        MAX_DIMENSION_KEY_CHARS
    );
    assert_eq!(
        defs["dimensions"]["additionalProperties"]["maxLength"],
        MAX_DIMENSION_VALUE_CHARS
    );
    assert_eq!(defs["id"]["oneOf"][0]["maxLength"], MAX_EVENT_ID_CHARS);
    assert_eq!(
        defs["cloudevent"]["properties"]["source"]["maxLength"],
        MAX_CLOUDEVENT_SOURCE_CHARS
    );
    assert_eq!(defs["value"]["oneOf"][0]["maximum"], MAX_VALUE);
    let metric_pattern = defs["metric"]["pattern"].as_str().unwrap();
    assert!(metric_pattern.ends_with(&format!("{{0,{}}}$", MAX_METRIC_NAME_CHARS - 1)));
}

#[test]
fn the_default_meters_are_the_documented_examples() {
    let examples = schema()["$defs"]["metric"]["examples"].clone();
    let names: Vec<Value> = tally_schemas::MeterCatalog::defaults()
        .meters()
        .iter()
        .map(|meter| Value::from(meter.name.clone()))
        .collect();
    assert_eq!(examples, Value::from(names));
}
