//! The S3 bucket keeps the same contract as the local and in-memory buckets, against moto
//! server on loopback (started by scripts/test), and carries the pipeline's staged commits.

use std::sync::atomic::{AtomicUsize, Ordering};

use tally_aws::{S3Bucket, runtime, sdk_config};
use tally_runtime::contract::bucket_contract;
use tally_runtime::memory::MemoryStore;
use tally_runtime::pipeline::{IngestOptions, Pipeline, PipelineConfig};
use tally_runtime::ports::Bucket;
use tally_schemas::{MeterCatalog, Timestamp};

/// A new, empty bucket on the emulator for each test.
fn fresh_bucket(runtime: &tokio::runtime::Runtime) -> S3Bucket {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    assert!(
        std::env::var("TALLY_TEST_AWS_ENDPOINT")
            .is_ok_and(|url| url.starts_with("http://127.0.0.1:")),
        "these tests run against moto server on loopback: run scripts/test"
    );
    let config = runtime.block_on(sdk_config());
    let client = S3Bucket::client(&config);
    let name = format!(
        "tally-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    runtime
        .block_on(client.create_bucket().bucket(&name).send())
        .expect("creating the test bucket");
    S3Bucket::new(client, name, runtime.handle().clone())
}

#[test]
#[ignore = "needs moto server: run scripts/test"]
fn s3_keeps_the_bucket_contract() {
    let runtime = runtime().unwrap();
    bucket_contract(&fresh_bucket(&runtime));
}

#[test]
#[ignore = "needs moto server: run scripts/test"]
fn the_pipeline_commits_its_files_to_s3() {
    let runtime = runtime().unwrap();
    let bucket = fresh_bucket(&runtime);
    let config = PipelineConfig {
        catalog: MeterCatalog::defaults(),
        max_event_age_days: 35,
        crash_at: None,
    };
    let mut pipeline = Pipeline::open(bucket, MemoryStore::default(), config).unwrap();
    let lines = [
        r#"{"tenant_id":"acme","metric":"api_calls","timestamp":"2026-11-26T14:00:00Z","event_id":"a"}"#,
        r#"{"tenant_id":"acme","metric":"api_calls","timestamp":"2026-11-26T14:00:00Z","event_id":"a"}"#,
        r#"{"tenant_id":"beta","metric":"cpu_hours","value":"0.5","timestamp":"2026-11-25T09:00:00Z","event_id":"b"}"#,
        "not json",
    ];
    let options = IngestOptions {
        source: "s3-test".into(),
        now: Timestamp::parse("2026-11-26T15:00:00Z").unwrap(),
        commit_every: 2,
    };
    let summary = pipeline
        .ingest(lines.join("\n").as_bytes(), &options, &mut |_| {})
        .unwrap();
    assert_eq!(
        (
            summary.accepted,
            summary.duplicates,
            summary.rejected_total()
        ),
        (2, 1, 1)
    );
    let bucket = pipeline.bucket();
    let events = bucket.list("tenants/").unwrap();
    assert_eq!(events.len(), 2, "one object per tenant and day: {events:?}");
    assert!(
        events
            .iter()
            .any(|key| key.starts_with("tenants/acme/usage/events/dt=2026-11-26/"))
    );
    let rows: usize = events
        .iter()
        .map(|key| {
            tally_runtime::parquet::decode_events(&bucket.get(key).unwrap().unwrap())
                .unwrap()
                .len()
        })
        .sum();
    assert_eq!(rows, 2);
    assert_eq!(bucket.list("quarantine/").unwrap().len(), 1);
    assert!(
        bucket.list("_staging/").unwrap().is_empty(),
        "nothing stays staged"
    );
}
