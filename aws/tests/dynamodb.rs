//! The DynamoDB ledger tables keep the same contract as the in-memory ones, and carry the
//! stream consumer's commits together with S3, against moto server on loopback (started by
//! scripts/test).

use std::sync::atomic::{AtomicUsize, Ordering};

use tally_aws::{DynamoTables, S3Bucket, runtime, sdk_config};
use tally_runtime::contract::ledger_tables_contract;
use tally_runtime::ports::{Bucket, RollupFilter};
use tally_runtime::stream::{ConsumerConfig, LedgerTables, Position, StreamConsumer, StreamRecord};
use tally_schemas::{MeterCatalog, Timestamp};

fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn check_endpoint() {
    assert!(
        std::env::var("TALLY_TEST_AWS_ENDPOINT")
            .is_ok_and(|url| url.starts_with("http://127.0.0.1:")),
        "these tests run against moto server on loopback: run scripts/test"
    );
}

/// New, empty tables on the emulator for each test.
fn fresh_tables(runtime: &tokio::runtime::Runtime) -> DynamoTables {
    check_endpoint();
    let config = runtime.block_on(sdk_config());
    let tables = DynamoTables::new(
        DynamoTables::client(&config),
        unique("rollups"),
        unique("state"),
        runtime.handle().clone(),
    );
    let created = tables.create_if_missing().unwrap();
    assert!(created.iter().all(|(_, created)| *created));
    // Creating again finds them.
    let again = tables.create_if_missing().unwrap();
    assert!(again.iter().all(|(_, created)| !*created));
    tables
}

#[test]
#[ignore = "needs moto server: run scripts/test"]
fn dynamodb_keeps_the_ledger_tables_contract() {
    let runtime = runtime().unwrap();
    ledger_tables_contract(&fresh_tables(&runtime));
}

#[test]
#[ignore = "needs moto server: run scripts/test"]
fn the_stream_consumer_commits_to_s3_and_dynamodb_once() {
    let runtime = runtime().unwrap();
    let tables = fresh_tables(&runtime);
    let config = runtime.block_on(sdk_config());
    let bucket = S3Bucket::new(
        S3Bucket::client(&config),
        unique("tally-stream"),
        runtime.handle().clone(),
    );
    bucket.create_if_missing().unwrap();
    let consumer_config = ConsumerConfig {
        catalog: MeterCatalog::defaults(),
        max_event_age_days: 35,
        stream: "usage-metering".into(),
        cached_tenants: 100,
    };
    let mut consumer =
        StreamConsumer::open(bucket.clone(), tables.clone(), consumer_config.clone()).unwrap();
    let lines = [
        r#"{"tenant_id":"acme","metric":"api_calls","value":2,"timestamp":"2026-11-26T14:00:00Z","event_id":"a"}"#,
        r#"{"tenant_id":"acme","metric":"api_calls","value":2,"timestamp":"2026-11-26T14:00:00Z","event_id":"a"}"#,
        r#"{"tenant_id":"acme","metric":"active_users","timestamp":"2026-11-26T14:01:00Z","dimensions":{"user_id":"u1"}}"#,
        r#"{"tenant_id":"beta","metric":"storage_gb","value":"10.5","timestamp":"2026-11-26T12:00:00Z","event_id":"s"}"#,
        r#"{"tenant_id":"beta","metric":"nope","timestamp":"2026-11-26T12:00:00Z"}"#,
        "not json",
    ];
    let records: Vec<StreamRecord> = lines
        .iter()
        .enumerate()
        .map(|(index, line)| StreamRecord {
            position: Position::new(&(100 + index).to_string(), 0).unwrap(),
            data: line.as_bytes().to_vec(),
        })
        .collect();
    let now = Timestamp::parse("2026-11-26T15:00:00Z").unwrap();
    let report = consumer.process("shardId-000000000000", &records, now);
    assert_eq!(report.retry_from, None, "{:?}", report.errors);
    let totals = report.totals();
    assert_eq!((totals.accepted, totals.duplicates), (3, 1));
    // A retry of the whole batch by a fresh consumer (a new Lambda sandbox) changes nothing.
    let first = tables.rollups(&RollupFilter::default()).unwrap();
    let mut fresh = StreamConsumer::open(bucket.clone(), tables.clone(), consumer_config).unwrap();
    let again = fresh.process("shardId-000000000000", &records, now);
    assert_eq!(again.retry_from, None, "{:?}", again.errors);
    assert_eq!(again.totals().redelivered, 5);
    assert_eq!(tables.rollups(&RollupFilter::default()).unwrap(), first);
    let api_calls_day = first
        .iter()
        .find(|(key, _)| key.metric == "api_calls" && key.granularity.as_str() == "day")
        .unwrap();
    assert_eq!(api_calls_day.1.amount, 2.into());
    assert_eq!(api_calls_day.1.events, 1);
    // The events files and the quarantine are in S3; nothing is left staged or pending.
    let events = bucket.list("tenants/").unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(bucket.list("quarantine/").unwrap().len(), 2);
    assert!(bucket.list("_staging/").unwrap().is_empty());
    for tenant in tables.tenants().unwrap() {
        assert_eq!(tables.head(&tenant).unwrap().unwrap().pending, None);
    }
}
