//! The final invoice at offboarding, drafted by the invoice-generator's own job
//! ([`invoice_generator::run`]): the tenant's invoice for the current period, its usage to date,
//! which the monthly finalization makes final like every other. A repeat recomputes the same
//! draft (invoices are deterministic), so the number is the same. The job drafts an invoice for
//! every tenant it is asked about, one without usage included (its plan's terms alone);
//! [`NO_INVOICE`] answers a run that produced none for the tenant.
//!
//! The job is synchronous and its adapters block, so it runs on a blocking thread; the stream
//! consumer it integrates gauges with is opened on first use, so a function that never
//! concludes an offboarding never reads the ledger tables.

use std::sync::{Arc, Mutex};

use invoice_generator::{Action, Request, run};
use tally_billing::PlanBook;
use tally_runtime::invoices::InvoiceStore;
use tally_runtime::invoicing::DEFAULT_GRACE_HOURS;
use tally_runtime::ports::{Bucket, RollupReader};
use tally_runtime::stream::{LedgerTables, StreamConsumer};
use tally_schemas::{MeterCatalog, Timestamp};
use tally_tenancy::ports::StepResult;
use tally_tenancy::{FinalInvoice, StepError, Tenant};

/// The answer when the job produced no invoice for the tenant.
pub const NO_INVOICE: &str = "none";

/// What the job needs open: the stream consumer (rollups, gauges) and the invoices.
pub type Ledger<B, T, I> = (StreamConsumer<B, T>, I);

/// Opens the ledger; called on first use, and again after a run that panicked.
pub type OpenLedger<B, T, I> = dyn Fn() -> tally_runtime::Result<Ledger<B, T, I>> + Send + Sync;

/// The final invoice, drafted by the invoice job.
pub struct DraftFinalInvoice<B: Bucket, T: LedgerTables, I> {
    ledger: Arc<Mutex<Option<Ledger<B, T, I>>>>,
    open: Arc<OpenLedger<B, T, I>>,
    catalog: Arc<MeterCatalog>,
    book: Arc<PlanBook>,
    now: fn() -> Timestamp,
}

impl<B, T, I> DraftFinalInvoice<B, T, I>
where
    B: Bucket + Send + 'static,
    T: LedgerTables + RollupReader + Send + 'static,
    I: InvoiceStore + Send + 'static,
{
    /// Drafts with the ledger `open` gives, the catalog and plans, at the time `now` gives.
    pub fn new(
        open: Box<OpenLedger<B, T, I>>,
        catalog: MeterCatalog,
        book: PlanBook,
        now: fn() -> Timestamp,
    ) -> DraftFinalInvoice<B, T, I> {
        DraftFinalInvoice {
            ledger: Arc::new(Mutex::new(None)),
            open: Arc::from(open),
            catalog: Arc::new(catalog),
            book: Arc::new(book),
            now,
        }
    }

    /// Drafts `tenant_id`'s current invoice; blocks.
    fn draft(&self, tenant_id: &str) -> StepResult<String> {
        // A run that panicked may have left the consumer's cache mid-change: open it again.
        let mut ledger = self.ledger.lock().unwrap_or_else(|poisoned| {
            let mut ledger = poisoned.into_inner();
            *ledger = None;
            ledger
        });
        if ledger.is_none() {
            *ledger = Some((self.open)().map_err(job_error)?);
        }
        let (consumer, invoices) = ledger.as_mut().expect("opened above");
        let request = Request {
            action: Action::Draft,
            period: None,
            tenant: Some(tenant_id.to_owned()),
        };
        let now = (self.now)();
        let summary = run(
            consumer,
            invoices,
            &self.catalog,
            &self.book,
            &request,
            now,
            DEFAULT_GRACE_HOURS,
        )
        .map_err(job_error)?;
        Ok(summary
            .invoices
            .into_iter()
            .find(|invoice| invoice.tenant_id == tenant_id)
            .map_or_else(|| NO_INVOICE.to_owned(), |invoice| invoice.number))
    }

    fn share(&self) -> DraftFinalInvoice<B, T, I> {
        DraftFinalInvoice {
            ledger: self.ledger.clone(),
            open: self.open.clone(),
            catalog: self.catalog.clone(),
            book: self.book.clone(),
            now: self.now,
        }
    }
}

impl<B, T, I> FinalInvoice for DraftFinalInvoice<B, T, I>
where
    B: Bucket + Send + 'static,
    T: LedgerTables + RollupReader + Send + 'static,
    I: InvoiceStore + Send + 'static,
{
    async fn issue(&self, tenant: &Tenant) -> StepResult<String> {
        let job = self.share();
        let tenant_id = tenant.tenant_id.to_string();
        tokio::task::spawn_blocking(move || job.draft(&tenant_id))
            .await
            .map_err(|error| StepError::transient(format!("the invoice job stopped: {error}")))?
    }
}

/// A failure of the invoice job: a remote store's is worth another attempt, anything else (a
/// missing plan, corrupt data) is not.
fn job_error(error: tally_runtime::Error) -> StepError {
    let message = format!("the invoice job: {error}");
    match error {
        tally_runtime::Error::Remote { .. } => StepError::transient(message),
        _ => StepError::permanent(message),
    }
}
