//! The answer to a request whose events were read: one result per event, by index, so a caller
//! knows exactly which events were accepted, which the contract refused and why, and which the
//! stream did not take (those are safe to send again).

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::HeaderValue;
use aws_lambda_events::http::header::CONTENT_TYPE;
use serde::{Deserialize, Serialize};
use tally_producer::{EventOutcome, SendReport, batch::MAX_ATTEMPTS};

use crate::body::BodyEvent;

/// The `reason` of an event the stream did not take after every attempt.
pub const NOT_SENT_REASON: &str = "not_sent";

/// The body of a 200 or 207 response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestResponse {
    /// Events put on the stream.
    pub accepted: usize,
    /// Events the contract refused; not sent.
    pub refused: usize,
    /// Valid events the stream did not take after every attempt; not sent.
    pub failed: usize,
    /// One result per event, in the order of the request.
    pub results: Vec<EventResult>,
}

/// What became of one event of the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventResult {
    /// Its position in the array, or its line (from 0) in NDJSON.
    pub index: usize,
    /// Accepted, refused or failed.
    pub status: EventStatus,
    /// Why it was refused (the contract's reason, e.g. `unknown_metric`) or `not_sent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What is wrong, in a sentence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The status of one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// On the stream.
    Accepted,
    /// Refused by the event contract; sending it again unchanged is refused again.
    Refused,
    /// Valid, but the stream did not take it; send it again.
    Failed,
}

impl IngestResponse {
    /// The results of `events`, sent with `report` (one outcome per event, in order).
    pub fn new(events: &[BodyEvent<'_>], report: &SendReport) -> IngestResponse {
        assert_eq!(events.len(), report.outcomes.len(), "one outcome per event");
        let mut response = IngestResponse::default();
        for (event, outcome) in events.iter().zip(&report.outcomes) {
            let (status, reason, detail) = match outcome {
                EventOutcome::Sent => (EventStatus::Accepted, None, None),
                EventOutcome::Refused(rejection) => (
                    EventStatus::Refused,
                    Some(rejection.reason.to_string()),
                    Some(rejection.detail.clone()),
                ),
                EventOutcome::Failed { last_error } => (
                    EventStatus::Failed,
                    Some(NOT_SENT_REASON.to_owned()),
                    Some(format!(
                        "the stream did not take it after {MAX_ATTEMPTS} attempts ({last_error}); \
                         send it again"
                    )),
                ),
            };
            match status {
                EventStatus::Accepted => response.accepted += 1,
                EventStatus::Refused => response.refused += 1,
                EventStatus::Failed => response.failed += 1,
            }
            response.results.push(EventResult {
                index: event.index,
                status,
                reason,
                detail,
            });
        }
        response
    }

    /// 200 when every event was accepted, 207 Multi-Status otherwise.
    pub fn status(&self) -> u16 {
        if self.refused == 0 && self.failed == 0 {
            200
        } else {
            207
        }
    }

    /// The API Gateway response.
    pub fn to_response(&self) -> ApiGatewayV2httpResponse {
        let body = serde_json::to_string(self).expect("the response serializes");
        response(self.status(), "application/json", body)
    }
}

/// A response with a text body of media type `content_type`.
pub(crate) fn response(
    status: u16,
    content_type: &'static str,
    body: String,
) -> ApiGatewayV2httpResponse {
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = i64::from(status);
    response
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.body = Some(Body::Text(body));
    response
}
