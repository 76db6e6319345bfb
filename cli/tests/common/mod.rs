//! The harness of the end-to-end tests: runs the real `tally` binary on the shared fixtures and
//! on a sample month, and computes what it must produce with the naive reference.
#![allow(dead_code)] // Each test file uses a different part of the harness.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rust_decimal::Decimal;
use tally_runtime::parquet::{DecodedEvent, decode_events};
use tally_sample::{SampleOptions, generate_month};
use tally_schemas::{MeterCatalog, Timestamp};
use tally_testkit::{ReferenceOutcome, ReferenceRun, reference};

/// Processing times of the two fixture runs.
pub const RUN_1_NOW: &str = "2026-11-26T15:00:00Z";
pub const RUN_2_NOW: &str = "2026-11-27T10:00:00Z";
pub const DAY_MILLIS: i64 = 86_400_000;

/// One input file and the processing time to ingest it at.
#[derive(Clone, Debug)]
pub struct Input {
    pub path: PathBuf,
    pub now: Timestamp,
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

pub fn meters_file() -> PathBuf {
    fixtures().join("meters.toml")
}

pub fn catalog() -> MeterCatalog {
    let text = fs::read_to_string(meters_file()).unwrap();
    MeterCatalog::with_operator_meters(&text, "meters.toml").unwrap()
}

/// Runs `tally` with the fixture meters on `data_dir`.
pub fn tally(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tally"))
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--meters")
        .arg(meters_file())
        .args(args)
        .env_remove("TALLY_CRASH_AT")
        .output()
        .expect("tally runs")
}

/// Registers (creates and onboards) every tenant with a valid event in `input` that the data
/// directory does not have yet: metering counts only registered tenants.
pub fn register_tenants(data_dir: &Path, input: &Input) {
    let bytes = fs::read(&input.path).expect("the input is readable");
    let mut tenants = std::collections::BTreeSet::new();
    for line in bytes.split(|byte| *byte == b'\n') {
        if let Ok(event) = tally_schemas::parse_event(line, &catalog()) {
            tenants.insert(event.tenant_id.to_string());
        }
    }
    for tenant in tenants {
        // Onboarding writes the tenant's manifests last but one: a cheap sign it is registered.
        if data_dir.join("manifests").join(&tenant).exists() {
            continue;
        }
        let email = format!("ops+{tenant}@example.com");
        let output = tally(
            data_dir,
            &[
                "tenants", "create", "--id", &tenant, "--name", &tenant, "--email", &email,
            ],
        );
        assert!(
            output.status.success(),
            "registering {tenant} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Ingests one input, its tenants registered first, and returns the JSON summary; panics if
/// tally fails.
pub fn ingest(data_dir: &Path, input: &Input, extra: &[&str]) -> serde_json::Value {
    register_tenants(data_dir, input);
    let now = input.now.to_string();
    let path = input.path.to_str().unwrap();
    let mut args = vec!["ingest", "--format", "json", "--now", &now];
    args.extend_from_slice(extra);
    args.push(path);
    let output = tally(data_dir, &args);
    assert!(
        output.status.success(),
        "tally ingest failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the summary is JSON")
}

/// The corpus: the first `days` daily runs of a sample October for three tenants, then the two
/// fixture runs of late November (with a generated oversized line in the first).
pub fn corpus(scratch: &Path, days: usize) -> Vec<Input> {
    let month = Timestamp::parse("2026-10-01T00:00:00Z").unwrap();
    let plan = generate_month(
        month,
        &SampleOptions {
            seed: 7,
            tenants: 3,
            scale: 1,
        },
    );
    let mut inputs = Vec::new();
    for run in plan.runs.iter().take(days) {
        let path = scratch.join(format!("{}.ndjson", run.name));
        fs::write(&path, run.lines.join("\n") + "\n").unwrap();
        inputs.push(Input { path, now: run.now });
    }
    let oversized = scratch.join("oversized.ndjson");
    let huge = format!(
        "{{\"tenant_id\":\"tenant_123\",\"metric\":\"api_calls\",\"timestamp\":\"2026-11-26T14:00:00Z\",\"pad\":\"{}\"}}",
        "x".repeat(1_100_000)
    );
    let small = r#"{"tenant_id":"tenant_123","metric":"api_calls","timestamp":"2026-11-26T14:30:00Z","event_id":"after-huge"}"#;
    fs::write(&oversized, format!("{huge}\n{small}\r\n")).unwrap();
    let run_1 = Timestamp::parse(RUN_1_NOW).unwrap();
    inputs.push(Input {
        path: fixtures().join("events/contract-run-1.ndjson"),
        now: run_1,
    });
    inputs.push(Input {
        path: oversized,
        now: run_1,
    });
    inputs.push(Input {
        path: fixtures().join("events/contract-run-2.ndjson"),
        now: Timestamp::parse(RUN_2_NOW).unwrap(),
    });
    inputs
}

/// What the reference says the inputs produce. Lines are split as `tally` splits them.
pub fn expected(inputs: &[Input]) -> ReferenceOutcome {
    let runs: Vec<ReferenceRun> = inputs
        .iter()
        .map(|input| {
            let text = fs::read(&input.path).unwrap();
            let lines = text.split(|byte| *byte == b'\n').map(|line| {
                String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line)).into_owned()
            });
            let mut lines: Vec<String> = lines.collect();
            if text.ends_with(b"\n") {
                lines.pop();
            }
            ReferenceRun {
                now: input.now,
                source: input.path.display().to_string(),
                lines,
            }
        })
        .collect();
    let mut outcome = reference(&runs, &catalog(), 35 * DAY_MILLIS, 5 * 60_000);
    // The reference parses every line; blank lines are skipped by tally, and lines over 1 MiB
    // are refused before parsing as too_large (the parser says the same, so only blanks move).
    let blank = runs
        .iter()
        .flat_map(|run| &run.lines)
        .filter(|line| line.trim().is_empty())
        .count();
    if let Some(invalid) = outcome.rejected.get_mut("invalid_json") {
        *invalid -= blank;
    }
    outcome.rejected.retain(|_, count| *count > 0);
    outcome
}

/// Every rollup `tally usage` reports, at every granularity, keyed like the reference.
pub fn usage(data_dir: &Path) -> BTreeMap<(String, String, &'static str, i64), (Decimal, u64)> {
    usage_of(|args| tally(data_dir, args))
}

/// Every rollup `run` reports when given `usage` arguments, at every granularity.
pub fn usage_of(
    run: impl Fn(&[&str]) -> Output,
) -> BTreeMap<(String, String, &'static str, i64), (Decimal, u64)> {
    let mut rows = BTreeMap::new();
    for granularity in ["hour", "day", "month"] {
        let output = run(&["usage", "--granularity", granularity, "--format", "json"]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let parsed: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
        for row in parsed {
            let text = |field: &str| row[field].as_str().unwrap().to_owned();
            assert_eq!(text("granularity"), granularity);
            let start = Timestamp::parse(&text("window_start")).unwrap().as_millis();
            let value: Decimal = text("value").parse().unwrap();
            rows.insert(
                (text("tenant_id"), text("metric"), granularity, start),
                (value, row["events"].as_u64().unwrap()),
            );
        }
    }
    rows
}

/// Every events row in the bucket, checking each file sits in its tenant's `dt=` partition.
pub fn parquet_rows(data_dir: &Path) -> Vec<DecodedEvent> {
    let mut rows = Vec::new();
    let tenants = data_dir.join("tenant-data/tenants");
    let Ok(tenant_dirs) = fs::read_dir(&tenants) else {
        return rows;
    };
    for tenant in tenant_dirs {
        let tenant = tenant.unwrap().path();
        let tenant_id = tenant.file_name().unwrap().to_str().unwrap().to_owned();
        for partition in fs::read_dir(tenant.join("usage/events")).unwrap() {
            let partition = partition.unwrap().path();
            let day = partition
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .strip_prefix("dt=")
                .unwrap()
                .to_owned();
            for file in fs::read_dir(&partition).unwrap() {
                let file = file.unwrap().path();
                assert_eq!(
                    file.extension().and_then(|ext| ext.to_str()),
                    Some("parquet"),
                    "{}",
                    file.display()
                );
                for row in decode_events(&fs::read(&file).unwrap()).unwrap() {
                    assert_eq!(row.tenant_id, tenant_id, "{}", file.display());
                    assert_eq!(row.event_time.date_string(), day, "{}", file.display());
                    rows.push(row);
                }
            }
        }
    }
    rows
}

/// A comparable form of an events row: (tenant, metric, event time, event id, value, received at, dimensions).
pub type RowKey = (
    String,
    String,
    i64,
    Option<String>,
    Decimal,
    i64,
    Vec<(String, String)>,
);

pub fn row_keys(rows: &[DecodedEvent]) -> Vec<RowKey> {
    let mut keys: Vec<RowKey> = rows
        .iter()
        .map(|row| {
            (
                row.tenant_id.clone(),
                row.metric.clone(),
                row.event_time.as_millis(),
                row.event_id.clone(),
                row.value.normalize(),
                row.received_at.as_millis(),
                row.dimensions.clone().into_iter().collect(),
            )
        })
        .collect();
    keys.sort();
    keys
}

pub fn expected_row_keys(outcome: &ReferenceOutcome) -> Vec<RowKey> {
    let mut keys: Vec<RowKey> = outcome
        .accepted
        .iter()
        .map(|(event, now)| {
            (
                event.tenant_id.to_string(),
                event.metric.clone(),
                event.event_time.as_millis(),
                event.event_id().map(str::to_owned),
                event.value.normalize(),
                now.as_millis(),
                event.dimensions.clone().into_iter().collect(),
            )
        })
        .collect();
    keys.sort();
    keys
}

/// Sums a summary field over several ingest summaries.
pub fn total(summaries: &[serde_json::Value], field: &str) -> u64 {
    summaries
        .iter()
        .map(|summary| summary[field].as_u64().unwrap())
        .sum()
}

/// Rejected lines by reason over several summaries.
pub fn rejected(summaries: &[serde_json::Value]) -> BTreeMap<String, usize> {
    let mut reasons = BTreeMap::new();
    for summary in summaries {
        for (reason, count) in summary["rejected"].as_object().unwrap() {
            *reasons.entry(reason.clone()).or_default() += count.as_u64().unwrap() as usize;
        }
    }
    reasons
}

/// Asserts two sorted row lists are equal, reporting the counts and the first differences
/// rather than thousands of rows.
pub fn assert_same_rows(actual: &[RowKey], expected: &[RowKey]) {
    if actual == expected {
        return;
    }
    let missing: Vec<&RowKey> = expected
        .iter()
        .filter(|row| !actual.contains(row))
        .take(3)
        .collect();
    let extra: Vec<&RowKey> = actual
        .iter()
        .filter(|row| !expected.contains(row))
        .take(3)
        .collect();
    panic!(
        "Parquet rows differ: {} rows written, {} expected\nmissing (first 3): {missing:#?}\nunexpected (first 3): {extra:#?}",
        actual.len(),
        expected.len()
    );
}
