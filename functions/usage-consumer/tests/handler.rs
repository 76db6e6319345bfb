//! The handler against Kinesis event fixtures, with in-memory adapters and a registry of the
//! fixture's tenants: poison records are quarantined without failing the batch, KPL aggregates
//! are unpacked, a throttle names the first record not committed, whose retry double counts
//! nothing, unregistered and suspended tenants' records are quarantined, and a registry that
//! cannot be read holds the batch back.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_lambda_events::event::kinesis::KinesisEvent;
use tally_runtime::memory::MemoryBucket;
use tally_runtime::ports::{Bucket, RollupFilter};
use tally_runtime::quarantine::decode_records;
use tally_runtime::stream::faults::{FaultPlan, Faulty};
use tally_runtime::stream::{ConsumerConfig, LedgerTables, MemoryTables, StreamConsumer};
use tally_runtime::{Error, Result};
use tally_schemas::{MeterCatalog, TenantId, Timestamp};
use tally_tenancy::{NewTenant, Status, Tenant};
use usage_consumer::handle;
use usage_consumer::registry::Registry;

const FIXTURE: &str = include_str!("fixtures/kinesis-batch.json");

fn now() -> Timestamp {
    Timestamp::parse("2026-11-26T15:00:00Z").unwrap()
}

fn config() -> ConsumerConfig {
    ConsumerConfig {
        catalog: MeterCatalog::defaults(),
        max_event_age_days: 35,
        stream: "usage-metering".into(),
        cached_tenants: 100,
    }
}

/// A tenant as the control plane creates it, `pending` (whose events are counted).
fn tenant(id: &str) -> Tenant {
    let request: NewTenant = serde_json::from_value(serde_json::json!({
        "tenant_id": id, "name": id, "tier": "standard", "admin_email": "ops@example.com"
    }))
    .unwrap();
    request
        .into_tenant(&MeterCatalog::defaults(), now())
        .unwrap()
}

/// The registry of these tenants.
fn registry(tenants: Vec<Tenant>) -> Registry<impl Fn() -> Result<Vec<Tenant>>> {
    Registry::new(move || Ok(tenants.clone()))
}

/// The registry of the fixture's tenants.
fn fixture_tenants() -> Registry<impl Fn() -> Result<Vec<Tenant>>> {
    registry(vec![tenant("acme"), tenant("beta")])
}

fn fixture() -> KinesisEvent {
    serde_json::from_str(FIXTURE).expect("the fixture is a Kinesis event")
}

/// `(tenant, metric, granularity) -> (amount, events)` of every rollup.
fn rollups(tables: &impl LedgerTables) -> Vec<(String, String, String, String, u64)> {
    tables
        .rollups(&RollupFilter::default())
        .unwrap()
        .into_iter()
        .map(|(key, rollup)| {
            (
                key.tenant_id.to_string(),
                key.metric,
                key.granularity.as_str().to_owned(),
                rollup.amount.normalize().to_string(),
                rollup.events,
            )
        })
        .collect()
}

fn quarantined(bucket: &MemoryBucket) -> Vec<(String, String, String)> {
    let mut records = Vec::new();
    for key in bucket.list("quarantine/").unwrap() {
        for record in decode_records(&bucket.get(&key).unwrap().unwrap()).unwrap() {
            records.push((record.reason.to_string(), record.source, record.position));
        }
    }
    records.sort();
    records
}

#[test]
fn poison_records_are_quarantined_and_the_batch_succeeds() {
    let bucket = Arc::new(MemoryBucket::default());
    let tables = Arc::new(MemoryTables::default());
    let mut consumer = StreamConsumer::open(bucket.clone(), tables.clone(), config()).unwrap();
    let mut tenants = fixture_tenants();
    let handled = handle(
        &mut consumer,
        &mut tenants,
        "usage-metering",
        &fixture(),
        now(),
    )
    .unwrap();
    assert!(handled.response.batch_item_failures.is_empty());
    let shard = "usage-metering/shardId-000000000003";
    assert_eq!(
        quarantined(&bucket),
        [
            (
                "invalid_json".to_owned(),
                shard.to_owned(),
                "49656613895413590581431434937273145111633266015616909314.0".to_owned()
            ),
            (
                "unknown_metric".to_owned(),
                shard.to_owned(),
                "49656613895413590581431434937275562963272495273966321666.0".to_owned()
            ),
        ]
    );
    let counted = rollups(tables.as_ref());
    let day = |tenant: &str, metric: &str| {
        counted
            .iter()
            .find(|row| row.0 == tenant && row.1 == metric && row.2 == "day")
            .map(|row| (row.3.clone(), row.4))
    };
    assert_eq!(day("acme", "api_calls"), Some(("1".into(), 1)));
    assert_eq!(day("beta", "cpu_hours"), Some(("0.25".into(), 1)));
    assert_eq!(day("beta", "active_users"), Some(("1".into(), 1)));
    // The log: one summary line, then one EMF line per tenant with the tenant as a property.
    let lines: Vec<serde_json::Value> = handled
        .log_lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["accepted"], 3);
    assert_eq!(lines[0]["rejected"]["invalid_json"], 1);
    assert_eq!(lines[1]["tenant_id"], "acme");
    assert_eq!(lines[1]["Rejected"], 1);
    assert_eq!(
        lines[1]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        serde_json::json!([["stream"]])
    );
}

#[test]
fn kpl_aggregated_records_are_unpacked_into_their_user_records() {
    let mut event = fixture();
    let first = r#"{"tenant_id":"acme","metric":"api_calls","value":5,"timestamp":"2026-11-26T14:00:00Z","event_id":"k-1"}"#;
    let second = r#"{"tenant_id":"acme","metric":"api_calls","value":7,"timestamp":"2026-11-26T14:00:01Z","event_id":"k-2"}"#;
    let packed =
        tally_runtime::kpl::aggregate(&[("acme", first.as_bytes()), ("acme", second.as_bytes())]);
    event.records.truncate(1);
    event.records[0].kinesis.data.0 = packed;
    let bucket = Arc::new(MemoryBucket::default());
    let tables = Arc::new(MemoryTables::default());
    let mut consumer = StreamConsumer::open(bucket, tables.clone(), config()).unwrap();
    let mut tenants = fixture_tenants();
    let handled = handle(&mut consumer, &mut tenants, "usage-metering", &event, now()).unwrap();
    assert!(handled.response.batch_item_failures.is_empty());
    let counted = rollups(tables.as_ref());
    assert!(
        counted.contains(&(
            "acme".into(),
            "api_calls".into(),
            "month".into(),
            "12".into(),
            2
        )),
        "{counted:?}"
    );
}

/// Throttles every rollup write of one tenant while armed.
struct Throttle {
    tenant: TenantId,
    armed: Mutex<bool>,
    throttled: AtomicUsize,
}

impl FaultPlan for Throttle {
    fn before(&self, operation: &'static str, tenant: Option<&TenantId>) -> Result<()> {
        if operation == "apply_rollups"
            && tenant == Some(&self.tenant)
            && *self.armed.lock().unwrap()
        {
            self.throttled.fetch_add(1, Ordering::SeqCst);
            return Err(Error::Remote {
                operation: "DynamoDB UpdateItem".into(),
                detail: "ProvisionedThroughputExceededException".into(),
            });
        }
        Ok(())
    }
}

#[test]
fn a_throttle_names_the_first_record_not_committed_and_the_retry_counts_nothing_twice() {
    let bucket = Arc::new(MemoryBucket::default());
    let tables = Arc::new(MemoryTables::default());
    let throttle = Arc::new(Throttle {
        tenant: TenantId::parse("beta").unwrap(),
        armed: Mutex::new(true),
        throttled: AtomicUsize::new(0),
    });
    let faulty_tables = Faulty {
        inner: tables.clone(),
        plan: throttle.clone(),
    };
    let mut consumer = StreamConsumer::open(bucket.clone(), faulty_tables, config()).unwrap();
    let mut tenants = fixture_tenants();
    let event = fixture();
    let handled = handle(&mut consumer, &mut tenants, "usage-metering", &event, now()).unwrap();
    assert!(throttle.throttled.load(Ordering::SeqCst) > 0);
    // beta's first record is the third of the batch: the mapping retries from there.
    let failures: Vec<_> = handled
        .response
        .batch_item_failures
        .iter()
        .map(|failure| failure.item_identifier.clone())
        .collect();
    assert_eq!(
        failures,
        [Some(
            "49656613895413590581431434937274354037452880644791615490".to_owned()
        )]
    );
    // The retry: the mapping delivers the batch again from that record, and the throttle is over.
    *throttle.armed.lock().unwrap() = false;
    let mut retry = event.clone();
    retry.records.drain(..2);
    let handled = handle(&mut consumer, &mut tenants, "usage-metering", &retry, now()).unwrap();
    assert!(handled.response.batch_item_failures.is_empty());
    // And once more, whole, as a bisect or a duplicate invocation would.
    let handled = handle(&mut consumer, &mut tenants, "usage-metering", &event, now()).unwrap();
    assert!(handled.response.batch_item_failures.is_empty());
    let clean_tables = Arc::new(MemoryTables::default());
    let mut clean = StreamConsumer::open(
        Arc::new(MemoryBucket::default()),
        clean_tables.clone(),
        config(),
    )
    .unwrap();
    handle(
        &mut clean,
        &mut fixture_tenants(),
        "usage-metering",
        &event,
        now(),
    )
    .unwrap();
    assert_eq!(rollups(tables.as_ref()), rollups(clean_tables.as_ref()));
    assert_eq!(quarantined(&bucket).len(), 2, "{:?}", quarantined(&bucket));
}

#[test]
fn unregistered_and_suspended_tenants_records_are_quarantined_with_their_reasons() {
    // GIVEN a registry where acme is suspended and beta is not registered
    let mut acme = tenant("acme");
    acme.status = Status::Suspended;
    acme.status_reason = Some("unpaid".into());
    let mut tenants = registry(vec![acme]);
    let bucket = Arc::new(MemoryBucket::default());
    let tables = Arc::new(MemoryTables::default());
    let mut consumer = StreamConsumer::open(bucket.clone(), tables.clone(), config()).unwrap();
    // WHEN the fixture is handled
    let handled = handle(
        &mut consumer,
        &mut tenants,
        "usage-metering",
        &fixture(),
        now(),
    )
    .unwrap();
    // THEN the batch succeeds, nothing is counted, and every record is kept with its reason
    assert!(handled.response.batch_item_failures.is_empty());
    assert!(rollups(tables.as_ref()).is_empty());
    let reasons: Vec<String> = quarantined(&bucket)
        .into_iter()
        .map(|(reason, _, _)| reason)
        .collect();
    assert_eq!(
        reasons,
        [
            "invalid_json",
            "tenant_suspended",
            "unknown_metric",
            "unknown_tenant",
            "unknown_tenant"
        ]
    );
}

#[test]
fn the_registry_is_read_once_a_minute_and_an_unreadable_one_holds_the_batch_back() {
    let reads = Arc::new(AtomicUsize::new(0));
    let failing = Arc::new(Mutex::new(true));
    let counter = reads.clone();
    let down = failing.clone();
    let mut tenants = Registry::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        if *down.lock().unwrap() {
            return Err(Error::Remote {
                operation: "reading the tenant registry tenants".into(),
                detail: "ProvisionedThroughputExceededException".into(),
            });
        }
        Ok(vec![tenant("acme"), tenant("beta")])
    });
    let bucket = Arc::new(MemoryBucket::default());
    let tables = Arc::new(MemoryTables::default());
    let mut consumer = StreamConsumer::open(bucket.clone(), tables.clone(), config()).unwrap();
    let event = fixture();
    // WHEN the registry cannot be read, THEN nothing is processed and the batch comes again
    let held = handle(&mut consumer, &mut tenants, "usage-metering", &event, now()).unwrap();
    let failures: Vec<_> = held
        .response
        .batch_item_failures
        .iter()
        .map(|failure| failure.item_identifier.clone())
        .collect();
    assert_eq!(
        failures,
        [Some(event.records[0].kinesis.sequence_number.clone())]
    );
    assert!(held.log_lines[0].contains("tenant registry unavailable"));
    assert!(quarantined(&bucket).is_empty() && rollups(tables.as_ref()).is_empty());
    // WHEN it can be read again, THEN the batch is counted, and the next batches within the
    // minute read it no more
    *failing.lock().unwrap() = false;
    handle(&mut consumer, &mut tenants, "usage-metering", &event, now()).unwrap();
    let later = now().plus_millis(59_000);
    handle(&mut consumer, &mut tenants, "usage-metering", &event, later).unwrap();
    assert_eq!(reads.load(Ordering::SeqCst), 2);
    assert_eq!(
        rollups(tables.as_ref()).len(),
        9,
        "{:?}",
        rollups(tables.as_ref())
    );
    let next_minute = now().plus_millis(60_000);
    handle(
        &mut consumer,
        &mut tenants,
        "usage-metering",
        &event,
        next_minute,
    )
    .unwrap();
    assert_eq!(reads.load(Ordering::SeqCst), 3);
}
