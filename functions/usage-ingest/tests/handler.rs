//! The handler against an API Gateway v2 request fixture, with a fake stream: a mixed batch is
//! answered per event (207), only valid events reach the stream keyed by tenant, a record the
//! stream keeps refusing is reported as failed, and bodies that are not events or are over a
//! limit are refused whole with problem+json.

use std::path::Path;
use std::sync::Mutex;

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderValue, Method};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tally_producer::batch::MAX_ATTEMPTS;
use tally_producer::{AsyncRecordSink, CallOutcome, Producer, Record};
use usage_ingest::{
    EventStatus, IngestResponse, MAX_BODY_BYTES, MAX_EVENTS_PER_REQUEST, Settings, env, handle,
    load_catalog,
};

const MIXED: &str = include_str!("fixtures/post-events-mixed.json");

/// The tenant whose records the fake stream always refuses.
const THROTTLED_TENANT: &str = "tenant_throttled";

/// A stream that keeps every record it accepts and refuses the throttled tenant's, counting
/// every record it was offered.
#[derive(Default)]
struct FakeStream {
    accepted: Mutex<Vec<Record>>,
    offered: Mutex<Vec<String>>,
}

impl AsyncRecordSink for FakeStream {
    async fn put_records(&self, records: &[&Record]) -> CallOutcome {
        let mut accepted = self.accepted.lock().unwrap();
        let mut offered = self.offered.lock().unwrap();
        Ok(records
            .iter()
            .map(|record| {
                offered.push(record.partition_key.clone());
                if record.partition_key == THROTTLED_TENANT {
                    return Err("ProvisionedThroughputExceededException: Rate exceeded".into());
                }
                accepted.push((*record).clone());
                Ok(())
            })
            .collect())
    }
}

fn mixed_request() -> ApiGatewayV2httpRequest {
    serde_json::from_str(MIXED).expect("the fixture is an API Gateway v2 request")
}

fn request_with(body: &str, content_type: &str) -> ApiGatewayV2httpRequest {
    let mut request = mixed_request();
    request.body = Some(body.to_owned());
    request
        .headers
        .insert("content-type", HeaderValue::from_str(content_type).unwrap());
    request
}

fn body_text(response: &ApiGatewayV2httpResponse) -> &str {
    match &response.body {
        Some(Body::Text(text)) => text,
        other => panic!("expected a text body, got {other:?}"),
    }
}

fn content_type(response: &ApiGatewayV2httpResponse) -> &str {
    response.headers["content-type"].to_str().unwrap()
}

fn answer(response: &ApiGatewayV2httpResponse) -> IngestResponse {
    assert_eq!(content_type(response), "application/json");
    serde_json::from_str(body_text(response)).unwrap()
}

/// The problem document, after checking the status and media type.
fn problem(response: &ApiGatewayV2httpResponse, status: i64) -> serde_json::Value {
    assert_eq!(response.status_code, status, "{}", body_text(response));
    assert_eq!(content_type(response), "application/problem+json");
    let problem: serde_json::Value = serde_json::from_str(body_text(response)).unwrap();
    assert_eq!(problem["status"], status);
    assert!(problem["title"].is_string() && problem["detail"].is_string());
    problem
}

fn event_line(tenant: &str, id: usize) -> String {
    format!(
        r#"{{"tenant_id":"{tenant}","metric":"api_calls","timestamp":"2026-11-26T14:02:03Z","event_id":"e-{id}"}}"#
    )
}

#[tokio::test(start_paused = true)]
async fn a_mixed_batch_is_answered_per_event_with_207() {
    // GIVEN the fixture: eight events, three valid and sendable, four refused by the contract,
    // one valid for a tenant the stream refuses
    let producer = Producer::with_sink(FakeStream::default());
    // WHEN it is handled
    let handled = handle(&producer, &mixed_request()).await;
    // THEN the answer is 207 with one result per index
    assert_eq!(handled.response.status_code, 207);
    let answer = answer(&handled.response);
    let statuses: Vec<(usize, EventStatus, Option<&str>)> = answer
        .results
        .iter()
        .map(|result| (result.index, result.status, result.reason.as_deref()))
        .collect();
    assert_eq!(
        statuses,
        [
            (0, EventStatus::Accepted, None),
            (1, EventStatus::Refused, Some("unknown_metric")),
            (2, EventStatus::Accepted, None),
            (3, EventStatus::Refused, Some("bad_tenant_id")),
            (4, EventStatus::Failed, Some("not_sent")),
            (5, EventStatus::Refused, Some("invalid_json")),
            (6, EventStatus::Refused, Some("missing_field")),
            (7, EventStatus::Accepted, None),
        ]
    );
    assert_eq!((answer.accepted, answer.refused, answer.failed), (3, 4, 1));
    // AND every refusal says what is wrong
    for result in &answer.results {
        assert_eq!(
            result.detail.is_some(),
            result.status != EventStatus::Accepted
        );
    }
    assert!(
        answer.results[1]
            .detail
            .as_deref()
            .unwrap()
            .contains("api_callz")
    );
    // AND the log line counts the reasons
    let log: serde_json::Value = serde_json::from_str(&handled.log_line).unwrap();
    assert_eq!(log["request_id"], "Fq3xJhVpDoEEJ2Q=");
    assert_eq!(log["reasons"]["unknown_metric"], 1);
    assert_eq!(log["failed"], 1);
}

#[tokio::test(start_paused = true)]
async fn only_valid_events_reach_the_stream_keyed_by_tenant_and_unchanged() {
    let producer = Producer::with_sink(FakeStream::default());
    let request = mixed_request();
    let _ = handle(&producer, &request).await;
    let accepted = producer.sink().accepted.lock().unwrap();
    let keys: Vec<&str> = accepted
        .iter()
        .map(|record| record.partition_key.as_str())
        .collect();
    assert_eq!(keys, ["tenant_a", "tenant_b", "tenant_c"]);
    // The records are the items as the caller wrote them.
    let items: Vec<serde_json::Value> =
        serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
    let sent: Vec<serde_json::Value> = accepted
        .iter()
        .map(|record| serde_json::from_slice(&record.data).unwrap())
        .collect();
    assert_eq!(sent, [items[0].clone(), items[2].clone(), items[7].clone()]);
    assert!(
        accepted[0]
            .data
            .starts_with(br#"{"tenant_id":"tenant_a","metric":"api_calls""#)
    );
}

#[tokio::test(start_paused = true)]
async fn a_record_the_stream_refuses_after_every_retry_is_reported_failed() {
    let producer = Producer::with_sink(FakeStream::default());
    let handled = handle(&producer, &mixed_request()).await;
    let answer = answer(&handled.response);
    let failed = &answer.results[4];
    assert_eq!(failed.status, EventStatus::Failed);
    let detail = failed.detail.as_deref().unwrap();
    assert!(
        detail.contains("ProvisionedThroughputExceededException"),
        "{detail}"
    );
    // It was offered once per attempt, the others once.
    let offered = producer.sink().offered.lock().unwrap();
    let throttled = offered
        .iter()
        .filter(|key| *key == THROTTLED_TENANT)
        .count();
    assert_eq!(throttled as u32, MAX_ATTEMPTS);
    assert_eq!(offered.len() - throttled, 3);
}

#[tokio::test]
async fn an_ndjson_body_base64_encoded_is_accepted_whole_with_200() {
    // GIVEN NDJSON with a blank line, base64-encoded as API Gateway does for binary types
    let ndjson = format!(
        "{}\n\n{}\n",
        event_line("tenant_a", 1),
        event_line("tenant_b", 2)
    );
    let mut request = request_with(&STANDARD.encode(&ndjson), "application/x-ndjson");
    request.is_base64_encoded = true;
    let producer = Producer::with_sink(FakeStream::default());
    let handled = handle(&producer, &request).await;
    assert_eq!(handled.response.status_code, 200);
    let answer = answer(&handled.response);
    // THEN indices are lines
    let indices: Vec<usize> = answer.results.iter().map(|result| result.index).collect();
    assert_eq!(indices, [0, 2]);
    assert_eq!((answer.accepted, answer.refused, answer.failed), (2, 0, 0));
    assert_eq!(producer.sink().accepted.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_single_event_object_is_accepted() {
    let request = request_with(&event_line("tenant_a", 1), "application/json");
    let producer = Producer::with_sink(FakeStream::default());
    let handled = handle(&producer, &request).await;
    assert_eq!(handled.response.status_code, 200);
    assert_eq!(answer(&handled.response).accepted, 1);
}

#[tokio::test]
async fn a_body_that_is_not_json_gets_400_problem_json() {
    let producer = Producer::with_sink(FakeStream::default());
    for body in [
        "tenant_a,api_calls,1",
        "",
        "[{\"tenant_id\": \"tenant_a\"},",
    ] {
        let handled = handle(&producer, &request_with(body, "application/json")).await;
        let problem = problem(&handled.response, 400);
        assert!(["not_json", "no_events"].contains(&problem["reason"].as_str().unwrap()));
    }
    assert!(producer.sink().offered.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_body_over_a_limit_is_refused_whole() {
    let producer = Producer::with_sink(FakeStream::default());
    // GIVEN a body one byte over the limit
    let padding = " ".repeat(MAX_BODY_BYTES + 1 - 2);
    let handled = handle(
        &producer,
        &request_with(&format!("[{padding}]"), "application/json"),
    )
    .await;
    assert_eq!(problem(&handled.response, 413)["reason"], "body_too_large");
    // GIVEN one event more than the limit, each valid
    let lines: Vec<String> = (0..=MAX_EVENTS_PER_REQUEST)
        .map(|id| event_line("tenant_a", id))
        .collect();
    let request = request_with(&lines.join("\n"), "application/x-ndjson");
    let handled = handle(&producer, &request).await;
    assert_eq!(problem(&handled.response, 413)["reason"], "too_many_events");
    // THEN nothing was sent
    assert!(producer.sink().offered.lock().unwrap().is_empty());
    // AND exactly the limit is fine
    let request = request_with(&lines[1..].join("\n"), "application/x-ndjson");
    let handled = handle(&producer, &request).await;
    assert_eq!(handled.response.status_code, 200);
}

#[tokio::test]
async fn other_methods_and_compressed_bodies_are_refused() {
    let producer = Producer::with_sink(FakeStream::default());
    let mut request = mixed_request();
    request.request_context.http.method = Method::GET;
    let handled = handle(&producer, &request).await;
    problem(&handled.response, 405);
    assert_eq!(handled.response.headers["allow"], "POST");
    let mut request = mixed_request();
    request
        .headers
        .insert("content-encoding", HeaderValue::from_static("gzip"));
    problem(&handle(&producer, &request).await.response, 415);
}

#[tokio::test]
async fn operator_meters_come_from_the_meters_file() {
    // GIVEN the settings naming the shared meters fixture
    let meters = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/meters.toml");
    let settings = Settings::from_env(|name| {
        (name == env::TALLY_METERS_FILE).then(|| meters.display().to_string())
    });
    assert_eq!(settings.stream, "usage-metering");
    let catalog = load_catalog(settings.meters_file.as_deref()).unwrap();
    let body = r#"{"tenant_id":"tenant_a","metric":"deploys","timestamp":"2026-11-26T14:02:03Z"}"#;
    // WHEN an event names an operator meter
    let producer = Producer::with_sink(FakeStream::default()).with_catalog(catalog);
    let handled = handle(&producer, &request_with(body, "application/json")).await;
    // THEN it is accepted
    assert_eq!(handled.response.status_code, 200);
    // AND a missing file is an error naming it
    let error = load_catalog(Some(Path::new("/nonexistent/meters.toml"))).unwrap_err();
    assert!(error.to_string().contains("/nonexistent/meters.toml"));
}

#[test]
fn the_environment_names_are_the_runtimes() {
    assert_eq!(
        env::TALLY_STREAM_NAME,
        tally_runtime::env::TALLY_STREAM_NAME
    );
    assert_eq!(
        env::TALLY_METERS_FILE,
        tally_runtime::env::TALLY_METERS_FILE
    );
}
