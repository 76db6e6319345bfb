//! The AWS commands against moto server (started by scripts/test): `tally aws init` creates the
//! stream, the bucket and the tables once; `tally emit` sends valid lines and fails, naming
//! them, when some are not sent; the same corpus through `tally emit` → Kinesis → `tally
//! consume` (with the stream resharded halfway) gives the rollups and Parquet rows of the
//! embedded pipeline and of the reference;
//! and the seed's boto3 producer works unchanged. `tally consume` counts only the tenants
//! registered in the tenants table, so each test registers the tenants it sends events for.
#![cfg(feature = "aws")]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{
    Input, RUN_1_NOW, RUN_2_NOW, assert_same_rows, catalog, expected, expected_row_keys, fixtures,
    meters_file, parquet_rows, register_tenants, row_keys, usage, usage_of,
};
use tally_aws::{DynamoTables, S3Bucket, runtime, sdk_config};
use tally_runtime::parquet::decode_events;
use tally_runtime::ports::Bucket;
use tally_runtime::quarantine::decode_records;
use tally_schemas::Timestamp;
use tally_tenancy::{NewTenant, TenantStore};
use usage_consumer::registry::DynamoTenants;

/// The names one test's AWS resources get.
struct Names {
    stream: String,
    bucket: String,
    rollups: String,
    state: String,
    tenants: String,
}

impl Names {
    fn new(test: &str) -> Names {
        assert!(
            std::env::var("TALLY_TEST_AWS_ENDPOINT")
                .is_ok_and(|url| url.starts_with("http://127.0.0.1:")),
            "these tests run against moto server on loopback: run scripts/test"
        );
        let id = std::process::id();
        Names {
            stream: format!("{test}-usage-{id}"),
            bucket: format!("{test}-tenant-data-{id}"),
            rollups: format!("{test}-rollups-{id}"),
            state: format!("{test}-state-{id}"),
            tenants: format!("{test}-tenants-{id}"),
        }
    }

    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .env("TALLY_STREAM_NAME", &self.stream)
            .env("TALLY_BUCKET_NAME", &self.bucket)
            .env("TALLY_ROLLUPS_TABLE", &self.rollups)
            .env("TALLY_STATE_TABLE", &self.state)
            .env("TALLY_TENANTS_TABLE", &self.tenants)
            .env_remove("TALLY_CRASH_AT");
        command
    }

    /// Runs `tally` with the fixture meters against these resources.
    fn tally(&self, args: &[&str]) -> Output {
        self.command(Path::new(env!("CARGO_BIN_EXE_tally")))
            .arg("--meters")
            .arg(meters_file())
            .args(args)
            .output()
            .unwrap()
    }

    /// Registers `tenants` in the tenants table (`tally aws init` creates it); a tenant there
    /// already stays as it is.
    fn register(&self, tenants: impl IntoIterator<Item = String>) {
        let runtime = runtime().unwrap();
        let config = runtime.block_on(sdk_config());
        let table = DynamoTenants::new(DynamoTables::client(&config), &self.tenants);
        let now = Timestamp::parse(RUN_1_NOW).unwrap();
        for id in tenants {
            let request: NewTenant = serde_json::from_value(serde_json::json!({
                "tenant_id": id, "name": id, "tier": "standard",
                "admin_email": format!("ops+{id}@example.com"),
            }))
            .unwrap();
            let tenant = request.into_tenant(&catalog(), now).unwrap();
            match runtime.block_on(table.create(&tenant)) {
                Ok(()) | Err(tally_tenancy::Error::Conflict { .. }) => {}
                Err(error) => panic!("registering {id}: {error}"),
            }
        }
    }

    fn python(&self, args: &[&str]) -> Output {
        let python = std::env::var("TALLY_TEST_PYTHON").expect("run scripts/test");
        self.command(Path::new(&python))
            .args(args)
            .env("TZ", "UTC")
            .output()
            .unwrap()
    }
}

/// The tenants of the valid events in `path`.
fn tenants_of(path: &Path) -> std::collections::BTreeSet<String> {
    let bytes = std::fs::read(path).unwrap();
    bytes
        .split(|byte| *byte == b'\n')
        .filter_map(|line| tally_schemas::parse_event(line, &catalog()).ok())
        .map(|event| event.tenant_id.to_string())
        .collect()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn succeeded(output: Output) -> Output {
    assert!(output.status.success(), "{}", text(&output));
    output
}

#[test]
#[ignore = "needs moto server: run scripts/test"]
fn init_then_emit() {
    let names = Names::new("cli");
    let first = succeeded(names.tally(&["aws", "init"]));
    for created in [
        format!("stream {}: created", names.stream),
        format!("bucket {}: created", names.bucket),
        format!("table {}: created", names.rollups),
        format!("table {}: created", names.state),
        format!("table {}: created", names.tenants),
    ] {
        assert!(text(&first).contains(&created), "{}", text(&first));
    }
    let again = succeeded(names.tally(&["aws", "init"]));
    assert_eq!(
        text(&again).matches("already there").count(),
        6,
        "{}",
        text(&again)
    );

    let run_2 = fixtures().join("events/contract-run-2.ndjson");
    let sent = succeeded(names.tally(&["emit", run_2.to_str().unwrap()]));
    assert!(
        text(&sent).starts_with("Sent 12 of 12 lines"),
        "{}",
        text(&sent)
    );

    let run_1 = fixtures().join("events/contract-run-1.ndjson");
    let partly = names.tally(&["emit", run_1.to_str().unwrap()]);
    assert_eq!(
        partly.status.code(),
        Some(1),
        "lines the contract refuses are not sent"
    );
    assert!(
        text(&partly).contains("not sent, invalid_json"),
        "{}",
        text(&partly)
    );
}

/// The line numbers `tally emit` reported as not sent.
fn not_sent(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.trim().strip_prefix("line "))
        .filter_map(|rest| rest.split_once(": not sent"))
        .map(|(number, _)| number.to_owned())
        .collect()
}

#[test]
#[ignore = "needs moto server: run scripts/test"]
fn the_stream_path_equals_the_embedded_pipeline_and_the_reference() {
    let names = Names::new("diff");
    succeeded(names.tally(&["aws", "init", "--shards", "2"]));
    let runs = [
        ("events/contract-run-1.ndjson", RUN_1_NOW),
        ("events/contract-run-2.ndjson", RUN_2_NOW),
    ];
    let data_dir = tempfile::tempdir().unwrap();
    let mut inputs = Vec::new();
    let scratch = tempfile::tempdir().unwrap();
    for (run, (file, now)) in runs.into_iter().enumerate() {
        let path = fixtures().join(file);
        let path_text = path.to_str().unwrap();
        let input = Input {
            path: path.clone(),
            now: Timestamp::parse(now).unwrap(),
        };
        // The same tenants registered on both sides.
        register_tenants(data_dir.path(), &input);
        names.register(tenants_of(&path));
        // The embedded pipeline.
        succeeded(common::tally(
            data_dir.path(),
            &["ingest", "--now", now, path_text],
        ));
        // The stream: valid lines through the producer, refused ones put raw (as a producer
        // that skips validation would), then the consumer until idle. In the second run the
        // stream is resharded halfway, while the first half waits unread in the parents.
        let content = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = content.lines().collect();
        let halves = if run == 0 {
            vec![lines.as_slice()]
        } else {
            let (first, second) = lines.split_at(lines.len() / 2);
            vec![first, second]
        };
        for (half, part) in halves.iter().enumerate() {
            if half == 1 {
                succeeded(names.python(&[
                    "-c",
                    "import boto3, sys; boto3.client('kinesis').update_shard_count(\
                     StreamName=sys.argv[1], TargetShardCount=4, ScalingType='UNIFORM_SCALING')",
                    &names.stream,
                ]));
            }
            let part_path = scratch.path().join(format!("run-{run}-{half}.ndjson"));
            std::fs::write(&part_path, part.join("\n") + "\n").unwrap();
            let part_text = part_path.to_str().unwrap();
            let emitted = names.tally(&["emit", part_text]);
            let refused = not_sent(&emitted);
            if !refused.is_empty() {
                let script =
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/aws/put_lines.py");
                let mut args = vec![script.to_str().unwrap(), names.stream.as_str(), part_text];
                args.extend(refused.iter().map(String::as_str));
                succeeded(names.python(&args));
            }
        }
        let consumed = succeeded(names.tally(&["consume", "--until-idle", "--now", now]));
        assert!(
            text(&consumed).starts_with("Consumed"),
            "{}",
            text(&consumed)
        );
        inputs.push(input);
    }
    // A second consumer run finds nothing new: the checkpoints hold.
    let idle = succeeded(names.tally(&["consume", "--until-idle", "--now", RUN_2_NOW]));
    assert!(
        text(&idle).starts_with("Consumed 0 records"),
        "{}",
        text(&idle)
    );

    let outcome = expected(&inputs);
    let embedded = usage(data_dir.path());
    let stream = usage_of(|args| {
        let mut with_backend = args.to_vec();
        with_backend.extend(["--backend", "aws"]);
        names.tally(&with_backend)
    });
    assert_eq!(
        embedded, outcome.rollups,
        "embedded rollups against the reference"
    );
    assert_eq!(stream, embedded, "stream rollups against the embedded ones");

    let runtime = runtime().unwrap();
    let config = runtime.block_on(sdk_config());
    let bucket = S3Bucket::new(
        S3Bucket::client(&config),
        &names.bucket,
        runtime.handle().clone(),
    );
    let mut s3_rows = Vec::new();
    for key in bucket.list("tenants/").unwrap() {
        s3_rows.extend(decode_events(&bucket.get(&key).unwrap().unwrap()).unwrap());
    }
    let expected_rows = expected_row_keys(&outcome);
    assert_same_rows(&row_keys(&parquet_rows(data_dir.path())), &expected_rows);
    assert_same_rows(&row_keys(&s3_rows), &expected_rows);

    // Every refused line is in the stream's quarantine, with its reason.
    let mut reasons = std::collections::BTreeMap::<String, usize>::new();
    for key in bucket.list("quarantine/").unwrap() {
        for record in decode_records(&bucket.get(&key).unwrap().unwrap()).unwrap() {
            *reasons.entry(record.reason.to_string()).or_default() += 1;
        }
    }
    assert_eq!(reasons, outcome.rejected);
    assert!(bucket.list("_staging/").unwrap().is_empty());
}

#[test]
#[ignore = "needs moto server: run scripts/test"]
fn the_seed_producer_example_works_unchanged() {
    let mut names = Names::new("seed");
    // The example names its stream; this is the one test that uses the default name.
    names.stream = "usage-metering".into();
    // A fresh stream, even on an emulator an earlier run of the suite used.
    succeeded(names.python(&[
        "-c",
        "import boto3\nkinesis = boto3.client('kinesis')\ntry:\n    \
         kinesis.delete_stream(StreamName='usage-metering')\n\
         except kinesis.exceptions.ResourceNotFoundException:\n    pass",
    ]));
    succeeded(names.tally(&["aws", "init"]));
    names.register(["tenant_123".to_owned()]);
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/boto3_producer.py");
    succeeded(names.python(&[example.to_str().unwrap()]));
    succeeded(names.tally(&["consume", "--until-idle"]));
    let day = usage_of(|args| {
        let mut with_backend = args.to_vec();
        with_backend.extend(["--backend", "aws", "--tenant", "tenant_123"]);
        names.tally(&with_backend)
    });
    let api_calls: Vec<_> = day
        .iter()
        .filter(|((_, metric, granularity, _), _)| metric == "api_calls" && *granularity == "day")
        .map(|(_, value)| *value)
        .collect();
    assert_eq!(api_calls, [(1.into(), 1)]);
}
