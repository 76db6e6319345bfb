//! `tally serve` over real sockets: the admin API checks tokens and onboards in process, and
//! `POST /v1/events` counts only registered tenants' events.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use common::*;

struct Server(Child, String);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(data_dir: &std::path::Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tally"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("tally serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "Tally serving on http://127.0.0.1:PORT: ..."
    let address = line
        .split_once("http://")
        .and_then(|(_, rest)| rest.split_once(": "))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    Server(child, address)
}

/// Sends one HTTP/1.1 request and returns the status and the body.
fn call(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(&server.1).expect("connects");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ncontent-length: {}\r\n",
        server.1,
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().expect("a status");
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, body)| body)
        .to_owned();
    (status, body)
}

#[test]
fn the_admin_api_needs_a_token_and_events_of_unknown_tenants_are_kept_not_counted() {
    let scratch = tempfile::tempdir().unwrap();
    let data_dir = scratch.path().join("data");
    let server = start(&data_dir);
    // GIVEN no token or a forged one THEN 401
    assert_eq!(call(&server, "GET", "/admin/tenants", &[], "").0, 401);
    let forged = [("authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln")];
    assert_eq!(call(&server, "GET", "/admin/tenants", &forged, "").0, 401);

    // GIVEN a locally signed admin token WHEN a tenant is created THEN it is onboarded
    let token = tally(&data_dir, &["token"]);
    let bearer = format!("Bearer {}", String::from_utf8(token.stdout).unwrap().trim());
    let headers = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    let body =
        r#"{"tenant_id":"acme","name":"Acme","tier":"standard","admin_email":"ops@acme.example"}"#;
    let (status, created) = call(&server, "POST", "/admin/tenants", &headers, body);
    assert_eq!(status, 201, "{created}");
    let created: serde_json::Value = serde_json::from_str(&created).unwrap();
    assert_eq!(created["status"], "active");
    let (status, _) = call(&server, "GET", "/admin/tenants/..%2F..%2Fetc", &headers, "");
    assert_eq!(status, 400);

    // WHEN events of it and of a stranger arrive THEN one counts and one is quarantined
    let events = "{\"tenant_id\":\"acme\",\"metric\":\"api_calls\",\"timestamp\":\"2026-11-26T10:00:00Z\"}\n{\"tenant_id\":\"stranger\",\"metric\":\"api_calls\",\"timestamp\":\"2026-11-26T10:00:00Z\"}\n";
    let (status, summary) = call(&server, "POST", "/v1/events", &[], events);
    assert_eq!(status, 207, "{summary}");
    let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(
        (
            summary["accepted"].as_u64(),
            summary["rejected"]["unknown_tenant"].as_u64()
        ),
        (Some(1), Some(1))
    );
}
