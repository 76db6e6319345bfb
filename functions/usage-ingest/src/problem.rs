//! Whole-request failures as RFC 9457 problem details (`application/problem+json`): the HTTP
//! status, its title, a sentence a person can act on, and a machine-readable `reason`.

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::http::HeaderValue;
use aws_lambda_events::http::header::ALLOW;
use serde_json::json;

use crate::response::response;

/// The media type of a problem.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// Why a whole request was refused; no event of it was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The HTTP status.
    pub status: u16,
    /// The machine-readable reason, e.g. `not_json`, `body_too_large`.
    pub reason: &'static str,
    /// What is wrong and what to do about it.
    pub detail: String,
}

impl Problem {
    /// A 400: the request can never succeed as sent.
    pub fn bad_request(reason: &'static str, detail: String) -> Problem {
        Problem {
            status: 400,
            reason,
            detail,
        }
    }

    /// A 413: the request is over a limit; split into several it succeeds.
    pub fn too_large(reason: &'static str, detail: String) -> Problem {
        Problem {
            status: 413,
            reason,
            detail,
        }
    }

    /// A 405 for any method but POST.
    pub fn method_not_allowed(method: &str) -> Problem {
        Problem {
            status: 405,
            reason: "method_not_allowed",
            detail: format!("{method} is not allowed; send events with POST"),
        }
    }

    /// A 415 for a compressed body, which this endpoint does not decompress.
    pub fn unsupported_encoding(encoding: &str) -> Problem {
        Problem {
            status: 415,
            reason: "unsupported_encoding",
            detail: format!("Content-Encoding {encoding} is not supported; send the body as is"),
        }
    }

    /// The HTTP title of the status.
    pub fn title(&self) -> &'static str {
        match self.status {
            400 => "Bad Request",
            405 => "Method Not Allowed",
            413 => "Content Too Large",
            415 => "Unsupported Media Type",
            _ => "Error",
        }
    }

    /// The problem's JSON document.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "type": "about:blank",
            "title": self.title(),
            "status": self.status,
            "detail": self.detail,
            "reason": self.reason,
        })
    }

    /// The API Gateway response.
    pub fn to_response(&self) -> ApiGatewayV2httpResponse {
        let mut response = response(
            self.status,
            PROBLEM_CONTENT_TYPE,
            self.to_json().to_string(),
        );
        if self.status == 405 {
            response
                .headers
                .insert(ALLOW, HeaderValue::from_static("POST"));
        }
        response
    }
}
