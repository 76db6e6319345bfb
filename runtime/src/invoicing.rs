//! The invoice job: month rollups and price plans in, one invoice per tenant and period out.
//!
//! Safe to repeat: a draft is recomputed from the same inputs into the same bytes, and objects
//! are written only when their bytes change; a final invoice is never recomputed, only its
//! files are rewritten if they went missing. Usage that arrives for a period already final is
//! billed on the next invoice as an adjustment naming that period.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::RoundingStrategy;
use tally_aggregator::Granularity;
use tally_billing::html::{UsageDetail, render_html};
use tally_billing::invoice::{
    Invoice, InvoiceRequest, InvoiceStatus, Restatement, draft_invoice, finalize,
};
use tally_billing::{PlanBook, PlanPeriod, Proration, gb_months};
use tally_schemas::layout::{invoice_lines_key, invoice_object_key};
use tally_schemas::{Aggregation, MeterCatalog, TenantId, Timestamp};

use crate::invoice_parquet::encode_invoice_lines;
use crate::invoices::{InvoiceStore, Quantities};
use crate::ports::{Bucket, RollupFilter, RollupReader};
use crate::{Error, Result};

/// The plan of tenants without an assignment in the plan book.
pub const DEFAULT_PLAN: &str = "standard";
/// Default wait after a period ends before its invoices may be finalized, in hours: late
/// events land in this grace.
pub const DEFAULT_GRACE_HOURS: i64 = 24;

/// What to invoice.
#[derive(Clone, Debug)]
pub struct InvoiceJob {
    /// The first instant of the billing month.
    pub month_start: Timestamp,
    /// Only this tenant, or every tenant with usage or a plan in the period.
    pub tenant: Option<TenantId>,
    /// Make the invoices final (refused before the grace has passed).
    pub finalize: bool,
    /// Processing time.
    pub now: Timestamp,
    /// Wait after the period ends before finalizing, in milliseconds.
    pub grace_millis: i64,
}

/// What the job did for one tenant.
#[derive(Clone, Debug)]
pub struct InvoiceOutcome {
    /// The invoice as stored.
    pub invoice: Invoice,
    /// Objects written by this run (empty when nothing changed).
    pub written: Vec<String>,
}

/// `YYYY-MM` of a month start.
pub fn period_name(month_start: Timestamp) -> String {
    month_start.date_string()[..7].to_owned()
}

/// Runs the invoice job for one period.
///
/// Fails when finalization is asked before the grace has passed, when a plan a tenant needs is
/// missing, or on storage errors.
pub fn run_invoices<B: Bucket, S: RollupReader + InvoiceStore>(
    bucket: &B,
    store: &mut S,
    catalog: &MeterCatalog,
    book: &PlanBook,
    job: &InvoiceJob,
) -> Result<Vec<InvoiceOutcome>> {
    assert_eq!(
        job.month_start,
        job.month_start.floor_month(),
        "periods are calendar months"
    );
    let period_end = job.month_start.next_month_start();
    let finalizable_at = period_end.plus_millis(job.grace_millis);
    if job.finalize && job.now < finalizable_at {
        return Err(Error::Invalid(format!(
            "{} cannot be finalized before {finalizable_at}: its grace period for late usage has not passed",
            period_name(job.month_start)
        )));
    }
    let mut outcomes = Vec::new();
    for tenant in tenants(store, book, job)? {
        let invoice = invoice_for(store, catalog, book, job, &tenant)?;
        let written = write_outputs(bucket, catalog, &invoice)?;
        outcomes.push(InvoiceOutcome { invoice, written });
    }
    Ok(outcomes)
}

/// Voids `tenant`'s final invoice for the period starting at `month_start` and rewrites its
/// files marked void; the next run of the job drafts a new revision with a new number.
///
/// Fails when the tenant has no invoice for the period, or it is not final (drafts are
/// recomputed, not voided; a void invoice is already void), or on storage errors.
pub fn void_invoice<B: Bucket, S: InvoiceStore>(
    bucket: &B,
    store: &mut S,
    catalog: &MeterCatalog,
    tenant: &TenantId,
    month_start: Timestamp,
    now: Timestamp,
) -> Result<InvoiceOutcome> {
    let period = period_name(month_start);
    let invoice = store
        .invoice(tenant.as_str(), &period)?
        .ok_or_else(|| Error::Invalid(format!("tenant {tenant} has no invoice for {period}")))?;
    if invoice.status != InvoiceStatus::Final {
        return Err(Error::Invalid(format!(
            "invoice {} is {:?}, not final: only final invoices are voided (drafts are \
             recomputed by the next run)",
            invoice.number, invoice.status
        )));
    }
    let invoice = store.put_invoice(tally_billing::invoice::void(invoice, now), &[])?;
    let written = write_outputs(bucket, catalog, &invoice)?;
    Ok(InvoiceOutcome { invoice, written })
}

/// Tenants with usage in the period or a plan assigned during it.
fn tenants<S: RollupReader>(store: &S, book: &PlanBook, job: &InvoiceJob) -> Result<Vec<TenantId>> {
    if let Some(tenant) = &job.tenant {
        return Ok(vec![tenant.clone()]);
    }
    let period_end = job.month_start.next_month_start();
    let mut tenants = BTreeSet::new();
    for (key, _) in store.read_rollups(&month_filter(None, job.month_start))? {
        tenants.insert(key.tenant_id);
    }
    for assignment in &book.tenant_plans {
        let overlaps = assignment.from < period_end
            && assignment.until.is_none_or(|until| until > job.month_start);
        if overlaps && let Ok(tenant) = TenantId::parse(&assignment.tenant_id) {
            tenants.insert(tenant);
        }
    }
    Ok(tenants.into_iter().collect())
}

fn month_filter(tenant: Option<&TenantId>, month_start: Timestamp) -> RollupFilter {
    RollupFilter {
        tenant_id: tenant.map(|tenant| tenant.to_string()),
        metric: None,
        granularity: Some(Granularity::Month),
        from: Some(month_start),
        to: Some(month_start.plus_millis(1)),
    }
}

/// A tenant's billing quantities for a month, from the month rollups: gauges in unit-months
/// (the exact integral over the hours of the month), everything else as aggregated.
pub fn month_quantities<S: RollupReader>(
    store: &S,
    catalog: &MeterCatalog,
    tenant: &TenantId,
    month_start: Timestamp,
) -> Result<Quantities> {
    Ok(month_usage(store, catalog, tenant, month_start)?.0)
}

/// The month's billing quantities and event counts by meter.
fn month_usage<S: RollupReader>(
    store: &S,
    catalog: &MeterCatalog,
    tenant: &TenantId,
    month_start: Timestamp,
) -> Result<(Quantities, BTreeMap<String, u64>)> {
    let mut quantities = BTreeMap::new();
    let mut events = BTreeMap::new();
    for (key, rollup) in store.read_rollups(&month_filter(Some(tenant), month_start))? {
        let Some(meter) = catalog.get(&key.metric) else {
            continue;
        };
        let quantity = match meter.aggregation {
            Aggregation::Gauge => gb_months(rollup.amount, month_start),
            _ => rollup.amount,
        };
        quantities.insert(key.metric.clone(), quantity.normalize());
        events.insert(key.metric, rollup.events);
    }
    Ok((quantities, events))
}

/// The plans of a tenant's period, falling back to the default plan for the whole period.
fn plans<'b>(
    book: &'b PlanBook,
    tenant: &TenantId,
    month_start: Timestamp,
) -> Result<Vec<PlanPeriod<'b>>> {
    let period_end = month_start.next_month_start();
    let plans = book.plans_for(tenant.as_str(), month_start, period_end);
    if !plans.is_empty() {
        return Ok(plans);
    }
    let plan = book.plan(DEFAULT_PLAN).ok_or_else(|| {
        Error::Invalid(format!(
            "tenant {tenant} has no plan and the plan book has no {DEFAULT_PLAN:?} plan"
        ))
    })?;
    Ok(vec![PlanPeriod {
        plan,
        from: month_start,
        until: period_end,
        proration: Proration::FULL,
    }])
}

fn invoice_for<S: RollupReader + InvoiceStore>(
    store: &mut S,
    catalog: &MeterCatalog,
    book: &PlanBook,
    job: &InvoiceJob,
    tenant: &TenantId,
) -> Result<Invoice> {
    let period = period_name(job.month_start);
    let existing = store.invoice(tenant.as_str(), &period)?;
    if let Some(existing) = existing
        .as_ref()
        .filter(|invoice| invoice.status == InvoiceStatus::Final)
    {
        return Ok(existing.clone());
    }
    let (number, revision) = match &existing {
        Some(draft) if draft.status == InvoiceStatus::Draft => {
            (draft.number.clone(), draft.revision)
        }
        Some(void) => (String::new(), void.revision + 1),
        None => (String::new(), 1),
    };
    let (quantities, events) = month_usage(store, catalog, tenant, job.month_start)?;
    let draft = draft_invoice(InvoiceRequest {
        tenant_id: tenant.to_string(),
        period: period.clone(),
        period_start: job.month_start,
        period_end: job.month_start.next_month_start(),
        number,
        revision,
        plans: plans(book, tenant, job.month_start)?,
        quantities,
        events,
        restatements: restatements(store, catalog, book, tenant, job.month_start)?,
    });
    if !job.finalize {
        return store.put_invoice(draft, &[]);
    }
    let final_invoice = finalize(draft, job.now);
    let mut billed = vec![(period, final_invoice.quantities.clone())];
    billed.extend(
        final_invoice
            .restated
            .iter()
            .map(|(period, quantities)| (period.clone(), quantities.clone())),
    );
    store.put_invoice(final_invoice, &billed)
}

/// Every earlier final period of the tenant whose quantities changed since they were billed.
fn restatements<'b, S: RollupReader + InvoiceStore>(
    store: &S,
    catalog: &MeterCatalog,
    book: &'b PlanBook,
    tenant: &TenantId,
    month_start: Timestamp,
) -> Result<Vec<Restatement<'b>>> {
    let mut restatements = Vec::new();
    for earlier in store.invoices(tenant.as_str())? {
        if earlier.status != InvoiceStatus::Final || earlier.period_start >= month_start {
            continue;
        }
        let billed = store
            .billed(tenant.as_str(), &earlier.period)?
            .unwrap_or_else(|| earlier.quantities.clone());
        let current = month_quantities(store, catalog, tenant, earlier.period_start)?;
        if current != billed {
            restatements.push(Restatement {
                period: earlier.period.clone(),
                plans: plans(book, tenant, earlier.period_start)?,
                billed,
                current,
            });
        }
    }
    Ok(restatements)
}

/// Writes the invoice's JSON, HTML and lines Parquet where their bytes differ from what is
/// stored; returns the keys written.
fn write_outputs<B: Bucket>(
    bucket: &B,
    catalog: &MeterCatalog,
    invoice: &Invoice,
) -> Result<Vec<String>> {
    let tenant =
        TenantId::parse(&invoice.tenant_id).map_err(|error| Error::Corrupt(error.to_string()))?;
    let html = render_html(invoice, &usage_detail(catalog, invoice));
    let start = invoice.period_start;
    let objects = [
        (
            invoice_object_key(&tenant, start, &invoice.number, "json"),
            invoice.to_json(),
        ),
        (
            invoice_object_key(&tenant, start, &invoice.number, "html"),
            html.into_bytes(),
        ),
        (
            invoice_lines_key(&tenant, start, &invoice.number),
            encode_invoice_lines(invoice)?,
        ),
    ];
    let mut written = Vec::new();
    for (key, bytes) in objects {
        if bucket.get(&key)?.as_deref() != Some(bytes.as_slice()) {
            bucket.put(&key, &bytes)?;
            written.push(key);
        }
    }
    Ok(written)
}

/// The usage behind an invoice, from the invoice alone (so a final invoice renders the same
/// forever): each meter's quantity and events, with the catalog's description.
fn usage_detail(catalog: &MeterCatalog, invoice: &Invoice) -> UsageDetail {
    let mut detail = UsageDetail::default();
    for (metric, quantity) in &invoice.quantities {
        let meter = catalog.get(metric);
        let unit = meter.map_or_else(String::new, |meter| match meter.aggregation {
            Aggregation::Gauge => format!("{}-months", meter.unit),
            _ => meter.unit.clone(),
        });
        let description = meter.map_or_else(String::new, |meter| meter.description.clone());
        let shown = quantity
            .round_dp_with_strategy(6, RoundingStrategy::MidpointNearestEven)
            .normalize();
        let events = invoice.events.get(metric).copied().unwrap_or(0);
        detail
            .rows
            .push((metric.clone(), description, shown.to_string(), unit, events));
    }
    detail
}

/// Rollups from one store and invoices in another: what the invoice job runs on where the
/// stream consumer's tables hold the rollups (DynamoDB) and the invoices have their own table.
pub struct SplitStore<'a, R, I> {
    /// Where the month rollups are read.
    pub rollups: &'a R,
    /// Where the invoices are kept.
    pub invoices: &'a mut I,
}

impl<R: RollupReader, I> RollupReader for SplitStore<'_, R, I> {
    fn read_rollups(
        &self,
        filter: &RollupFilter,
    ) -> Result<Vec<(tally_aggregator::RollupKey, tally_aggregator::Rollup)>> {
        self.rollups.read_rollups(filter)
    }
}

impl<R, I: InvoiceStore> InvoiceStore for SplitStore<'_, R, I> {
    fn invoice(&self, tenant_id: &str, period: &str) -> Result<Option<Invoice>> {
        self.invoices.invoice(tenant_id, period)
    }

    fn invoices(&self, tenant_id: &str) -> Result<Vec<Invoice>> {
        self.invoices.invoices(tenant_id)
    }

    fn billed(&self, tenant_id: &str, period: &str) -> Result<Option<Quantities>> {
        self.invoices.billed(tenant_id, period)
    }

    fn put_invoice(
        &mut self,
        invoice: Invoice,
        billed: &[(String, Quantities)],
    ) -> Result<Invoice> {
        self.invoices.put_invoice(invoice, billed)
    }
}
