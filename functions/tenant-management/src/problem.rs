//! Every refusal as an RFC 9457 problem (`application/problem+json`): the status, its title, a
//! sentence a person can act on, a machine-readable `reason`, and for invalid input the `field`
//! to fix. Internals (store errors, workflow errors) are logged, never put in a response.

use serde_json::json;

use crate::http::{HttpResponse, quoted};

/// The media type of a problem.
pub const PROBLEM_MEDIA_TYPE: &str = "application/problem+json";

/// How many characters of a caller's text a problem may quote back.
pub const MAX_ECHO_CHARS: usize = 64;

/// Why a request was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The HTTP status.
    pub status: u16,
    /// The machine-readable reason, e.g. `invalid_field`, `not_found`, `version_mismatch`.
    pub reason: &'static str,
    /// What is wrong and what to do about it.
    pub detail: String,
    /// The request field to fix (`name`, `config.region`, `tenant_id`, `limit`, `If-Match`).
    pub field: Option<String>,
    /// Extra headers: `Allow` of a 405, `WWW-Authenticate` of a 401.
    pub headers: Vec<(&'static str, String)>,
}

impl Problem {
    /// A problem without a field.
    pub fn new(status: u16, reason: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            status,
            reason,
            detail: detail.into(),
            field: None,
            headers: Vec::new(),
        }
    }

    /// A 400 naming the field to fix; the field name is bounded, since it may be the caller's.
    pub fn invalid(field: &str, detail: impl Into<String>) -> Problem {
        let field = if field.len() <= MAX_ECHO_CHARS && field.chars().all(|c| c.is_ascii_graphic())
        {
            field.to_owned()
        } else {
            quoted(field, MAX_ECHO_CHARS)
        };
        Problem {
            field: Some(field),
            ..Problem::new(400, "invalid_field", detail)
        }
    }

    /// The problem with one more response header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Problem {
        self.headers.push((name, value.into()));
        self
    }

    /// The HTTP title of the status.
    pub fn title(&self) -> &'static str {
        match self.status {
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            409 => "Conflict",
            412 => "Precondition Failed",
            413 => "Content Too Large",
            415 => "Unsupported Media Type",
            500 => "Internal Server Error",
            503 => "Service Unavailable",
            _ => "Error",
        }
    }

    /// The problem's JSON document.
    pub fn to_json(&self) -> serde_json::Value {
        let mut document = json!({
            "type": "about:blank",
            "title": self.title(),
            "status": self.status,
            "detail": self.detail,
            "reason": self.reason,
        });
        if let Some(field) = &self.field {
            document["field"] = json!(field);
        }
        document
    }

    /// The HTTP response.
    pub fn to_response(&self) -> HttpResponse {
        let body = self.to_json().to_string().into_bytes();
        let mut response = HttpResponse::new(self.status, PROBLEM_MEDIA_TYPE, body);
        for (name, value) in &self.headers {
            response = response.with_header(name, value.clone());
        }
        response
    }
}

impl Problem {
    /// 412: the tenant is at `current`, not the version the request named; the current version
    /// is the response's entity tag.
    pub fn version_mismatch(tenant_id: &dyn std::fmt::Display, current: u64) -> Problem {
        Problem::new(
            412,
            "version_mismatch",
            format!(
                "tenant {tenant_id} is at version {current}; read it again and retry with its ETag"
            ),
        )
        .with_header("etag", crate::headers::entity_tag(current))
    }
}

/// The control plane's errors as problems: invalid input 400 with its field, not found 404,
/// conflicts 409, and store failures 500, whose detail is logged and not returned.
impl From<tally_tenancy::Error> for Problem {
    fn from(error: tally_tenancy::Error) -> Problem {
        use tally_tenancy::Error;
        match error {
            Error::Invalid { field, problem } => Problem::invalid(&field, problem),
            Error::NotFound { tenant_id } => {
                Problem::new(404, "not_found", format!("no tenant {tenant_id}"))
            }
            Error::Conflict { detail } => Problem::new(409, "conflict", detail),
            Error::VersionMismatch {
                tenant_id, current, ..
            } => Problem::version_mismatch(&tenant_id, current),
            Error::Store { operation, detail } => {
                log_error("tenant store failed", &operation, &detail);
                Problem::new(
                    500,
                    "store_failed",
                    "the tenant store failed; the request may not have been applied, try again",
                )
            }
        }
    }
}

/// Writes one structured error line to standard error (CloudWatch in Lambda), where the detail
/// a response must not carry goes.
pub fn log_error(message: &str, operation: &str, detail: &str) {
    let line = json!({
        "level": "error",
        "message": message,
        "operation": operation,
        "detail": detail,
    });
    eprintln!("{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_store_failure_when_answering_then_its_detail_is_not_returned() {
        let error = tally_tenancy::Error::store("DynamoDB PutItem tenants", "arn:aws:secret-table");
        let response = Problem::from(error).to_response();
        assert_eq!(response.status, 500);
        assert!(!String::from_utf8_lossy(&response.body).contains("arn:aws"));
    }

    #[test]
    fn given_a_hostile_field_name_when_invalid_then_it_is_bounded() {
        let problem = Problem::invalid(&"k".repeat(5_000), "unknown field");
        assert!(problem.field.unwrap().chars().count() <= MAX_ECHO_CHARS + 3);
    }
}
