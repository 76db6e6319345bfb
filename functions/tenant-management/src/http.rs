//! The router's own small HTTP types, independent of the transport: API Gateway events and the
//! local server (`tally serve`) both convert to [`HttpRequest`] and from [`HttpResponse`], so the
//! same router answers both byte for byte.

/// One request, as the router sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method, as sent (`GET`, `POST`, ...; methods are case-sensitive).
    pub method: String,
    /// The path as sent, still percent-encoded, without the query; the router splits it into
    /// segments before decoding each, so an encoded `/` stays inside its segment.
    pub path: String,
    /// The query parameters, percent-decoded, in order (see [`parse_query`]).
    pub query: Vec<(String, String)>,
    /// The headers, names lowercased, in order; a repeated header appears once per value.
    pub headers: Vec<(String, String)>,
    /// The body bytes (empty when there is none).
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A request for `target`, a path with an optional `?query`, without headers or body.
    pub fn new(method: &str, target: &str) -> HttpRequest {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        HttpRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            query: parse_query(query),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// The request with one more header; the name is lowercased.
    pub fn with_header(mut self, name: &str, value: &str) -> HttpRequest {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// The request with `body`.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> HttpRequest {
        self.body = body.into();
        self
    }

    /// Every value of the header `name` (lowercase), in order.
    pub fn header_values<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> {
        let name = name.to_owned();
        self.headers
            .iter()
            .filter(move |(header, _)| *header == name)
            .map(|(_, value)| value.as_str())
    }
}

/// One response, as the router writes it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// A response of `status` with a body of media type `content_type`.
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
            body,
        }
    }

    /// A `200`-family response with `value` as its JSON body.
    pub fn json(status: u16, value: &impl serde::Serialize) -> HttpResponse {
        let body = serde_json::to_vec(value).expect("API bodies serialize");
        HttpResponse::new(status, JSON_MEDIA_TYPE, body)
    }

    /// The response with one more header (the name lowercased).
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> HttpResponse {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// The first value of the header `name` (any case), if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// The media type of request and response bodies.
pub const JSON_MEDIA_TYPE: &str = "application/json";

/// Splits a query string (`a=1&b=x%20y`) into decoded pairs, in order. `+` is a space, as in
/// HTML forms; a parameter without `=` has an empty value; empty pieces are skipped. Bytes that
/// decode to invalid UTF-8 become U+FFFD, which no parameter the API reads accepts.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            let plus_is_space = |text: &str| text.replace('+', " ");
            (
                percent_decode(&plus_is_space(name)),
                percent_decode(&plus_is_space(value)),
            )
        })
        .collect()
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits is kept as is. Invalid UTF-8
/// becomes U+FFFD.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escape = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| Some(hex_value(hex[0])? * 16 + hex_value(hex[1])?));
        match escape {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Text from a request, made safe to show in a response or a log: at most `max_chars`
/// characters (an ellipsis marks a cut), quoted, with control and non-ASCII characters escaped.
pub fn quoted(text: &str, max_chars: usize) -> String {
    let mut shown: String = text.chars().take(max_chars).collect();
    if text.chars().nth(max_chars).is_some() {
        shown.push('…');
    }
    format!("{:?}", shown)
        .chars()
        .flat_map(escape_non_ascii)
        .collect()
}

fn escape_non_ascii(character: char) -> Vec<char> {
    if character.is_ascii() || character == '…' {
        vec![character]
    } else {
        format!("\\u{{{:x}}}", u32::from(character))
            .chars()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_escapes_when_decoding_then_bytes_are_restored_and_stray_percents_kept() {
        assert_eq!(percent_decode("..%2Fx"), "../x");
        assert_eq!(percent_decode("%27%20OR%201%3D1--"), "' OR 1=1--");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("t%C3%A9"), "té");
        assert_eq!(percent_decode("%FF"), "\u{fffd}");
    }

    #[test]
    fn given_a_query_when_parsing_then_pairs_are_decoded_in_order() {
        let pairs = parse_query("limit=5&after=acme%2Dco&&flag&q=a+b");
        let expected = [
            ("limit", "5"),
            ("after", "acme-co"),
            ("flag", ""),
            ("q", "a b"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        assert_eq!(pairs, expected);
    }

    #[test]
    fn given_a_target_when_building_a_request_then_path_and_query_are_split() {
        let request = HttpRequest::new("GET", "/admin/tenants?limit=2").with_header("X-A", "1");
        assert_eq!(request.path, "/admin/tenants");
        assert_eq!(request.query, vec![("limit".to_owned(), "2".to_owned())]);
        assert_eq!(request.header_values("x-a").collect::<Vec<_>>(), ["1"]);
    }

    #[test]
    fn given_hostile_text_when_quoting_then_it_is_bounded_and_escaped() {
        assert_eq!(quoted("a\"b\n", 64), r#""a\"b\n""#);
        assert_eq!(quoted("租户", 64), r#""\u{79df}\u{6237}""#);
        let long = "x".repeat(10_000);
        assert_eq!(quoted(&long, 64), format!("\"{}…\"", "x".repeat(64)));
    }
}
