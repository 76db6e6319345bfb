//! The Lambda edge: an API Gateway HTTP API request (payload format 2.0) in, the router's answer
//! out, one structured log line per request. The conversion is lossless for what the router
//! reads; nothing here decides anything about tenants.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::{HeaderName, HeaderValue};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_runtime::LambdaEvent;
use serde_json::json;
use tally_tenancy::{AuditLog, Clock, Steps, TenantStore};

use crate::auth::Authenticate;
use crate::http::{HttpRequest, HttpResponse, parse_query};
use crate::onboarding::Onboarding;
use crate::problem::Problem;
use crate::routes::resolve;
use crate::{Api, handle, with_common_headers};

/// The stage API Gateway serves without a path prefix.
const DEFAULT_STAGE: &str = "$default";

/// Handles one API Gateway invocation. Never fails: every outcome is an HTTP response.
pub async fn handle_lambda<T, L, P, C, O, A>(
    api: &Api<T, L, P, C, O, A>,
    event: LambdaEvent<ApiGatewayV2httpRequest>,
) -> Result<ApiGatewayV2httpResponse, lambda_runtime::Error>
where
    T: TenantStore,
    L: AuditLog,
    P: Steps,
    C: Clock,
    O: Onboarding,
    A: Authenticate,
{
    let request_id = event.payload.request_context.request_id.clone();
    let (method, route, response) = match from_apigw(event.payload) {
        Ok(request) => {
            // The route's template, never the raw path, goes in the log: the path may hold
            // anything a caller sent.
            let route = resolve(&request.method, &request.path)
                .ok()
                .map(|(route, _)| route.path);
            let method = request.method.clone();
            (method, route, handle(api, request).await)
        }
        Err(problem) => (
            String::new(),
            None,
            with_common_headers(problem.to_response()),
        ),
    };
    let line = json!({
        "level": if response.status >= 500 { "error" } else { "info" },
        "message": "admin request",
        "request_id": request_id,
        "aws_request_id": event.context.request_id,
        "method": method,
        "route": route,
        "status": response.status,
    });
    println!("{line}");
    Ok(to_apigw(response))
}

/// The router's request from an API Gateway one: the method, the raw path (without the stage
/// prefix of a named stage), the decoded query, the headers and the body, base64-decoded when
/// API Gateway encoded it.
///
/// Fails with 400 when the body is marked base64 and is not.
pub fn from_apigw(event: ApiGatewayV2httpRequest) -> Result<HttpRequest, Problem> {
    let context = &event.request_context;
    let raw_path = event.raw_path.as_deref().unwrap_or("/");
    let path = match context.stage.as_deref() {
        Some(stage) if stage != DEFAULT_STAGE => raw_path
            .strip_prefix('/')
            .and_then(|rest| rest.strip_prefix(stage))
            .filter(|rest| rest.starts_with('/'))
            .unwrap_or(raw_path),
        _ => raw_path,
    };
    let headers = event
        .headers
        .iter()
        .map(|(name, value)| {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            (name.as_str().to_ascii_lowercase(), value)
        })
        .collect();
    let body = match event.body {
        None => Vec::new(),
        Some(text) if event.is_base64_encoded => STANDARD.decode(text).map_err(|_| {
            Problem::new(
                400,
                "bad_base64",
                "the body is marked base64 and is not valid base64",
            )
        })?,
        Some(text) => text.into_bytes(),
    };
    Ok(HttpRequest {
        method: context.http.method.as_str().to_owned(),
        path: path.to_owned(),
        query: parse_query(event.raw_query_string.as_deref().unwrap_or_default()),
        headers,
        body,
    })
}

/// The API Gateway response of a router response: text bodies as text, others base64.
pub fn to_apigw(response: HttpResponse) -> ApiGatewayV2httpResponse {
    let mut apigw = ApiGatewayV2httpResponse::default();
    apigw.status_code = i64::from(response.status);
    for (name, value) in &response.headers {
        // The router writes only header values built from checked data (ids, versions, fixed
        // texts), so a value that is not a valid header is a bug, not an input.
        let name = HeaderName::from_bytes(name.as_bytes()).expect("a valid header name");
        let value = HeaderValue::from_str(value).expect("a valid header value");
        apigw.headers.append(name, value);
    }
    match String::from_utf8(response.body) {
        Ok(text) => apigw.body = Some(Body::Text(text)),
        Err(error) => {
            apigw.body = Some(Body::Text(STANDARD.encode(error.into_bytes())));
            apigw.is_base64_encoded = true;
        }
    }
    apigw
}
