//! The invoice tables: invoices by tenant and period, each tenant's invoice sequence, and the
//! quantities billed so far for each final period (what restatements compare against).

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use tally_billing::invoice::{Invoice, InvoiceStatus};

use crate::{Error, Result};

/// Quantities by meter, in billing units.
pub type Quantities = BTreeMap<String, Decimal>;

/// Storage for invoices.
pub trait InvoiceStore {
    /// The latest revision of a tenant's invoice for a period (`YYYY-MM`).
    fn invoice(&self, tenant_id: &str, period: &str) -> Result<Option<Invoice>>;
    /// Every latest-revision invoice of a tenant, oldest period first.
    fn invoices(&self, tenant_id: &str) -> Result<Vec<Invoice>>;
    /// The quantities billed so far for a final period, restatements included.
    fn billed(&self, tenant_id: &str, period: &str) -> Result<Option<Quantities>>;
    /// Stores an invoice and, in the same transaction, the billed quantities it settles (its
    /// own period when it is final, and every period it restates). An invoice without a number
    /// gets the tenant's next one, `{tenant}-{sequence:06}`; the stored invoice is returned.
    ///
    /// Fails when it would change an invoice already final (final invoices are immutable).
    fn put_invoice(&mut self, invoice: Invoice, billed: &[(String, Quantities)])
    -> Result<Invoice>;
}

/// The invoice number of a tenant's `sequence`-th invoice.
pub fn invoice_number(tenant_id: &str, sequence: u64) -> String {
    format!("{tenant_id}-{sequence:06}")
}

/// Refuses to overwrite a final invoice with anything but the same bytes or its voiding.
pub fn check_final_unchanged(existing: Option<&Invoice>, replacement: &Invoice) -> Result<()> {
    match existing {
        Some(existing)
            if existing.status == InvoiceStatus::Final && existing.id == replacement.id =>
        {
            let voiding = replacement.status == InvoiceStatus::Void;
            if existing != replacement && !voiding {
                return Err(Error::Invalid(format!(
                    "invoice {} is final and cannot change; void it to replace it",
                    existing.number
                )));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Invoice tables held in memory, for tests.
#[derive(Debug, Default)]
pub struct MemoryInvoices {
    invoices: BTreeMap<(String, String, u32), Invoice>,
    sequences: BTreeMap<String, u64>,
    billed: BTreeMap<(String, String), Quantities>,
}

impl InvoiceStore for MemoryInvoices {
    fn invoice(&self, tenant_id: &str, period: &str) -> Result<Option<Invoice>> {
        let range = (tenant_id.to_owned(), period.to_owned(), 0)
            ..=(tenant_id.to_owned(), period.to_owned(), u32::MAX);
        Ok(self
            .invoices
            .range(range)
            .next_back()
            .map(|(_, invoice)| invoice.clone()))
    }

    fn invoices(&self, tenant_id: &str) -> Result<Vec<Invoice>> {
        let mut latest: BTreeMap<String, Invoice> = BTreeMap::new();
        for ((tenant, period, _), invoice) in &self.invoices {
            if tenant == tenant_id {
                latest.insert(period.clone(), invoice.clone());
            }
        }
        Ok(latest.into_values().collect())
    }

    fn billed(&self, tenant_id: &str, period: &str) -> Result<Option<Quantities>> {
        Ok(self
            .billed
            .get(&(tenant_id.to_owned(), period.to_owned()))
            .cloned())
    }

    fn put_invoice(
        &mut self,
        mut invoice: Invoice,
        billed: &[(String, Quantities)],
    ) -> Result<Invoice> {
        let key = (
            invoice.tenant_id.clone(),
            invoice.period.clone(),
            invoice.revision,
        );
        check_final_unchanged(self.invoices.get(&key), &invoice)?;
        if invoice.number.is_empty() {
            let sequence = self.sequences.entry(invoice.tenant_id.clone()).or_insert(0);
            *sequence += 1;
            invoice.number = invoice_number(&invoice.tenant_id, *sequence);
        }
        self.invoices.insert(key, invoice.clone());
        for (period, quantities) in billed {
            self.billed.insert(
                (invoice.tenant_id.clone(), period.clone()),
                quantities.clone(),
            );
        }
        Ok(invoice)
    }
}
