//! The AWS commands against moto server (started by scripts/test): `tally aws init` creates the
//! stream and the bucket once; `tally emit` sends valid lines and fails, naming them, when some
//! are not sent.
#![cfg(feature = "aws")]

mod common;

use std::process::Command;

use common::fixtures;

fn tally(args: &[&str], stream: &str, bucket: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(args)
        .env("TALLY_STREAM_NAME", stream)
        .env("TALLY_BUCKET_NAME", bucket)
        .output()
        .unwrap()
}

#[test]
#[ignore = "needs moto server: run scripts/test"]
fn init_then_emit() {
    assert!(
        std::env::var("TALLY_TEST_AWS_ENDPOINT")
            .is_ok_and(|url| url.starts_with("http://127.0.0.1:")),
        "run scripts/test"
    );
    let (stream, bucket) = (
        format!("cli-usage-{}", std::process::id()),
        format!("cli-tenant-data-{}", std::process::id()),
    );
    let stdout =
        |output: &std::process::Output| String::from_utf8_lossy(&output.stdout).into_owned();
    let first = tally(&["aws", "init"], &stream, &bucket);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        stdout(&first).contains(&format!("stream {stream}: created")),
        "{}",
        stdout(&first)
    );
    let again = tally(&["aws", "init"], &stream, &bucket);
    assert!(
        stdout(&again).contains("already there"),
        "{}",
        stdout(&again)
    );

    let meters = fixtures().join("meters.toml");
    let meters = meters.to_str().unwrap();
    let run_2 = fixtures().join("events/contract-run-2.ndjson");
    let sent = tally(
        &["--meters", meters, "emit", run_2.to_str().unwrap()],
        &stream,
        &bucket,
    );
    assert!(
        sent.status.success(),
        "{}{}",
        stdout(&sent),
        String::from_utf8_lossy(&sent.stderr)
    );
    assert!(
        stdout(&sent).starts_with("Sent 12 of 12 lines"),
        "{}",
        stdout(&sent)
    );

    let run_1 = fixtures().join("events/contract-run-1.ndjson");
    let partly = tally(
        &[
            "--meters",
            fixtures().join("meters.toml").to_str().unwrap(),
            "emit",
            run_1.to_str().unwrap(),
        ],
        &stream,
        &bucket,
    );
    assert_eq!(
        partly.status.code(),
        Some(1),
        "lines the contract refuses are not sent"
    );
    assert!(
        stdout(&partly).contains("not sent, invalid_json"),
        "{}",
        stdout(&partly)
    );
}
