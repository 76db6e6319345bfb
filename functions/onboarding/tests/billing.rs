//! The final invoice of an offboarded tenant, drafted by the invoice job over in-memory ledger
//! tables: the tenant's current-period invoice, the same number when repeated, one for a tenant
//! with no usage too, and the ledger opened only when first needed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use onboarding::billing::{DraftFinalInvoice, NO_INVOICE};
use tally_billing::PlanBook;
use tally_runtime::invoices::{MemoryInvoices, invoice_number};
use tally_runtime::memory::MemoryBucket;
use tally_runtime::stream::{ConsumerConfig, MemoryTables, Position, StreamConsumer, StreamRecord};
use tally_schemas::{MeterCatalog, TenantId, Timestamp};
use tally_tenancy::{FinalInvoice, Status, Tenant, TenantConfig, Tier};

fn now() -> Timestamp {
    Timestamp::parse("2026-11-26T15:00:00Z").unwrap()
}

fn tenant(id: &str) -> Tenant {
    Tenant {
        tenant_id: TenantId::parse(id).unwrap(),
        name: id.into(),
        tier: Tier::Standard,
        isolation: Tier::Standard.isolation(),
        status: Status::Offboarding,
        status_reason: None,
        admin_email: "ops@example.com".into(),
        plan: "standard".into(),
        config: TenantConfig {
            region: "us-east-1".into(),
            features: vec![],
        },
        quotas: BTreeMap::new(),
        resources: BTreeMap::new(),
        created_at: now(),
        updated_at: now(),
        version: 3,
    }
}

type Ledger = (
    StreamConsumer<Arc<MemoryBucket>, Arc<MemoryTables>>,
    MemoryInvoices,
);

/// A ledger where acme called the API 1,500 times this month; counts how often it is opened.
fn ledger(opened: Arc<AtomicUsize>) -> impl Fn() -> tally_runtime::Result<Ledger> + Send + Sync {
    let bucket = Arc::new(MemoryBucket::default());
    let tables = Arc::new(MemoryTables::default());
    let config = ConsumerConfig {
        catalog: MeterCatalog::defaults(),
        max_event_age_days: 35,
        stream: "usage-metering".into(),
        cached_tenants: 100,
    };
    let line = r#"{"tenant_id":"acme","metric":"api_calls","value":1500,"timestamp":"2026-11-26T12:00:00Z","event_id":"c-1"}"#;
    let mut consumer =
        StreamConsumer::open(bucket.clone(), tables.clone(), config.clone()).unwrap();
    let records = [StreamRecord {
        position: Position::new("1000", 0).unwrap(),
        data: line.as_bytes().to_vec(),
    }];
    let report = consumer.process("shardId-000000000000", &records, now());
    assert_eq!(report.retry_from, None, "{:?}", report.errors);
    move || {
        opened.fetch_add(1, Ordering::SeqCst);
        let consumer = StreamConsumer::open(bucket.clone(), tables.clone(), config.clone())?;
        Ok((consumer, MemoryInvoices::default()))
    }
}

#[tokio::test]
async fn the_final_invoice_is_the_current_draft_issued_once() {
    let opened = Arc::new(AtomicUsize::new(0));
    let open = ledger(opened.clone());
    let billing = DraftFinalInvoice::new(
        Box::new(open),
        MeterCatalog::defaults(),
        PlanBook::defaults(),
        now,
    );
    assert_eq!(opened.load(Ordering::SeqCst), 0, "opened on first use only");
    // WHEN acme's final invoice is issued, twice
    let number = billing.issue(&tenant("acme")).await.unwrap();
    let again = billing.issue(&tenant("acme")).await.unwrap();
    // THEN it is one invoice, acme's first: the draft of November
    assert_eq!(number, invoice_number("acme", 1));
    assert_eq!(again, number);
    assert_eq!(opened.load(Ordering::SeqCst), 1);
    // AND a tenant without usage gets its own, on its plan's terms alone
    let quiet = billing.issue(&tenant("quiet")).await.unwrap();
    assert_eq!(quiet, invoice_number("quiet", 1));
    assert_ne!(quiet, NO_INVOICE);
}
