//! The invoice job: deterministic invoices, re-runs that write nothing, finalization after the
//! grace only, and late usage for a final period restated on the next invoice while the final
//! invoice stays byte for byte the same. Run against the in-memory and the embedded adapters.

use std::io::Cursor;

use rust_decimal::Decimal;
use tally_billing::PlanBook;
use tally_billing::invoice::{InvoiceStatus, LineKind};
use tally_runtime::embedded::{LocalBucket, RedbStore};
use tally_runtime::invoices::InvoiceStore;
use tally_runtime::invoicing::{InvoiceJob, run_invoices, void_invoice};
use tally_runtime::memory::{MemoryBucket, MemoryStore};
use tally_runtime::pipeline::{IngestOptions, Pipeline, PipelineConfig};
use tally_runtime::ports::{Bucket, MeteringStore, RollupReader};
use tally_schemas::{MeterCatalog, TenantId, Timestamp};

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

const OCTOBER: &[&str] = &[
    r#"{"tenant_id":"acme","metric":"api_calls","value":500000,"timestamp":"2026-10-10T10:00:00Z","event_id":"a1"}"#,
    r#"{"tenant_id":"acme","metric":"storage_gb","value":100,"timestamp":"2026-10-01T00:00:00Z","event_id":"s1"}"#,
    r#"{"tenant_id":"acme","metric":"cpu_hours","value":"10.5","timestamp":"2026-10-12T00:00:00Z","event_id":"c1"}"#,
    r#"{"tenant_id":"beta","metric":"api_calls","value":10,"timestamp":"2026-10-20T00:00:00Z","event_id":"b1"}"#,
];
const LATE: &str = r#"{"tenant_id":"acme","metric":"api_calls","value":50000,"timestamp":"2026-10-31T23:00:00Z","event_id":"late-1"}"#;

fn ingest<B: Bucket, S: MeteringStore>(pipeline: &mut Pipeline<B, S>, lines: &[&str], now: &str) {
    let options = IngestOptions {
        source: format!("run-{now}"),
        now: at(now),
        commit_every: 1000,
    };
    pipeline
        .ingest(Cursor::new(lines.join("\n")), &options, &mut |_| {})
        .unwrap();
}

fn job(month: &str, finalize: bool, now: &str) -> InvoiceJob {
    InvoiceJob {
        month_start: at(month),
        tenant: None,
        finalize,
        now: at(now),
        grace_millis: 24 * 3_600_000,
    }
}

fn invoice_lifecycle<B: Bucket, S: MeteringStore + RollupReader + InvoiceStore>(
    bucket: B,
    store: S,
) {
    let config = PipelineConfig {
        catalog: MeterCatalog::defaults(),
        max_event_age_days: 35,
        crash_at: None,
    };
    let mut pipeline = Pipeline::open(bucket, store, config).unwrap();
    ingest(&mut pipeline, OCTOBER, "2026-11-01T00:30:00Z");
    let (bucket, mut store) = pipeline.into_parts();
    let catalog = MeterCatalog::defaults();
    let book = PlanBook::defaults();

    // GIVEN October's usage, WHEN drafted twice THEN the second run writes nothing.
    let drafts = run_invoices(
        &bucket,
        &mut store,
        &catalog,
        &book,
        &job("2026-10-01T00:00:00Z", false, "2026-11-01T01:00:00Z"),
    )
    .unwrap();
    assert_eq!(drafts.len(), 2);
    assert!(drafts.iter().all(|outcome| outcome.written.len() == 3));
    let again = run_invoices(
        &bucket,
        &mut store,
        &catalog,
        &book,
        &job("2026-10-01T00:00:00Z", false, "2026-11-01T02:00:00Z"),
    )
    .unwrap();
    assert!(
        again.iter().all(|outcome| outcome.written.is_empty()),
        "a re-run writes nothing new"
    );
    let acme = &again[0].invoice;
    assert_eq!(
        (acme.number.as_str(), acme.status),
        ("acme-000001", InvoiceStatus::Draft)
    );
    // standard plan, api_calls: 500,000 - 100,000 included = 400,000 × 0.0002 = 80.00, which
    // puts usage above the $49 minimum (so a late call changes the total).
    let calls = acme
        .lines
        .iter()
        .find(|line| line.meter.as_deref() == Some("api_calls"))
        .unwrap();
    assert_eq!(calls.amount, Decimal::new(8000, 2));
    assert_eq!(
        acme.total,
        acme.lines.iter().map(|line| line.amount).sum::<Decimal>()
    );

    // WHEN finalizing inside the grace THEN it is refused
    assert!(
        run_invoices(
            &bucket,
            &mut store,
            &catalog,
            &book,
            &job("2026-10-01T00:00:00Z", true, "2026-11-01T12:00:00Z")
        )
        .is_err()
    );
    let finals = run_invoices(
        &bucket,
        &mut store,
        &catalog,
        &book,
        &job("2026-10-01T00:00:00Z", true, "2026-11-02T01:00:00Z"),
    )
    .unwrap();
    assert!(
        finals
            .iter()
            .all(|outcome| outcome.invoice.status == InvoiceStatus::Final)
    );
    let tenant = TenantId::parse("acme").unwrap();
    let october_key = tally_schemas::layout::invoice_object_key(
        &tenant,
        at("2026-10-01T00:00:00Z"),
        "acme-000001",
        "json",
    );
    let october_html = october_key.replace(".json", ".html");
    let final_json = bucket.get(&october_key).unwrap().unwrap();
    let final_html = bucket.get(&october_html).unwrap().unwrap();

    // GIVEN late October usage arriving after October is final
    let config = PipelineConfig {
        catalog: MeterCatalog::defaults(),
        max_event_age_days: 35,
        crash_at: None,
    };
    let mut pipeline = Pipeline::open(bucket, store, config).unwrap();
    ingest(&mut pipeline, &[LATE], "2026-11-03T00:00:00Z");
    let (bucket, mut store) = pipeline.into_parts();

    // WHEN November is invoiced THEN an adjustment names October, and October is unchanged
    let november = run_invoices(
        &bucket,
        &mut store,
        &catalog,
        &book,
        &job("2026-11-01T00:00:00Z", false, "2026-11-03T01:00:00Z"),
    )
    .unwrap();
    let acme_november = november
        .iter()
        .find(|outcome| outcome.invoice.tenant_id == "acme")
        .unwrap();
    let adjustment = acme_november
        .invoice
        .lines
        .iter()
        .find(|line| line.kind == LineKind::Adjustment)
        .expect("an adjustment line");
    assert_eq!(adjustment.period, "2026-10");
    // 50,000 more calls, all beyond the included 100,000: 50,000 × 0.0002 = 10.00
    assert_eq!(adjustment.amount, Decimal::new(1000, 2));
    assert_eq!(acme_november.invoice.number, "acme-000002");
    run_invoices(
        &bucket,
        &mut store,
        &catalog,
        &book,
        &job("2026-10-01T00:00:00Z", false, "2026-11-03T02:00:00Z"),
    )
    .unwrap();
    assert_eq!(
        bucket.get(&october_key).unwrap().unwrap(),
        final_json,
        "a final invoice never changes"
    );
    assert_eq!(bucket.get(&october_html).unwrap().unwrap(), final_html);
    assert_eq!(
        store.invoice("acme", "2026-10").unwrap().unwrap().status,
        InvoiceStatus::Final
    );

    // WHEN November is finalized THEN October counts as restated and no later invoice repeats it
    run_invoices(
        &bucket,
        &mut store,
        &catalog,
        &book,
        &job("2026-11-01T00:00:00Z", true, "2026-12-02T00:00:00Z"),
    )
    .unwrap();
    let december_job = InvoiceJob {
        tenant: Some(tenant),
        ..job("2026-12-01T00:00:00Z", false, "2026-12-02T01:00:00Z")
    };
    let december = run_invoices(&bucket, &mut store, &catalog, &book, &december_job).unwrap();
    let acme_december = &december[0];
    assert!(
        acme_december
            .invoice
            .lines
            .iter()
            .all(|line| line.kind != LineKind::Adjustment)
    );

    // WHEN a draft is voided THEN it is refused: drafts are recomputed, not voided
    let december_start = at("2026-12-01T00:00:00Z");
    let acme = TenantId::parse("acme").unwrap();
    let refused = void_invoice(
        &bucket,
        &mut store,
        &catalog,
        &acme,
        december_start,
        at("2026-12-02T02:00:00Z"),
    );
    assert!(
        refused
            .unwrap_err()
            .to_string()
            .contains("only final invoices")
    );

    // WHEN October's final invoice is voided THEN it stays on record, marked void, in its files
    let october_start = at("2026-10-01T00:00:00Z");
    let voided = void_invoice(
        &bucket,
        &mut store,
        &catalog,
        &acme,
        october_start,
        at("2026-12-02T03:00:00Z"),
    )
    .unwrap();
    assert_eq!(voided.invoice.status, InvoiceStatus::Void);
    assert_eq!(voided.invoice.voided_at, Some(at("2026-12-02T03:00:00Z")));
    assert_eq!(voided.invoice.number, "acme-000001");
    let void_json = String::from_utf8(bucket.get(&october_key).unwrap().unwrap()).unwrap();
    assert!(void_json.contains("\"status\": \"void\""), "{void_json}");
    assert!(void_void_again(
        &bucket,
        &mut store,
        &catalog,
        &acme,
        october_start
    ));

    // AND the next run drafts revision 2 with a new number, billing the late calls in October
    let reissued = run_invoices(
        &bucket,
        &mut store,
        &catalog,
        &book,
        &InvoiceJob {
            tenant: Some(acme.clone()),
            ..job("2026-10-01T00:00:00Z", false, "2026-12-02T04:00:00Z")
        },
    )
    .unwrap();
    let reissued = &reissued[0].invoice;
    assert_eq!(
        (reissued.revision, reissued.status),
        (2, InvoiceStatus::Draft)
    );
    assert_eq!(reissued.number, "acme-000004");
    assert_eq!(reissued.quantities["api_calls"], Decimal::from(550_000));
}

/// Voiding a void invoice is refused.
fn void_void_again<B: Bucket, S: InvoiceStore>(
    bucket: &B,
    store: &mut S,
    catalog: &MeterCatalog,
    tenant: &TenantId,
    month_start: Timestamp,
) -> bool {
    void_invoice(bucket, store, catalog, tenant, month_start, month_start).is_err()
}

#[test]
fn invoices_with_the_in_memory_adapters() {
    invoice_lifecycle(MemoryBucket::default(), MemoryStore::default());
}

#[test]
fn invoices_with_the_embedded_adapters() {
    let scratch = tempfile::tempdir().unwrap();
    let bucket = LocalBucket::open(scratch.path().join("tenant-data")).unwrap();
    let store = RedbStore::open(&scratch.path().join("tables.redb")).unwrap();
    invoice_lifecycle(bucket, store);
}
