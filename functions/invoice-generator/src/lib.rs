//! The invoice-generator Lambda's handler. An EventBridge schedule invokes it with
//! `{"action": "draft"}` every day (the current month's drafts, recomputed) and with
//! `{"action": "finalize"}` once a month after the grace period (last month's final invoices);
//! `"period": "YYYY-MM"` and `"tenant"` narrow a run.
//!
//! Before pricing, every tenant's gauges are integrated up to the run's processing time
//! (`StreamConsumer::advance`), so a tenant that sent nothing since its last storage sample is
//! billed for the level it kept. The invoice job itself is `tally_runtime::invoicing`, the one
//! `tally invoice` runs: re-running it never creates a second invoice for a tenant and period,
//! and late usage for a final period is restated on the next invoice.
//!
//! Each run also checks the registered tenants' quotas against the month rollups
//! ([`check_quotas`]): a breach is recorded once per tenant, meter and period under the tenant's
//! prefix and logged as a `quota_exceeded` JSON line, which a CloudWatch metric filter can alarm
//! on. In AWS, quota events are therefore at most a day late.

use serde::{Deserialize, Serialize};
use tally_billing::PlanBook;
use tally_runtime::invoices::InvoiceStore;
use tally_runtime::invoicing::{InvoiceJob, SplitStore, period_name, run_invoices};
use tally_runtime::ports::{Bucket, RollupReader};
use tally_runtime::quotas::{self, QuotaAlert, QuotaExceeded};
use tally_runtime::stream::{LedgerTables, StreamConsumer};
use tally_runtime::{Error, Result};
use tally_schemas::time::MILLIS_PER_HOUR;
use tally_schemas::{MeterCatalog, TenantId, Timestamp};
use tally_tenancy::Tenant;

/// What the schedule asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Recompute the drafts of a period (default: the current month).
    Draft,
    /// Make a period's invoices final (default: last month); refused inside the grace period.
    Finalize,
}

/// The invocation's payload.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Draft or finalize.
    pub action: Action,
    /// `YYYY-MM`; by default the current month for drafts, last month for finalization.
    #[serde(default)]
    pub period: Option<String>,
    /// Only this tenant.
    #[serde(default)]
    pub tenant: Option<String>,
}

/// One invoice the run produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Produced {
    /// The tenant.
    pub tenant_id: String,
    /// The invoice number.
    pub number: String,
    /// `draft`, `final` or `void`.
    pub status: String,
    /// The total, in the currency's minor units' decimal form.
    pub total: String,
    /// The currency.
    pub currency: String,
    /// Objects this run wrote (none when nothing changed).
    pub written: Vec<String>,
}

/// What a run did: the function's response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// The period, `YYYY-MM`.
    pub period: String,
    /// Draft or finalize.
    pub action: Action,
    /// Tenants whose gauges were brought up to the processing time.
    pub advanced: usize,
    /// The invoices.
    pub invoices: Vec<Produced>,
}

/// Logs each new quota event as one JSON line on standard output (CloudWatch Logs).
struct LogAlert;

impl QuotaAlert for LogAlert {
    fn alert(&self, event: &QuotaExceeded) {
        let line = serde_json::json!({ "message": "quota_exceeded", "quota_event": event });
        println!("{line}");
    }
}

/// Checks `tenants`' quotas against the rollups the consumer reads, recording each new breach
/// under the tenant's prefix of the consumer's bucket and logging it.
///
/// Fails when the rollups or the bucket cannot be read or written.
pub fn check_quotas<B, T>(
    consumer: &StreamConsumer<B, T>,
    tenants: &[Tenant],
    now: Timestamp,
) -> Result<Vec<QuotaExceeded>>
where
    B: Bucket,
    T: LedgerTables + RollupReader,
{
    quotas::check_quotas(
        consumer.bucket(),
        consumer.tables(),
        tenants,
        now,
        &LogAlert,
    )
}

/// The period a request names, or its action's default at `now`.
///
/// Fails when `period` is not `YYYY-MM`.
pub fn period_start(request: &Request, now: Timestamp) -> Result<Timestamp> {
    if let Some(period) = &request.period {
        return Timestamp::parse(&format!("{period}-01T00:00:00Z"))
            .ok()
            .filter(|_| period.len() == 7)
            .ok_or_else(|| Error::Invalid(format!("period {period:?}: expected YYYY-MM")));
    }
    let this_month = now.floor_month();
    Ok(match request.action {
        Action::Draft => this_month,
        Action::Finalize => this_month.plus_millis(-1).floor_month(),
    })
}

/// Runs one invocation at processing time `now`, with the stream consumer over the bucket and
/// the rollups, and the invoice tables.
///
/// Fails on a bad request, a finalization inside the grace period, a missing plan, or storage.
pub fn run<B, T, I>(
    consumer: &mut StreamConsumer<B, T>,
    invoices: &mut I,
    catalog: &MeterCatalog,
    book: &PlanBook,
    request: &Request,
    now: Timestamp,
    grace_hours: i64,
) -> Result<Summary>
where
    B: Bucket,
    T: LedgerTables + RollupReader,
    I: InvoiceStore,
{
    let month_start = period_start(request, now)?;
    let tenant = request
        .tenant
        .as_deref()
        .map(TenantId::parse)
        .transpose()
        .map_err(|error| Error::Invalid(format!("tenant: {error}")))?;
    let tenants = match &tenant {
        Some(tenant) => vec![tenant.clone()],
        None => consumer.tables().tenants()?,
    };
    for tenant in &tenants {
        consumer.advance(tenant, now)?;
    }
    let job = InvoiceJob {
        month_start,
        tenant,
        finalize: request.action == Action::Finalize,
        now,
        grace_millis: grace_hours * MILLIS_PER_HOUR,
    };
    let mut store = SplitStore {
        rollups: consumer.tables(),
        invoices,
    };
    let outcomes = run_invoices(consumer.bucket(), &mut store, catalog, book, &job)?;
    Ok(Summary {
        period: period_name(month_start),
        action: request.action,
        advanced: tenants.len(),
        invoices: outcomes
            .into_iter()
            .map(|outcome| Produced {
                tenant_id: outcome.invoice.tenant_id.clone(),
                number: outcome.invoice.number.clone(),
                status: format!("{:?}", outcome.invoice.status).to_lowercase(),
                total: outcome.invoice.total.to_string(),
                currency: outcome.invoice.currency.clone(),
                written: outcome.written,
            })
            .collect(),
    })
}
