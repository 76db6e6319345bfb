//! The usage-ingest Lambda's handler: `POST /v1/events` from an API Gateway HTTP API (payload
//! format 2.0) in, every event checked against the contract and the valid ones put on the usage
//! stream, one result per event out. Nothing is dropped silently.
//!
//! The body is one event object, a JSON array of events, or NDJSON (`Content-Type:
//! application/x-ndjson`, one event per line). Each event is checked with
//! `tally_schemas::parse_event` against the catalog (the default meters plus the operator's
//! file), and the valid ones are sent unchanged, with their tenant id as partition key, by
//! `tally_producer::Producer` (PutRecords, retried with backoff).
//!
//! | status | when | body |
//! |---|---|---|
//! | 200 | every event accepted | `{"accepted", "refused", "failed", "results"}` |
//! | 207 | some event refused by the contract, or not taken by the stream | the same |
//! | 400 | the body is not JSON or NDJSON at all, or holds no event | problem+json |
//! | 405 | a method other than POST | problem+json |
//! | 413 | over `MAX_BODY_BYTES` or `MAX_EVENTS_PER_REQUEST` | problem+json |
//! | 415 | a compressed body (`Content-Encoding`) | problem+json |
//!
//! Each result is `{"index", "status": "accepted" | "refused" | "failed", "reason", "detail"}`;
//! the index is the event's position in the array, or its line (from 0) in NDJSON. Refused
//! events carry the contract's reason (`unknown_metric`, `bad_tenant_id`, ...); failed ones
//! `not_sent` and are safe to send again (re-sends with the same `event_id` count once). The
//! age checks (`too_old`, `in_future`) need processing time and are the consumer's: an event
//! accepted here can still be quarantined for them.

pub mod body;
pub mod problem;
pub mod response;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::http::Method;
use aws_lambda_events::http::header::{CONTENT_ENCODING, CONTENT_TYPE};
use serde_json::json;
use tally_producer::{AsyncRecordSink, Producer};
use tally_schemas::{CatalogError, MeterCatalog};

pub use body::{MAX_BODY_BYTES, MAX_EVENTS_PER_REQUEST};
pub use problem::Problem;
pub use response::{EventResult, EventStatus, IngestResponse};

/// The environment variables this Lambda reads; the same names as `tally_runtime::env`, which
/// this crate does not depend on to keep the runtime (Parquet, redb) out of the Lambda.
pub mod env {
    /// The Kinesis usage stream (default `usage-metering`).
    pub const TALLY_STREAM_NAME: &str = "TALLY_STREAM_NAME";
    /// A TOML file of operator-defined meters, added to the default catalog.
    pub const TALLY_METERS_FILE: &str = "TALLY_METERS_FILE";
}

/// Default name of the usage stream.
pub const DEFAULT_STREAM: &str = "usage-metering";

/// What the Lambda could not start with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operator's meters file could not be read.
    #[error("reading meters file {path}: {source}")]
    MetersFile {
        /// The file, from `TALLY_METERS_FILE`.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The operator's meters file was refused.
    #[error("meters file: {source}")]
    Catalog {
        /// What is wrong with it, the file and meter named.
        #[source]
        source: CatalogError,
    },
}

/// The result of this crate's fallible functions.
pub type Result<T> = std::result::Result<T, Error>;

/// What the Lambda reads from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The usage stream.
    pub stream: String,
    /// The operator's meters file, if any.
    pub meters_file: Option<PathBuf>,
}

impl Settings {
    /// The settings from `variable` (the process environment in `main`), with the documented
    /// defaults; an empty variable counts as unset.
    pub fn from_env(variable: impl Fn(&str) -> Option<String>) -> Settings {
        let set = |name: &str| variable(name).filter(|value| !value.is_empty());
        Settings {
            stream: set(env::TALLY_STREAM_NAME).unwrap_or_else(|| DEFAULT_STREAM.to_owned()),
            meters_file: set(env::TALLY_METERS_FILE).map(PathBuf::from),
        }
    }
}

/// The meter catalog: the defaults plus the operator's meters in `path`, if given.
///
/// Fails when the file cannot be read or a meter in it is refused.
pub fn load_catalog(path: Option<&Path>) -> Result<MeterCatalog> {
    let Some(path) = path else {
        return Ok(MeterCatalog::defaults());
    };
    let text = std::fs::read_to_string(path).map_err(|source| Error::MetersFile {
        path: path.to_owned(),
        source,
    })?;
    MeterCatalog::with_operator_meters(&text, &path.display().to_string())
        .map_err(|source| Error::Catalog { source })
}

/// What one invocation returns and prints.
#[derive(Clone, Debug, PartialEq)]
pub struct Handled {
    /// The HTTP response.
    pub response: ApiGatewayV2httpResponse,
    /// The request's structured log line.
    pub log_line: String,
}

/// Handles one `POST /v1/events`: reads the events, sends the valid ones with `producer`, and
/// answers per event. Never fails: every outcome is an HTTP response.
pub async fn handle<S: AsyncRecordSink>(
    producer: &Producer<S>,
    request: &ApiGatewayV2httpRequest,
) -> Handled {
    let request_id = request.request_context.request_id.as_deref();
    let body = match read_body(request) {
        Ok(body) => body,
        Err(problem) => return refused(request_id, &problem),
    };
    let content_type = header(request, CONTENT_TYPE.as_str());
    let events = match body::split(&body, body::is_ndjson(content_type)) {
        Ok(events) => events,
        Err(problem) => return refused(request_id, &problem),
    };
    let encoded: Vec<&[u8]> = events.iter().map(|event| event.bytes).collect();
    let report = producer.send(&encoded).await;
    let answer = IngestResponse::new(&events, &report);
    let log_line = summary_line(request_id, &answer, report.calls);
    Handled {
        response: answer.to_response(),
        log_line,
    }
}

/// The body's bytes, once the method and encoding are checked.
fn read_body(request: &ApiGatewayV2httpRequest) -> std::result::Result<Cow<'_, [u8]>, Problem> {
    let method = &request.request_context.http.method;
    if method != Method::POST {
        return Err(Problem::method_not_allowed(method.as_str()));
    }
    if let Some(encoding) = header(request, CONTENT_ENCODING.as_str())
        .filter(|encoding| !encoding.trim().eq_ignore_ascii_case("identity"))
    {
        return Err(Problem::unsupported_encoding(encoding));
    }
    body::decode(request.body.as_deref(), request.is_base64_encoded)
}

fn header<'a>(request: &'a ApiGatewayV2httpRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
}

fn refused(request_id: Option<&str>, problem: &Problem) -> Handled {
    let log_line = json!({
        "level": "warn",
        "message": "usage request refused",
        "request_id": request_id,
        "status": problem.status,
        "reason": problem.reason,
        "detail": problem.detail,
    })
    .to_string();
    Handled {
        response: problem.to_response(),
        log_line,
    }
}

/// The request's log line: counts, and how many events each reason refused.
fn summary_line(request_id: Option<&str>, answer: &IngestResponse, calls: u64) -> String {
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for result in &answer.results {
        if let Some(reason) = &result.reason {
            *reasons.entry(reason.as_str()).or_default() += 1;
        }
    }
    let level = if answer.failed > 0 { "warn" } else { "info" };
    json!({
        "level": level,
        "message": "usage request",
        "request_id": request_id,
        "status": answer.status(),
        "events": answer.results.len(),
        "accepted": answer.accepted,
        "refused": answer.refused,
        "failed": answer.failed,
        "put_records_calls": calls,
        "reasons": reasons,
    })
    .to_string()
}
