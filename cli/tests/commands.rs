//! The command line's behaviour at its edges: clear errors for bad input, every format of
//! `tally usage`, help with examples.

mod common;

use std::fs;
use std::path::Path;

use common::*;
use tally_schemas::Timestamp;

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Ingests the first fixture run into `data_dir` and returns it as an input.
fn ingest_run_1(data_dir: &std::path::Path) -> Input {
    let input = Input {
        path: fixtures().join("events/contract-run-1.ndjson"),
        now: Timestamp::parse(RUN_1_NOW).unwrap(),
    };
    ingest(data_dir, &input, &[]);
    input
}

/// Asserts that a command failed and that its error says `expected`.
fn assert_fails_saying(output: &std::process::Output, expected: &str) {
    assert!(!output.status.success(), "the command succeeded");
    assert!(
        stderr(output).contains(expected),
        "{} lacks {expected:?}",
        stderr(output)
    );
}

#[test]
fn usage_refuses_a_missing_data_dir_a_hostile_tenant_and_an_unknown_meter() {
    let scratch = tempfile::tempdir().unwrap();
    let data_dir = scratch.path().join("never-used");
    let output = tally(&data_dir, &["usage"]);
    assert_fails_saying(&output, "run `tally demo`");
    assert!(
        !data_dir.exists(),
        "reading must not create a data directory"
    );

    ingest_run_1(&data_dir);
    let output = tally(&data_dir, &["usage", "--tenant", "../x"]);
    assert_fails_saying(&output, "tenant_id");
    let output = tally(&data_dir, &["usage", "--metric", "gpu_seconds"]);
    assert_fails_saying(&output, "known meters");
}

#[test]
fn usage_formats_agree() {
    let scratch = tempfile::tempdir().unwrap();
    let data_dir = scratch.path().join("data");
    ingest_run_1(&data_dir);
    let filter = ["--tenant", "beta-2", "--granularity", "day"];
    let json = tally(
        &data_dir,
        &[&["usage", "--format", "json"][..], &filter].concat(),
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&json.stdout).unwrap();
    let csv = String::from_utf8(
        tally(
            &data_dir,
            &[&["usage", "--format", "csv"][..], &filter].concat(),
        )
        .stdout,
    )
    .unwrap();
    let table =
        String::from_utf8(tally(&data_dir, &[&["usage"][..], &filter].concat()).stdout).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("tenant_id,metric,granularity,window_start,window_end,value,unit,events")
    );
    let csv_rows: Vec<&str> = lines.collect();
    assert_eq!(csv_rows.len(), rows.len());
    assert!(!rows.is_empty());
    for (row, line) in rows.iter().zip(&csv_rows) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[0], row["tenant_id"].as_str().unwrap());
        assert_eq!(cells[1], row["metric"].as_str().unwrap());
        assert_eq!(cells[3], row["window_start"].as_str().unwrap());
        assert_eq!(cells[4], row["window_end"].as_str().unwrap());
        assert_eq!(cells[5], row["value"].as_str().unwrap());
        let metric = row["metric"].as_str().unwrap();
        let value = row["value"].as_str().unwrap();
        assert!(
            table
                .lines()
                .any(|line| line.contains(metric) && line.contains(value)),
            "{metric} {value} missing from the table:\n{table}"
        );
    }
}

#[test]
fn a_meter_redefined_for_an_existing_data_dir_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let data_dir = scratch.path().join("data");
    let input = ingest_run_1(&data_dir);
    let changed = scratch.path().join("meters.toml");
    let text = fs::read_to_string(meters_file())
        .unwrap()
        .replace("aggregation = \"max\"", "aggregation = \"sum\"");
    fs::write(&changed, text).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tally"))
        .args([
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--meters",
            changed.to_str().unwrap(),
            "ingest",
            "--now",
            RUN_1_NOW,
        ])
        .arg(&input.path)
        .output()
        .unwrap();
    assert_fails_saying(&output, "peak_connections");
}

#[test]
fn ingest_names_a_missing_input_and_every_command_has_examples() {
    let scratch = tempfile::tempdir().unwrap();
    let output = tally(scratch.path(), &["ingest", "no-such-file.ndjson"]);
    assert_fails_saying(&output, "no-such-file.ndjson");
    for command in ["ingest", "usage", "demo", "invoice", "reconcile", "rebuild"] {
        let help = String::from_utf8(tally(scratch.path(), &[command, "--help"]).stdout).unwrap();
        assert!(
            help.contains("Examples:") && help.contains(&format!("tally {command}")),
            "{command} --help:\n{help}"
        );
    }
}

#[test]
fn ingest_reads_standard_input() {
    let scratch = tempfile::tempdir().unwrap();
    let data_dir = scratch.path().join("data");
    let created = tally(
        &data_dir,
        &[
            "tenants",
            "create",
            "--id",
            "t",
            "--name",
            "T",
            "--email",
            "t@example.com",
        ],
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tally"))
        .args([
            "--data-dir",
            data_dir.to_str().unwrap(),
            "ingest",
            "--format",
            "json",
            "--now",
            RUN_1_NOW,
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(br#"{"tenant_id":"t","metric":"api_calls","timestamp":"2026-11-26T14:00:00Z","event_id":"x"}"#).unwrap();
    let output = child.wait_with_output().unwrap();
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["accepted"], 1);
}

#[test]
fn invoices_reconcile_with_the_events_and_a_lost_file_is_caught() {
    let scratch = tempfile::tempdir().unwrap();
    let data_dir = scratch.path().join("data");
    for input in corpus(scratch.path(), 0) {
        ingest(&data_dir, &input, &[]);
    }
    let output = tally(
        &data_dir,
        &[
            "invoice", "--period", "2026-11", "--format", "json", "--now", RUN_2_NOW,
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let invoices: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let tenants: Vec<&str> = invoices
        .iter()
        .map(|invoice| invoice["tenant_id"].as_str().unwrap())
        .collect();
    assert_eq!(tenants, ["beta-2", "tenant_123"]);
    for invoice in &invoices {
        let lines: rust_decimal::Decimal = invoice["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|line| {
                line["amount"]
                    .as_str()
                    .unwrap()
                    .parse::<rust_decimal::Decimal>()
                    .unwrap()
            })
            .sum();
        assert_eq!(lines, invoice["total"].as_str().unwrap().parse().unwrap());
        assert_eq!(invoice["status"], "draft");
    }
    let refused = tally(
        &data_dir,
        &[
            "invoice",
            "--period",
            "2026-11",
            "--finalize",
            "--now",
            RUN_2_NOW,
        ],
    );
    assert!(
        !refused.status.success() && stderr(&refused).contains("grace"),
        "{}",
        stderr(&refused)
    );

    let reconcile = tally(&data_dir, &["reconcile", "--period", "2026-11"]);
    assert!(
        reconcile.status.success(),
        "{}",
        String::from_utf8_lossy(&reconcile.stdout)
    );

    // GIVEN one events file lost, THEN reconcile lists the difference and fails
    let partition = data_dir.join("tenant-data/tenants/beta-2/usage/events/dt=2026-11-26");
    let file = fs::read_dir(&partition)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    fs::remove_file(file).unwrap();
    let reconcile = tally(&data_dir, &["reconcile", "--period", "2026-11"]);
    assert_eq!(reconcile.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&reconcile.stdout).contains("DIFFERS"));
}

#[test]
fn quality_lists_every_line_of_the_runs() {
    let scratch = tempfile::tempdir().unwrap();
    let data_dir = scratch.path().join("data");
    let summaries: Vec<_> = corpus(scratch.path(), 0)
        .iter()
        .map(|input| ingest(&data_dir, input, &[]))
        .collect();
    let output = tally(&data_dir, &["usage", "--quality", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let sum = |field: &str| {
        rows.iter()
            .map(|row| row[field].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(sum("accepted"), total(&summaries, "accepted"));
    assert_eq!(sum("duplicates"), total(&summaries, "duplicates"));
    let rejected: u64 = rows
        .iter()
        .flat_map(|row| row["rejected"].as_object().unwrap().values())
        .map(|count| count.as_u64().unwrap())
        .sum();
    assert_eq!(rejected as usize, rejected_total(&summaries));
    assert!(
        rows.iter().any(|row| row["tenant_id"].is_null()),
        "unparseable lines are listed unattributed"
    );
}

fn rejected_total(summaries: &[serde_json::Value]) -> usize {
    rejected(summaries).values().sum()
}

#[test]
fn metering_counts_only_registered_active_tenants_and_keeps_the_rest() {
    // GIVEN an active tenant, a suspended one and an id nobody registered
    let scratch = tempfile::tempdir().unwrap();
    let data_dir = scratch.path().join("data");
    for (id, tier) in [("active-co", "standard"), ("held-co", "premium")] {
        let email = format!("ops@{id}.example");
        let output = tally(
            &data_dir,
            &[
                "tenants", "create", "--id", id, "--name", id, "--tier", tier, "--email", &email,
            ],
        );
        assert!(output.status.success(), "{}", stderr(&output));
    }
    let output = tally(
        &data_dir,
        &[
            "tenants",
            "suspend",
            "held-co",
            "--reason",
            "unpaid invoice",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let lines: String = ["active-co", "held-co", "ghost-co"]
        .iter()
        .map(|tenant| format!("{{\"tenant_id\":\"{tenant}\",\"metric\":\"api_calls\",\"timestamp\":\"2026-11-26T14:00:00Z\",\"event_id\":\"e-{tenant}\"}}\n"))
        .collect();
    let path = scratch.path().join("events.ndjson");
    fs::write(&path, lines).unwrap();
    let input = Input {
        path: path.clone(),
        now: Timestamp::parse(RUN_1_NOW).unwrap(),
    };

    // WHEN the events are ingested (without registering anyone first)
    let run = |data_dir: &Path| {
        let output = tally(
            data_dir,
            &[
                "ingest",
                "--format",
                "json",
                "--now",
                RUN_1_NOW,
                input.path.to_str().unwrap(),
            ],
        );
        assert!(output.status.success(), "{}", stderr(&output));
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    let summary = run(&data_dir);

    // THEN only the active tenant's event counts; the others are quarantined with their reason
    assert_eq!(summary["accepted"], 1);
    assert_eq!(summary["rejected"]["unknown_tenant"], 1);
    assert_eq!(summary["rejected"]["tenant_suspended"], 1);
    let quarantine = fs::read_dir(data_dir.join("tenant-data/quarantine"))
        .unwrap()
        .count();
    assert!(quarantine > 0, "the refused events are kept");

    // WHEN the suspended tenant is activated and its event sent again THEN it counts
    let output = tally(&data_dir, &["tenants", "activate", "held-co"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let summary = run(&data_dir);
    assert_eq!(summary["accepted"], 1, "{summary}");
}

#[test]
fn tenants_are_onboarded_audited_and_offboarded_with_every_local_effect() {
    let scratch = tempfile::tempdir().unwrap();
    let data_dir = scratch.path().join("data");
    // GIVEN a premium tenant created with its id derived from its name and a quota
    let output = tally(
        &data_dir,
        &[
            "tenants",
            "create",
            "--name",
            "Acme Corp",
            "--tier",
            "premium",
            "--email",
            "ops@acme.example",
            "--quota",
            "cpu_hours=1460",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let tenant: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (tenant["tenant_id"].as_str(), tenant["status"].as_str()),
        (Some("acme-corp"), Some("active"))
    );
    assert_eq!(tenant["isolation"], "siloed");
    assert_eq!(tenant["resources"]["auth.user_pool_id"], "local-acme-corp");
    // THEN every step left its effect
    assert!(
        data_dir
            .join("tenant-data/tenants/acme-corp/.tenant")
            .exists()
    );
    let policy = fs::read_to_string(data_dir.join("control/policies/acme-corp.json")).unwrap();
    assert!(
        policy.contains("aws:PrincipalTag/tenant_id") && policy.contains("\"acme-corp\""),
        "{policy}"
    );
    let quota =
        fs::read_to_string(data_dir.join("manifests/acme-corp/20-resource-quota.yaml")).unwrap();
    assert!(quota.contains("\"limits.cpu\": \"2\""), "{quota}");
    let outbox: Vec<_> = fs::read_dir(data_dir.join("outbox")).unwrap().collect();
    assert_eq!(outbox.len(), 1, "one welcome email");

    // WHEN it is offboarded THEN its resources are gone, the record stays, and the log tells all
    let output = tally(&data_dir, &["tenants", "delete", "acme-corp"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let tenant: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(tenant["status"], "offboarded");
    assert!(!data_dir.join("manifests/acme-corp").exists());
    assert!(!data_dir.join("control/policies/acme-corp.json").exists());
    assert!(
        !data_dir
            .join("tenant-data/tenants/acme-corp/.tenant")
            .exists()
    );
    assert_eq!(
        fs::read_dir(data_dir.join("outbox")).unwrap().count(),
        2,
        "and a goodbye"
    );
    let output = tally(&data_dir, &["tenants", "audit", "acme-corp"]);
    let entries: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|entry| entry["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.first(), Some(&"create"));
    assert_eq!(actions.last(), Some(&"offboarding.finish"));
    assert!(entries.iter().all(|entry| entry["actor"] == "tally-cli"));

    // AND hostile ids never reach a path
    for id in ["../x", "a'; drop table t;--", "ténant"] {
        let output = tally(&data_dir, &["tenants", "show", id]);
        assert!(!output.status.success(), "{id} accepted");
    }
    let output = tally(
        &data_dir,
        &[
            "tenants",
            "create",
            "--id",
            "../../etc",
            "--name",
            "x",
            "--email",
            "a@b.io",
        ],
    );
    assert!(!output.status.success());
    assert!(!scratch.path().join("etc").exists());
}
