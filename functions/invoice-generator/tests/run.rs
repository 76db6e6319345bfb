//! The invoice-generator's runs over the stream consumer's tables: drafts, then finalization
//! after the grace period with gauges integrated to the end of the month, repeatable; in memory,
//! and against DynamoDB and S3 on moto server.

use std::sync::Arc;

use invoice_generator::{Action, Request, run};
use rust_decimal::Decimal;
use tally_billing::PlanBook;
use tally_runtime::invoices::{InvoiceStore, MemoryInvoices};
use tally_runtime::memory::MemoryBucket;
use tally_runtime::ports::{Bucket, RollupReader};
use tally_runtime::stream::{
    ConsumerConfig, LedgerTables, MemoryTables, Position, StreamConsumer, StreamRecord,
};
use tally_schemas::{MeterCatalog, Timestamp};

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

fn config() -> ConsumerConfig {
    ConsumerConfig {
        catalog: MeterCatalog::defaults(),
        max_event_age_days: 35,
        stream: "usage-metering".into(),
        cached_tenants: 100,
    }
}

fn records(lines: &[&str]) -> Vec<StreamRecord> {
    lines
        .iter()
        .enumerate()
        .map(|(index, line)| StreamRecord {
            position: Position::new(&(1000 + index).to_string(), 0).unwrap(),
            data: line.as_bytes().to_vec(),
        })
        .collect()
}

fn request(action: Action) -> Request {
    Request {
        action,
        period: None,
        tenant: None,
    }
}

/// October's usage through the consumer, then a draft, a refused early finalization, the
/// finalization and a repeat of it.
fn october<B, T, I>(consumer: &mut StreamConsumer<B, T>, invoices: &mut I)
where
    B: Bucket,
    T: LedgerTables + RollupReader,
    I: InvoiceStore,
{
    let lines = [
        // 10 GB from the first instant of October, and nothing from acme after the 2nd.
        r#"{"tenant_id":"acme","metric":"storage_gb","value":10,"timestamp":"2026-10-01T00:00:00Z","event_id":"s-1"}"#,
        r#"{"tenant_id":"acme","metric":"api_calls","value":1500,"timestamp":"2026-10-01T12:00:00Z","event_id":"c-1"}"#,
        r#"{"tenant_id":"beta","metric":"cpu_hours","value":"2.5","timestamp":"2026-10-01T13:00:00Z","event_id":"j-1"}"#,
    ];
    let report = consumer.process(
        "shardId-000000000000",
        &records(&lines),
        at("2026-10-02T00:00:00Z"),
    );
    assert_eq!(report.retry_from, None, "{:?}", report.errors);
    let catalog = MeterCatalog::defaults();
    let book = PlanBook::defaults();

    let draft = run(
        consumer,
        invoices,
        &catalog,
        &book,
        &request(Action::Draft),
        at("2026-10-16T00:00:00Z"),
        24,
    )
    .unwrap();
    assert_eq!(draft.period, "2026-10");
    assert_eq!(draft.advanced, 2);
    assert_eq!(draft.invoices.len(), 2);
    assert!(
        draft
            .invoices
            .iter()
            .all(|invoice| invoice.status == "draft")
    );
    let acme = invoices.invoice("acme", "2026-10").unwrap().unwrap();
    // Integrated to the run's time: 15 of October's 31 days at 10 GB.
    assert_eq!(
        acme.quantities["storage_gb"],
        (Decimal::from(150) / Decimal::from(31)).normalize()
    );

    let early = run(
        consumer,
        invoices,
        &catalog,
        &book,
        &request(Action::Finalize),
        at("2026-11-01T12:00:00Z"),
        24,
    );
    assert!(
        early.unwrap_err().to_string().contains("grace"),
        "finalizing inside the grace is refused"
    );

    let final_run = run(
        consumer,
        invoices,
        &catalog,
        &book,
        &request(Action::Finalize),
        at("2026-11-02T06:00:00Z"),
        24,
    )
    .unwrap();
    assert_eq!(final_run.period, "2026-10");
    assert!(
        final_run
            .invoices
            .iter()
            .all(|invoice| invoice.status == "final")
    );
    let acme = invoices.invoice("acme", "2026-10").unwrap().unwrap();
    // The level held the whole month: exactly 10 GB-months.
    assert_eq!(acme.quantities["storage_gb"], Decimal::from(10));
    assert_eq!(acme.quantities["api_calls"], Decimal::from(1500));
    let keys = consumer
        .bucket()
        .list("tenants/acme/invoices/2026-10/")
        .unwrap();
    assert_eq!(keys.len(), 3, "JSON, HTML and Parquet: {keys:?}");

    let again = run(
        consumer,
        invoices,
        &catalog,
        &book,
        &request(Action::Finalize),
        at("2026-11-03T06:00:00Z"),
        24,
    )
    .unwrap();
    let numbers = |summary: &invoice_generator::Summary| {
        summary
            .invoices
            .iter()
            .map(|invoice| invoice.number.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(numbers(&again), numbers(&final_run), "no second invoice");
    assert!(
        again
            .invoices
            .iter()
            .all(|invoice| invoice.written.is_empty())
    );
    assert_eq!(invoices.invoices("acme").unwrap().len(), 1);
}

#[test]
fn drafts_then_finals_from_the_ledger_tables() {
    let mut consumer = StreamConsumer::open(
        Arc::new(MemoryBucket::default()),
        Arc::new(MemoryTables::default()),
        config(),
    )
    .unwrap();
    october(&mut consumer, &mut MemoryInvoices::default());
}

#[test]
#[ignore = "needs moto server: run scripts/test"]
fn drafts_then_finals_on_dynamodb_and_s3() {
    assert!(
        std::env::var("TALLY_TEST_AWS_ENDPOINT")
            .is_ok_and(|url| url.starts_with("http://127.0.0.1:")),
        "these tests run against moto server on loopback: run scripts/test"
    );
    let runtime = tally_aws::runtime().unwrap();
    let sdk = runtime.block_on(tally_aws::sdk_config());
    let id = std::process::id();
    let bucket = tally_aws::S3Bucket::new(
        tally_aws::S3Bucket::client(&sdk),
        format!("invoices-data-{id}"),
        runtime.handle().clone(),
    );
    bucket.create_if_missing().unwrap();
    let tables = tally_aws::DynamoTables::new(
        tally_aws::DynamoTables::client(&sdk),
        format!("invoice-rollups-{id}"),
        format!("invoice-state-{id}"),
        runtime.handle().clone(),
    );
    tables.create_if_missing().unwrap();
    let mut invoices = tally_aws::DynamoInvoices::new(
        tally_aws::DynamoTables::client(&sdk),
        format!("invoices-{id}"),
        runtime.handle().clone(),
    );
    assert!(invoices.create_if_missing().unwrap());
    let mut consumer = StreamConsumer::open(bucket, tables, config()).unwrap();
    october(&mut consumer, &mut invoices);
}

#[test]
fn given_usage_past_a_quota_then_the_run_records_one_quota_event_per_period() {
    // GIVEN acme's 1,500 October API calls and a quota of 1,000
    let mut consumer = StreamConsumer::open(
        MemoryBucket::default(),
        Arc::new(MemoryTables::default()),
        config(),
    )
    .unwrap();
    let line = r#"{"tenant_id":"acme","metric":"api_calls","value":1500,"timestamp":"2026-10-01T12:00:00Z","event_id":"c-1"}"#;
    let report = consumer.process(
        "shardId-000000000000",
        &records(&[line]),
        at("2026-10-02T00:00:00Z"),
    );
    assert_eq!(report.retry_from, None, "{:?}", report.errors);
    let request: tally_tenancy::NewTenant = serde_json::from_str(
        r#"{"tenant_id":"acme","name":"Acme","tier":"standard","admin_email":"a@b.io","quotas":{"api_calls":"1000"}}"#,
    )
    .unwrap();
    let tenant = request
        .into_tenant(&MeterCatalog::defaults(), at("2026-09-01T00:00:00Z"))
        .unwrap();

    // WHEN the daily run checks quotas twice
    let first = invoice_generator::check_quotas(
        &consumer,
        std::slice::from_ref(&tenant),
        at("2026-10-16T00:00:00Z"),
    )
    .unwrap();
    let second =
        invoice_generator::check_quotas(&consumer, &[tenant], at("2026-10-17T00:00:00Z")).unwrap();

    // THEN one event is recorded, under the tenant's prefix, and not again
    assert_eq!(first.len(), 1);
    assert_eq!(
        (first[0].usage, first[0].quota),
        (Decimal::from(1500), Decimal::from(1000))
    );
    assert!(second.is_empty());
    assert_eq!(
        consumer
            .bucket()
            .list("tenants/acme/quota-events/")
            .unwrap(),
        vec!["tenants/acme/quota-events/2026-10/api_calls.json"]
    );
}
