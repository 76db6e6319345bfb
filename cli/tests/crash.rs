//! Acceptance: a crash at any moment of an ingest, followed by running the same input again,
//! ends with exact totals and no Parquet row twice. Two ways to crash: the `TALLY_CRASH_AT`
//! hook aborts at each step between writes of a chosen commit, and SIGKILL lands at random
//! moments of real runs.

mod common;

use std::path::Path;
use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

use common::*;

fn assert_matches_reference(data_dir: &Path, inputs: &[Input]) {
    let expected = expected(inputs);
    let usage = usage(data_dir);
    assert_eq!(usage.len(), expected.rollups.len(), "rollup count");
    for (key, value) in &expected.rollups {
        assert_eq!(usage.get(key), Some(value), "rollup {key:?}");
    }
    assert_same_rows(
        &row_keys(&parquet_rows(data_dir)),
        &expected_row_keys(&expected),
    );
    let leftovers = files_under(&data_dir.join("tenant-data/_staging"));
    assert!(
        leftovers.is_empty(),
        "nothing is left staged after a clean run: {leftovers:?}"
    );
}

/// Every file below `directory`, recursively (none when it does not exist).
fn files_under(directory: &Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn ingest_command(data_dir: &Path, input: &Input) -> Command {
    register_tenants(data_dir, input);
    let mut command = Command::new(env!("CARGO_BIN_EXE_tally"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--meters")
        .arg(meters_file())
        .args([
            "ingest",
            "--format",
            "json",
            "--commit-every",
            "250",
            "--now",
            &input.now.to_string(),
        ])
        .arg(&input.path)
        .env_remove("TALLY_CRASH_AT");
    command
}

#[test]
fn an_abort_between_any_two_writes_is_recovered_exactly() {
    let scratch = tempfile::tempdir().unwrap();
    let inputs = corpus(scratch.path(), 2);
    for step in ["after-stage", "after-commit", "after-first-promote"] {
        for commit in [1, 4] {
            let data_dir = scratch.path().join(format!("data-{step}-{commit}"));
            let mut crashed = false;
            for input in &inputs {
                // GIVEN a run that aborts at the chosen step of the chosen commit
                let status = ingest_command(&data_dir, input)
                    .env("TALLY_CRASH_AT", format!("{step}:{commit}"))
                    .output()
                    .unwrap()
                    .status;
                if !status.success() {
                    crashed = true;
                    // WHEN the same input is ingested again
                    ingest(&data_dir, input, &["--commit-every", "250"]);
                }
            }
            assert!(crashed, "the hook {step}:{commit} fired");
            // THEN the totals and the files are exactly the reference's
            assert_matches_reference(&data_dir, &inputs);
        }
    }
}

#[test]
fn sigkill_at_random_moments_then_rerun_gives_exact_totals() {
    let scratch = tempfile::tempdir().unwrap();
    let data_dir = scratch.path().join("data");
    let inputs = corpus(scratch.path(), 4);
    // A fixed sequence of kill delays (a linear congruential walk), so a failure reproduces.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut kills = 0;
    for input in &inputs {
        for _attempt in 0..2 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let delay_ms = 20 + (state >> 33) % 400;
            let mut child = ingest_command(&data_dir, input)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap();
            sleep(Duration::from_millis(delay_ms));
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL on Unix
                kills += 1;
            }
            child.wait().unwrap();
        }
        ingest(&data_dir, input, &["--commit-every", "250"]);
    }
    assert!(kills > 0, "at least one run was killed mid-way");
    assert_matches_reference(&data_dir, &inputs);
}
