//! Fetching a key set over HTTP: https to any host (Cognito), plain http only to a loopback host
//! (an emulator), one GET, at most [`MAX_JWKS_BYTES`] within [`JWKS_FETCH_TIMEOUT`].

use std::error::Error as StdError;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, LengthLimitError, Limited};
use hyper::header::ACCEPT;
use hyper::{Request, StatusCode, Uri};
use hyper_rustls::HttpsConnectorBuilder;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::TokioExecutor;

use crate::{AuthError, KeySet, Result};

/// The largest JWKS document accepted, in bytes (Cognito's is under 2 KiB).
pub const MAX_JWKS_BYTES: usize = 64 * 1024;

/// How long fetching a JWKS document may take, from connecting to the last byte.
pub const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(10);

impl KeySet {
    /// Fetches and parses the JWKS document at `url` (see [`KeySet::cognito_jwks_url`]).
    ///
    /// Fails if the URL is not https, or http to a loopback host (keys fetched in the clear
    /// from elsewhere could be swapped on the way); if the server cannot be reached, answers
    /// other than 200, sends more than [`MAX_JWKS_BYTES`] or takes longer than
    /// [`JWKS_FETCH_TIMEOUT`]; or if the document is not a usable key set
    /// ([`KeySet::from_jwks_json`]).
    pub async fn fetch(url: &str) -> Result<KeySet> {
        fetch_within(url, JWKS_FETCH_TIMEOUT).await
    }
}

/// [`KeySet::fetch`] with a chosen time limit.
pub(crate) async fn fetch_within(url: &str, timeout: Duration) -> Result<KeySet> {
    let failed = |reason: String| AuthError::Fetch {
        url: url.to_string(),
        reason,
    };
    let uri: Uri = url
        .parse()
        .map_err(|error| failed(format!("not a URL: {error}")))?;
    let fetched = match uri.scheme_str() {
        Some("https") => {
            let client = client(https_connector().map_err(failed)?);
            tokio::time::timeout(timeout, get(&client, uri)).await
        }
        Some("http") if is_loopback(&uri) => {
            tokio::time::timeout(timeout, get(&client(HttpConnector::new()), uri)).await
        }
        Some("http") => {
            return Err(failed(
                "plain http is allowed to a loopback host only".to_string(),
            ));
        }
        _ => {
            return Err(failed(
                "the scheme must be https, or http to a loopback host".to_string(),
            ));
        }
    };
    let body = fetched
        .map_err(|_| {
            failed(format!(
                "no complete answer within {} s",
                timeout.as_secs_f64()
            ))
        })?
        .map_err(failed)?;
    KeySet::from_jwks_json(&body)
}

/// An https connector on rustls with the aws-lc-rs provider and the system's root certificates.
fn https_connector() -> std::result::Result<hyper_rustls::HttpsConnector<HttpConnector>, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .map_err(|error| format!("no TLS root certificates: {error}"))?;
    Ok(builder.https_only().enable_http1().build())
}

fn client<C: Connect + Clone>(connector: C) -> Client<C, Empty<Bytes>> {
    Client::builder(TokioExecutor::new()).build(connector)
}

/// One GET; the body of a 200 answer, at most [`MAX_JWKS_BYTES`] of it.
async fn get<C>(client: &Client<C, Empty<Bytes>>, uri: Uri) -> std::result::Result<Bytes, String>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    let request = Request::get(uri)
        .header(ACCEPT, "application/json")
        .body(Empty::new())
        .map_err(|error| with_causes(&error))?;
    let response = client
        .request(request)
        .await
        .map_err(|error| with_causes(&error))?;
    if response.status() != StatusCode::OK {
        return Err(format!("the server answered {}", response.status()));
    }
    let body = Limited::new(response.into_body(), MAX_JWKS_BYTES)
        .collect()
        .await
        .map_err(|error| {
            if error.is::<LengthLimitError>() {
                format!("the answer is larger than {MAX_JWKS_BYTES} bytes")
            } else {
                with_causes(error.as_ref())
            }
        })?;
    Ok(body.to_bytes())
}

/// Whether the URL's host is `localhost` or a loopback address.
fn is_loopback(uri: &Uri) -> bool {
    let host = uri.host().unwrap_or_default();
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// An error and its causes on one line, as hyper's own messages are terse ("client error").
fn with_causes(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpListener;

    use super::*;
    use crate::local::tests::issuer;

    /// A loopback server that answers one request with `response`, or never if it is `None`.
    async fn serve_once(response: Option<Vec<u8>>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                let read = stream.read(&mut buffer).await.unwrap();
                assert!(read > 0, "the client closed before sending a request");
                request.extend_from_slice(&buffer[..read]);
            }
            match response {
                Some(response) => stream.write_all(&response).await.unwrap(),
                None => tokio::time::sleep(Duration::from_secs(30)).await,
            }
        });
        format!("http://{address}/pool/.well-known/jwks.json")
    }

    fn http_response(status: &str, body: &[u8]) -> Vec<u8> {
        let head = format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n",
            body.len()
        );
        [head.as_bytes(), body].concat()
    }

    #[tokio::test]
    async fn given_a_loopback_server_with_a_jwks_when_fetched_then_the_key_set_is_parsed() {
        let url = serve_once(Some(http_response(
            "200 OK",
            issuer().jwks_json().as_bytes(),
        )))
        .await;
        let key_set = KeySet::fetch(&url).await.unwrap();
        assert_eq!(key_set.key_ids().collect::<Vec<_>>(), [issuer().kid()]);
    }

    #[tokio::test]
    async fn given_a_server_answering_404_when_fetched_then_the_status_is_reported() {
        let url = serve_once(Some(http_response("404 Not Found", b"{}"))).await;
        let error = KeySet::fetch(&url).await.unwrap_err();
        assert!(error.to_string().contains("404"), "{error}");
    }

    #[tokio::test]
    async fn given_an_oversized_answer_when_fetched_then_refused_by_the_size_limit() {
        let body = vec![b' '; MAX_JWKS_BYTES + 1];
        let url = serve_once(Some(http_response("200 OK", &body))).await;
        let error = KeySet::fetch(&url).await.unwrap_err();
        assert!(error.to_string().contains("larger than"), "{error}");
    }

    #[tokio::test]
    async fn given_a_server_that_never_answers_when_fetched_then_the_time_limit_ends_it() {
        let url = serve_once(None).await;
        let error = fetch_within(&url, Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("no complete answer within 0.2 s"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn given_plain_http_to_a_remote_host_or_another_scheme_when_fetched_then_refused() {
        for url in [
            "http://cognito-idp.example.com/jwks.json",
            "ftp://127.0.0.1/jwks.json",
        ] {
            let error = KeySet::fetch(url).await.unwrap_err();
            assert!(matches!(error, AuthError::Fetch { .. }), "{error}");
            assert!(error.to_string().contains("loopback"), "{error}");
        }
    }

    #[test]
    fn given_loopback_and_remote_hosts_when_classified_then_only_loopback_is() {
        let loopback = |url: &str| is_loopback(&url.parse().unwrap());
        assert!(loopback("http://127.0.0.1:5124/x"));
        assert!(loopback("http://LOCALHOST/x"));
        assert!(loopback("http://[::1]:80/x"));
        assert!(!loopback("http://10.0.0.1/x"));
        assert!(!loopback("http://localhost.example.com/x"));
    }
}
