//! The invoice tables in the embedded database, beside the metering tables.

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use tally_billing::invoice::Invoice;

use crate::embedded::RedbStore;
use crate::embedded::store::OrDatabase;
use crate::invoices::{InvoiceStore, Quantities, check_final_unchanged, invoice_number};
use crate::{Error, Result};

/// (tenant, period `YYYY-MM`, revision) → invoice JSON
const INVOICES: TableDefinition<(&str, &str, u32), &[u8]> = TableDefinition::new("invoices");
/// tenant → the last invoice number allocated
const SEQUENCES: TableDefinition<&str, u64> = TableDefinition::new("invoice_sequences");
/// (tenant, period) → quantities billed so far, JSON
const BILLED: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("billed_quantities");

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|error| Error::Corrupt(format!("{what}: {error}")))
}

impl InvoiceStore for RedbStore {
    fn invoice(&self, tenant_id: &str, period: &str) -> Result<Option<Invoice>> {
        let context = "reading an invoice";
        let read = self.database().begin_read().or_database(context)?;
        let table = match read.open_table(INVOICES) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(error) => return Err(Error::database(context)(error.into())),
        };
        let mut range = table
            .range((tenant_id, period, 0)..=(tenant_id, period, u32::MAX))
            .or_database(context)?;
        match range.next_back() {
            Some(entry) => Ok(Some(decode(
                entry.or_database(context)?.1.value(),
                "invoice",
            )?)),
            None => Ok(None),
        }
    }

    fn invoices(&self, tenant_id: &str) -> Result<Vec<Invoice>> {
        let context = "reading invoices";
        let read = self.database().begin_read().or_database(context)?;
        let table = match read.open_table(INVOICES) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(error) => return Err(Error::database(context)(error.into())),
        };
        // Periods are `YYYY-MM`: every one sorts between "" and "~".
        let mut latest: Vec<Invoice> = Vec::new();
        for entry in table
            .range((tenant_id, "", 0)..(tenant_id, "~", 0))
            .or_database(context)?
        {
            let invoice: Invoice = decode(entry.or_database(context)?.1.value(), "invoice")?;
            match latest.last_mut() {
                Some(previous) if previous.period == invoice.period => *previous = invoice,
                _ => latest.push(invoice),
            }
        }
        Ok(latest)
    }

    fn billed(&self, tenant_id: &str, period: &str) -> Result<Option<Quantities>> {
        let context = "reading billed quantities";
        let read = self.database().begin_read().or_database(context)?;
        let table = match read.open_table(BILLED) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(error) => return Err(Error::database(context)(error.into())),
        };
        match table.get((tenant_id, period)).or_database(context)? {
            Some(bytes) => Ok(Some(decode(bytes.value(), "billed quantities")?)),
            None => Ok(None),
        }
    }

    fn put_invoice(
        &mut self,
        mut invoice: Invoice,
        billed: &[(String, Quantities)],
    ) -> Result<Invoice> {
        let context = "storing an invoice";
        let existing = self.invoice(&invoice.tenant_id, &invoice.period)?;
        check_final_unchanged(
            existing
                .as_ref()
                .filter(|existing| existing.revision == invoice.revision),
            &invoice,
        )?;
        let transaction = self.database().begin_write().or_database(context)?;
        {
            // The number is allocated in the transaction that stores the invoice, so a crash
            // can never leave a gap in a tenant's sequence.
            if invoice.number.is_empty() {
                let mut sequences = transaction.open_table(SEQUENCES).or_database(context)?;
                let tenant = invoice.tenant_id.as_str();
                let next = sequences
                    .get(tenant)
                    .or_database(context)?
                    .map_or(0, |value| value.value())
                    + 1;
                sequences.insert(tenant, next).or_database(context)?;
                invoice.number = invoice_number(tenant, next);
            }
            let mut invoices = transaction.open_table(INVOICES).or_database(context)?;
            let bytes = invoice.to_json();
            invoices
                .insert(
                    (
                        invoice.tenant_id.as_str(),
                        invoice.period.as_str(),
                        invoice.revision,
                    ),
                    bytes.as_slice(),
                )
                .or_database(context)?;
            let mut table = transaction.open_table(BILLED).or_database(context)?;
            for (period, quantities) in billed {
                let bytes = serde_json::to_vec(quantities).expect("quantities serialize");
                table
                    .insert(
                        (invoice.tenant_id.as_str(), period.as_str()),
                        bytes.as_slice(),
                    )
                    .or_database(context)?;
            }
        }
        transaction.commit().or_database(context)?;
        Ok(invoice)
    }
}
