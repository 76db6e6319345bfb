use super::*;

fn parse(text: &str) -> Result<UsageEvent, Rejection> {
    parse_event(text.as_bytes(), &MeterCatalog::defaults())
}

fn reason(text: &str) -> RejectReason {
    match parse(text) {
        Ok(event) => panic!("{text} was accepted as {event:?}"),
        Err(rejection) => rejection.reason,
    }
}

#[test]
fn the_design_example_parses_exactly() {
    let event = parse(
        r#"{"tenant_id":"tenant_123","metric":"api_calls","value":1,
            "timestamp":"2026-11-26T14:02:03.123456","event_id":"req-7f3a",
            "dimensions":{"user_id":"u-42"},"extra":{"ignored":true}}"#,
    )
    .unwrap();
    assert_eq!(event.tenant_id.as_str(), "tenant_123");
    assert_eq!(event.metric, "api_calls");
    assert_eq!(event.value, Decimal::ONE);
    assert_eq!(event.event_time.to_string(), "2026-11-26T14:02:03.123Z");
    assert_eq!(event.identity, Identity::EventId("req-7f3a".into()));
    assert_eq!(
        event.dimensions.get("user_id").map(String::as_str),
        Some("u-42")
    );
}

#[test]
fn values_are_exact_decimals_from_numbers_and_strings() {
    let value = |raw: &str| {
        parse(&format!(
            r#"{{"tenant_id":"t","metric":"cpu_hours","value":{raw},"timestamp":"2026-11-26T00:00:00Z"}}"#
        ))
        .map(|event| event.value.to_string())
    };
    assert_eq!(value("0.1").unwrap(), "0.1");
    assert_eq!(value("\"0.123456789\"").unwrap(), "0.123456789");
    assert_eq!(value("1e3").unwrap(), "1000");
    assert_eq!(value("2.50").unwrap(), "2.5");
    assert_eq!(value("1000000000000").unwrap(), "1000000000000");
    assert_eq!(value("-0").unwrap(), "0");
    assert_eq!(value("\"0.1234567890\"").unwrap(), "0.123456789");
    for bad in [
        "-1",
        "1000000000000.5",
        "0.0000000001",
        "\"NaN\"",
        "\"inf\"",
        "\"1_000\"",
        "\"+5\"",
        "true",
        "[1]",
        "\"\"",
        "\" 1\"",
        "1e400",
    ] {
        let rejection = value(bad).unwrap_err();
        assert_eq!(
            rejection.reason,
            RejectReason::InvalidValue,
            "{bad}: {rejection:?}"
        );
    }
}

#[test]
fn value_defaults_to_one_only_for_counting_meters() {
    let api = parse(r#"{"tenant_id":"t","metric":"api_calls","timestamp":"2026-11-26T00:00:00Z"}"#);
    assert_eq!(api.unwrap().value, Decimal::ONE);
    let cpu = parse(r#"{"tenant_id":"t","metric":"cpu_hours","timestamp":"2026-11-26T00:00:00Z"}"#);
    assert_eq!(cpu.unwrap_err().reason, RejectReason::MissingField);
}

#[test]
fn cloud_events_map_onto_the_v1_fields() {
    let event = parse(
        r#"{"specversion":"1.0","id":"e-1","source":"/billing/api","type":"storage_gb",
            "subject":"acme","time":"2026-11-26T14:00:00+01:00",
            "data":{"value":"12.5","region":"eu","count":3}}"#,
    )
    .unwrap();
    assert_eq!(event.tenant_id.as_str(), "acme");
    assert_eq!(event.metric, "storage_gb");
    assert_eq!(event.value.to_string(), "12.5");
    assert_eq!(event.event_time.to_string(), "2026-11-26T13:00:00Z");
    assert_eq!(
        event.identity,
        Identity::CloudEvent {
            source: "/billing/api".into(),
            id: "e-1".into()
        }
    );
    assert_eq!(event.event_id(), Some("e-1"));
    assert_eq!(
        event.dimensions.len(),
        1,
        "only string members of data become dimensions"
    );
}

#[test]
fn every_rejection_reason_is_reachable() {
    let ok = r#""metric":"api_calls","timestamp":"2026-11-26T00:00:00Z""#;
    let cases = [
        ("not json", RejectReason::InvalidJson),
        ("[1,2]", RejectReason::InvalidJson),
        (
            r#"{"tenant_id":"a","tenant_id":"b","metric":"api_calls"}"#,
            RejectReason::InvalidJson,
        ),
        (&format!(r#"{{{ok}}}"#), RejectReason::MissingField),
        (
            &format!(r#"{{"tenant_id":"../etc",{ok}}}"#),
            RejectReason::BadTenantId,
        ),
        (
            &format!(r#"{{"tenant_id":7,{ok}}}"#),
            RejectReason::BadTenantId,
        ),
        (
            r#"{"tenant_id":"t","metric":"gpu","timestamp":"2026-11-26T00:00:00Z"}"#,
            RejectReason::UnknownMetric,
        ),
        (
            r#"{"tenant_id":"t","metric":"api_calls","value":-3,"timestamp":"2026-11-26T00:00:00Z"}"#,
            RejectReason::InvalidValue,
        ),
        (
            r#"{"tenant_id":"t","metric":"api_calls","timestamp":"yesterday"}"#,
            RejectReason::InvalidTimestamp,
        ),
        (
            r#"{"tenant_id":"t","metric":"api_calls","timestamp":1764115200}"#,
            RejectReason::InvalidTimestamp,
        ),
        (
            r#"{"tenant_id":"t","metric":"active_users","timestamp":"2026-11-26T00:00:00Z"}"#,
            RejectReason::MissingUserId,
        ),
        (
            &format!(r#"{{"tenant_id":"t",{ok},"event_id":""}}"#),
            RejectReason::BadEventId,
        ),
        (
            &format!(r#"{{"tenant_id":"t",{ok},"event_id":"tab\there"}}"#),
            RejectReason::BadEventId,
        ),
        (
            &format!(r#"{{"tenant_id":"t",{ok},"dimensions":{{"a":1}}}}"#),
            RejectReason::BadDimension,
        ),
        (
            &format!(r#"{{"tenant_id":"t",{ok},"dimensions":["a"]}}"#),
            RejectReason::BadDimension,
        ),
        (
            &format!(r#"{{"tenant_id":"t",{ok},"dimensions":{{"a":"1","a":"2"}}}}"#),
            RejectReason::BadDimension,
        ),
        (
            r#"{"specversion":"0.3","id":"1","source":"s","type":"api_calls","subject":"t","time":"2026-11-26T00:00:00Z"}"#,
            RejectReason::BadCloudEvent,
        ),
        (
            r#"{"specversion":"1.0","source":"s","type":"api_calls","subject":"t","time":"2026-11-26T00:00:00Z"}"#,
            RejectReason::MissingField,
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(reason(text), expected, "{text}");
    }
    let many: Vec<String> = (0..17).map(|index| format!(r#""k{index}":"v""#)).collect();
    let text = format!(
        r#"{{"tenant_id":"t",{ok},"dimensions":{{{}}}}}"#,
        many.join(",")
    );
    assert_eq!(reason(&text), RejectReason::TooManyDimensions);
    let huge = format!(
        r#"{{"tenant_id":"t",{ok},"pad":"{}"}}"#,
        "x".repeat(MAX_EVENT_BYTES)
    );
    assert_eq!(reason(&huge), RejectReason::TooLarge);
    let long_value = format!(
        r#"{{"tenant_id":"t",{ok},"dimensions":{{"a":"{}"}}}}"#,
        "x".repeat(257)
    );
    assert_eq!(reason(&long_value), RejectReason::BadDimension);
}

#[test]
fn rejections_explain_what_to_fix() {
    let rejection = parse(
        r#"{"tenant_id":"t","metric":"api_calls","value":-3,"timestamp":"2026-11-26T00:00:00Z"}"#,
    )
    .unwrap_err();
    assert_eq!(rejection.detail, "value -3 is negative");
    let rejection = parse(r#"{"tenant_id":"t","metric":"gpu","timestamp":"x"}"#).unwrap_err();
    assert!(
        rejection.detail.contains("known meters: api_calls"),
        "{}",
        rejection.detail
    );
    let rejection = parse("{").unwrap_err();
    assert!(
        !rejection.detail.contains("WireEvent"),
        "{}",
        rejection.detail
    );
}

#[test]
fn unique_count_operator_meters_need_their_dimension() {
    let catalog = MeterCatalog::with_operator_meters(
        "[[meters]]\nname = \"devices\"\naggregation = \"unique_count\"\nunit = \"devices\"\ndimension = \"device_id\"",
        "meters.toml",
    )
    .unwrap();
    let text = r#"{"tenant_id":"t","metric":"devices","timestamp":"2026-11-26T00:00:00Z"}"#;
    assert_eq!(
        parse_event(text.as_bytes(), &catalog).unwrap_err().reason,
        RejectReason::MissingDimension
    );
}

#[test]
fn integer_event_ids_are_taken_as_written() {
    let event = parse(
        r#"{"tenant_id":"t","metric":"api_calls","timestamp":"2026-11-26T00:00:00Z","event_id":1234}"#,
    )
    .unwrap();
    assert_eq!(event.event_id(), Some("1234"));
}

#[test]
fn the_published_field_lists_are_the_fields_the_parser_reads() {
    // GIVEN a valid event, WHEN each listed v1 field is given a value of the wrong JSON type,
    // THEN the event is refused: every listed field is read (an unread field would be ignored).
    let valid = serde_json::json!({"tenant_id":"t","metric":"cpu_hours","value":1,"timestamp":"2026-11-26T00:00:00Z","event_id":"e","dimensions":{}});
    assert!(parse(&valid.to_string()).is_ok());
    for field in V1_FIELDS {
        let mut broken = valid.clone();
        broken[field] = serde_json::json!([true]);
        assert!(parse(&broken.to_string()).is_err(), "{field} is not read");
    }
    for field in V1_REQUIRED {
        let mut missing = valid.clone();
        missing.as_object_mut().unwrap().remove(field);
        assert_eq!(
            reason(&missing.to_string()),
            RejectReason::MissingField,
            "{field}"
        );
    }
    let cloud = serde_json::json!({"specversion":"1.0","id":"1","source":"s","type":"cpu_hours","subject":"t","time":"2026-11-26T00:00:00Z","data":{"value":1}});
    assert!(parse(&cloud.to_string()).is_ok());
    for field in CLOUDEVENT_FIELDS {
        let mut broken = cloud.clone();
        broken[field] = serde_json::json!([true]);
        assert!(parse(&broken.to_string()).is_err(), "{field} is not read");
    }
}
