//! A request body into events, within the limits: one event object, a JSON array of events, or
//! NDJSON (one event per line). Each event keeps its bytes as sent and its index: its position
//! in the array, or its line (from 0) in NDJSON. A body that is not one of these at all, or is
//! over a limit, is refused whole; an item that is not a valid event is left to the contract,
//! which refuses it alone.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use crate::problem::Problem;

/// Largest request body, in bytes after any base64 decoding: one full PutRecords call.
pub const MAX_BODY_BYTES: usize = 5 * 1024 * 1024;
/// Most events in one request: one PutRecords call.
pub const MAX_EVENTS_PER_REQUEST: usize = 500;
/// Media types read as NDJSON whatever the body looks like.
pub const NDJSON_MEDIA_TYPES: [&str; 5] = [
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "application/jsonlines",
];

/// One event of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyEvent<'a> {
    /// Its position in the array, or its line (from 0) in NDJSON.
    pub index: usize,
    /// The event as sent.
    pub bytes: &'a [u8],
}

/// The body's bytes: API Gateway base64-encodes bodies it does not take for text.
///
/// Fails when the body is over `MAX_BODY_BYTES` or is not the base64 it is marked as.
pub fn decode(body: Option<&str>, is_base64_encoded: bool) -> Result<Cow<'_, [u8]>, Problem> {
    let text = body.unwrap_or_default();
    if !is_base64_encoded {
        check_size(text.len())?;
        return Ok(Cow::Borrowed(text.as_bytes()));
    }
    // Refuse an oversized body before decoding it.
    check_size(text.len() / 4 * 3)?;
    let bytes = STANDARD.decode(text).map_err(|error| {
        Problem::bad_request(
            "bad_base64",
            format!("the body is not valid base64: {error}"),
        )
    })?;
    check_size(bytes.len())?;
    Ok(Cow::Owned(bytes))
}

fn check_size(bytes: usize) -> Result<(), Problem> {
    if bytes > MAX_BODY_BYTES {
        return Err(Problem::too_large(
            "body_too_large",
            format!(
                "the body is {bytes} bytes; the limit is {MAX_BODY_BYTES} (send several requests)"
            ),
        ));
    }
    Ok(())
}

/// True when `content_type` names NDJSON (parameters such as `charset` ignored).
pub fn is_ndjson(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|value| {
        let media_type = value.split(';').next().unwrap_or_default().trim();
        NDJSON_MEDIA_TYPES
            .iter()
            .any(|ndjson| media_type.eq_ignore_ascii_case(ndjson))
    })
}

/// The events of `body`: NDJSON when `ndjson`; otherwise an array or one object, and NDJSON
/// again when a body starting with `{` is not one JSON value but several lines (a client that
/// sends NDJSON without saying so).
///
/// Fails when there is no event, more than `MAX_EVENTS_PER_REQUEST`, or the body is not JSON.
pub fn split(body: &[u8], ndjson: bool) -> Result<Vec<BodyEvent<'_>>, Problem> {
    let trimmed = body.trim_ascii();
    let events = match trimmed.first() {
        None => Vec::new(),
        _ if ndjson => lines(body)?,
        Some(b'[') => array(trimmed)?,
        Some(b'{') => match serde_json::from_slice::<IgnoredAny>(trimmed) {
            Ok(_) => vec![BodyEvent {
                index: 0,
                bytes: trimmed,
            }],
            Err(_) if trimmed.contains(&b'\n') => lines(body)?,
            Err(error) => return Err(not_json(format!("the body is not JSON: {error}"))),
        },
        Some(_) => {
            return Err(not_json(
                "the body must be an event object, a JSON array of events, or NDJSON".into(),
            ));
        }
    };
    if events.is_empty() {
        return Err(Problem::bad_request(
            "no_events",
            "the body holds no event".into(),
        ));
    }
    if events.len() > MAX_EVENTS_PER_REQUEST {
        return Err(Problem::too_large(
            "too_many_events",
            format!(
                "the body holds more than {MAX_EVENTS_PER_REQUEST} events (send several requests)"
            ),
        ));
    }
    Ok(events)
}

fn array(text: &[u8]) -> Result<Vec<BodyEvent<'_>>, Problem> {
    let text = std::str::from_utf8(text)
        .map_err(|error| not_json(format!("the body is not UTF-8: {error}")))?;
    let items: Vec<&RawValue> = serde_json::from_str(text)
        .map_err(|error| not_json(format!("the body is not a JSON array: {error}")))?;
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(index, item)| BodyEvent {
            index,
            bytes: item.get().as_bytes(),
        })
        .collect())
}

/// The non-blank lines; one more than the limit at most, so a huge body costs no more.
fn lines(body: &[u8]) -> Result<Vec<BodyEvent<'_>>, Problem> {
    let events: Vec<BodyEvent<'_>> = body
        .split(|byte| *byte == b'\n')
        .enumerate()
        .map(|(index, line)| BodyEvent {
            index,
            bytes: line.strip_suffix(b"\r").unwrap_or(line),
        })
        .filter(|event| !event.bytes.trim_ascii().is_empty())
        .take(MAX_EVENTS_PER_REQUEST + 1)
        .collect();
    let any_json = events
        .iter()
        .any(|event| serde_json::from_slice::<IgnoredAny>(event.bytes).is_ok());
    if !events.is_empty() && !any_json {
        return Err(not_json("no line of the body is JSON".into()));
    }
    Ok(events)
}

fn not_json(detail: String) -> Problem {
    Problem::bad_request("not_json", detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indices(events: &[BodyEvent<'_>]) -> Vec<usize> {
        events.iter().map(|event| event.index).collect()
    }

    #[test]
    fn an_array_gives_its_items_unchanged() {
        let events = split(br#" [{"a": 1}, 2, {"b": [3]}] "#, false).unwrap();
        assert_eq!(indices(&events), [0, 1, 2]);
        assert_eq!(events[2].bytes, br#"{"b": [3]}"#);
    }

    #[test]
    fn ndjson_lines_are_indexed_by_line_and_blank_lines_skipped() {
        let body = b"{\"a\":1}\r\n\nnot json\n{\"b\":2}\n";
        for ndjson in [true, false] {
            let events = split(body, ndjson).unwrap();
            assert_eq!(indices(&events), [0, 2, 3]);
            assert_eq!(events[0].bytes, b"{\"a\":1}");
        }
    }

    #[test]
    fn bodies_that_are_not_events_at_all_are_refused() {
        for (body, reason) in [
            (&b"hello"[..], "not_json"),
            (b"\"a string\"", "not_json"),
            (b"[{\"a\":1},", "not_json"),
            (b"{\"a\":", "not_json"),
            (b"  ", "no_events"),
            (b"[]", "no_events"),
        ] {
            let problem = split(body, false).unwrap_err();
            assert_eq!(problem.reason, reason, "{}", String::from_utf8_lossy(body));
        }
        assert_eq!(split(b"one\ntwo\n", true).unwrap_err().reason, "not_json");
    }

    #[test]
    fn the_limits_are_checked() {
        let ndjson = "{}\n".repeat(MAX_EVENTS_PER_REQUEST + 1);
        assert_eq!(split(ndjson.as_bytes(), true).unwrap_err().status, 413);
        let array = format!("[{}{{}}]", "{},".repeat(MAX_EVENTS_PER_REQUEST));
        assert_eq!(split(array.as_bytes(), false).unwrap_err().status, 413);
        let big = "x".repeat(MAX_BODY_BYTES + 1);
        assert_eq!(
            decode(Some(&big), false).unwrap_err().reason,
            "body_too_large"
        );
        let big_encoded = STANDARD.encode(vec![b'x'; MAX_BODY_BYTES + 1]);
        let problem = decode(Some(&big_encoded), true).unwrap_err();
        assert_eq!(problem.reason, "body_too_large");
    }

    #[test]
    fn base64_bodies_are_decoded() {
        let encoded = STANDARD.encode(b"{\"a\":1}\n");
        assert_eq!(&*decode(Some(&encoded), true).unwrap(), b"{\"a\":1}\n");
        assert_eq!(decode(Some("%%%"), true).unwrap_err().reason, "bad_base64");
        assert!(decode(None, false).unwrap().is_empty());
    }

    #[test]
    fn ndjson_media_types_are_recognised_with_parameters() {
        assert!(is_ndjson(Some("application/x-ndjson; charset=utf-8")));
        assert!(is_ndjson(Some("Application/JSONL")));
        assert!(!is_ndjson(Some("application/json")));
        assert!(!is_ndjson(None));
    }
}
