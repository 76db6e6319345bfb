//! Acceptance: the events files read back by independent readers (pyarrow and DuckDB, from the
//! test venv) have the column types of DESIGN.md and hold exactly one row per accepted event.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::*;

#[test]
#[ignore = "needs pyarrow and DuckDB: run scripts/test, which sets TALLY_TEST_PYTHON"]
fn pyarrow_and_duckdb_read_exactly_the_accepted_events() {
    let python = std::env::var("TALLY_TEST_PYTHON")
        .expect("TALLY_TEST_PYTHON names the test venv's python (scripts/test sets it)");
    let scratch = tempfile::tempdir().unwrap();
    let data_dir = scratch.path().join("data");
    let inputs = corpus(scratch.path(), 3);
    for input in &inputs {
        ingest(&data_dir, input, &["--commit-every", "500"]);
    }
    let reader = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/readers/read_events.py");
    let output = Command::new(python)
        .arg(reader)
        .arg(data_dir.join("tenant-data"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the independent reader refused the files:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(document["files"].as_u64().unwrap() > 0);

    let read: Vec<String> = sorted(document["rows"].as_array().unwrap().iter().map(|row| {
        let dimensions: BTreeMap<String, String> =
            serde_json::from_value(row["dimensions"].clone()).unwrap();
        format!(
            "{}|{}|{}|{}|{}|{}|{dimensions:?}",
            row["tenant_id"].as_str().unwrap(),
            row["metric"].as_str().unwrap(),
            row["event_time"].as_str().unwrap(),
            row["event_id"].as_str().unwrap_or("<null>"),
            row["value"].as_str().unwrap(),
            row["received_at"].as_str().unwrap(),
        )
    }));
    let outcome = expected(&inputs);
    let wanted: Vec<String> = sorted(outcome.accepted.iter().map(|(event, now)| {
        format!(
            "{}|{}|{}|{}|{}|{}|{:?}",
            event.tenant_id,
            event.metric,
            event.event_time,
            event.event_id().unwrap_or("<null>"),
            event.value.normalize(),
            now,
            event.dimensions,
        )
    }));
    assert_eq!(read.len(), wanted.len(), "one row per accepted event");
    assert_eq!(read, wanted);
}

fn sorted(rows: impl Iterator<Item = String>) -> Vec<String> {
    let mut rows: Vec<String> = rows.collect();
    rows.sort();
    rows
}
