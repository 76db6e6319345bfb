//! Request bodies: JSON objects of at most [`MAX_BODY_BYTES`], sent as `application/json`,
//! deserialized strictly (unknown fields refused); every refusal names the field to fix and
//! quotes at most a bounded part of what was sent.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::headers::single_header;
use crate::http::{HttpRequest, JSON_MEDIA_TYPE};
use crate::problem::Problem;

/// The largest request body, in bytes. A tenant request is well under 4 KiB; the margin is for
/// long feature lists and quotas, not for anything bigger.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The longest suspension reason, in characters.
pub const MAX_REASON_CHARS: usize = 512;

/// The longest deserialization message a problem repeats, in characters: serde's messages quote
/// the value they refused, which may be anything the caller sent.
const MAX_MESSAGE_CHARS: usize = 200;

/// The body of `POST /admin/tenants/{id}/suspend`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuspendRequest {
    /// Why the tenant is suspended: 1–[`MAX_REASON_CHARS`] characters, no control characters.
    pub reason: String,
}

impl SuspendRequest {
    /// The reason, trimmed.
    ///
    /// Fails when it is empty, longer than [`MAX_REASON_CHARS`] or holds a control character.
    pub fn checked_reason(&self) -> Result<&str, Problem> {
        let reason = self.reason.trim();
        let problem = if reason.is_empty() {
            "must not be empty".to_owned()
        } else if reason.chars().count() > MAX_REASON_CHARS {
            format!("longer than {MAX_REASON_CHARS} characters")
        } else if reason.chars().any(char::is_control) {
            "must not contain control characters".to_owned()
        } else {
            return Ok(reason);
        };
        Err(Problem::invalid("reason", problem))
    }
}

/// The body of `request` as a `T`.
///
/// Fails with 415 unless the body is declared `application/json`, 413 over [`MAX_BODY_BYTES`],
/// and 400 naming the field when it is not JSON, not an object of `T`'s fields, or a field has
/// the wrong type or an unknown value.
pub fn read_json<T: DeserializeOwned>(request: &HttpRequest) -> Result<T, Problem> {
    check_content_type(request)?;
    if request.body.len() > MAX_BODY_BYTES {
        return Err(Problem::new(
            413,
            "body_too_large",
            format!(
                "the body is {} bytes; the limit is {MAX_BODY_BYTES}",
                request.body.len()
            ),
        ));
    }
    match request.body.iter().find(|byte| !byte.is_ascii_whitespace()) {
        None => {
            return Err(Problem::new(
                400,
                "empty_body",
                "the body is empty; send a JSON object",
            ));
        }
        // serde's derived structs also read arrays (fields by position); the API takes objects.
        Some(b'{') => {}
        Some(_) => return Err(Problem::invalid("body", "must be a JSON object")),
    }
    let mut deserializer = serde_json::Deserializer::from_slice(&request.body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(body_problem)?;
    deserializer.end().map_err(|error| {
        Problem::new(
            400,
            "invalid_json",
            format!("the body is not one JSON value: {error}"),
        )
    })?;
    Ok(value)
}

fn check_content_type(request: &HttpRequest) -> Result<(), Problem> {
    let content_type = single_header(request, "content-type")?;
    let media_type = content_type
        .and_then(|value| value.split(';').next())
        .map(str::trim);
    match media_type {
        Some(media_type) if media_type.eq_ignore_ascii_case(JSON_MEDIA_TYPE) => Ok(()),
        _ => Err(Problem::new(
            415,
            "unsupported_media_type",
            format!("send the body as {JSON_MEDIA_TYPE} with a Content-Type header saying so"),
        )),
    }
}

/// A deserialization error as a problem naming the field: the path serde_path_to_error tracked
/// (`config.region`), or for a missing or unknown field the field serde names in its message.
fn body_problem(error: serde_path_to_error::Error<serde_json::Error>) -> Problem {
    let path = error.path().to_string();
    let inner = error.into_inner();
    let message = bounded(&inner.to_string());
    if !inner.is_data() {
        return Problem::new(
            400,
            "invalid_json",
            format!("the body is not JSON: {message}"),
        );
    }
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    let field = match (named, path.as_str()) {
        (Some(name), "." | "") => name.to_owned(),
        (Some(name), parent) if !parent.ends_with(name) => format!("{parent}.{name}"),
        (_, "." | "") => "body".to_owned(),
        (_, path) => path.to_owned(),
    };
    Problem::invalid(&field, message)
}

/// `message` cut to [`MAX_MESSAGE_CHARS`] characters with control characters escaped, so that a
/// huge or hostile value quoted by serde comes back bounded.
fn bounded(message: &str) -> String {
    let mut shown: String = message
        .chars()
        .take(MAX_MESSAGE_CHARS)
        .flat_map(|character| {
            let escaped: Vec<char> = if character.is_control() {
                character.escape_default().collect()
            } else {
                vec![character]
            };
            escaped
        })
        .collect();
    if message.chars().nth(MAX_MESSAGE_CHARS).is_some() {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_tenancy::NewTenant;

    fn json_request(body: &str) -> HttpRequest {
        HttpRequest::new("POST", "/admin/tenants")
            .with_header("content-type", "application/json; charset=utf-8")
            .with_body(body)
    }

    fn field_of(body: &str) -> Option<String> {
        read_json::<NewTenant>(&json_request(body))
            .unwrap_err()
            .field
    }

    #[test]
    fn given_bodies_with_a_bad_field_when_reading_then_the_problem_names_it() {
        let base = r#""name":"Acme","admin_email":"a@acme.io""#;
        let cases = [
            (
                format!(r#"{{{base},"tier":"standard","colour":"red"}}"#),
                "colour",
            ),
            (format!(r#"{{{base},"tier":"gold"}}"#), "tier"),
            (
                r#"{"name":"Acme","tier":"standard"}"#.to_owned(),
                "admin_email",
            ),
            (
                format!(r#"{{{base},"tier":"standard","config":{{"region":"us-east-1","x":1}}}}"#),
                "config.x",
            ),
            (
                format!(r#"{{{base},"tier":"standard","quotas":{{"api_calls":"lots"}}}}"#),
                "quotas.api_calls",
            ),
            (
                r#"["acme","Acme","standard","a@acme.io"]"#.to_owned(),
                "body",
            ),
            (r#""text""#.to_owned(), "body"),
        ];
        for (body, field) in cases {
            assert_eq!(field_of(&body).as_deref(), Some(field), "{body}");
        }
    }

    #[test]
    fn given_a_huge_unknown_value_when_reading_then_the_message_is_bounded() {
        let body = format!(
            r#"{{"name":"Acme","admin_email":"a@b.io","tier":"{}"}}"#,
            "g".repeat(10_000)
        );
        let problem = read_json::<NewTenant>(&json_request(&body)).unwrap_err();
        assert_eq!(problem.field.as_deref(), Some("tier"));
        assert!(problem.detail.chars().count() < 300, "{}", problem.detail);
    }

    #[test]
    fn given_non_json_or_trailing_text_when_reading_then_400_without_a_field() {
        for body in ["{", r#"{"reason":"#, r#"{"reason":"x"} {}"#] {
            let problem = read_json::<SuspendRequest>(&json_request(body)).unwrap_err();
            assert_eq!(
                (problem.status, problem.reason),
                (400, "invalid_json"),
                "{body}"
            );
        }
    }

    #[test]
    fn given_the_wrong_media_type_or_size_when_reading_then_415_or_413() {
        let text = HttpRequest::new("POST", "/x")
            .with_header("content-type", "text/plain")
            .with_body("{}");
        assert_eq!(read_json::<SuspendRequest>(&text).unwrap_err().status, 415);
        let big = json_request(&" ".repeat(MAX_BODY_BYTES + 1));
        assert_eq!(read_json::<SuspendRequest>(&big).unwrap_err().status, 413);
    }

    #[test]
    fn given_reasons_when_checking_then_empty_long_and_control_characters_are_refused() {
        let check = |reason: &str| {
            SuspendRequest {
                reason: reason.to_owned(),
            }
            .checked_reason()
            .map(str::to_owned)
        };
        assert_eq!(check("  unpaid invoices ").unwrap(), "unpaid invoices");
        for bad in ["", "   ", "a\u{7}b", &"r".repeat(MAX_REASON_CHARS + 1)] {
            assert_eq!(check(bad).unwrap_err().field.as_deref(), Some("reason"));
        }
    }
}
