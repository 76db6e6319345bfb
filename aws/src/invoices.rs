//! The invoice tables over DynamoDB: one table, `invoices` (`tenant_id` S, `sk` S), holding
//! every revision of every invoice (`invoice#{period}#{revision}`, the invoice as JSON and its
//! status), each tenant's last invoice number (`sequence`) and the quantities billed so far
//! for each final period (`billed#{period}`).
//!
//! Storing an invoice is one transaction: the invoice on the condition that it is still what
//! was read (so two runs cannot both write a period), the next number on the condition that it
//! is still free, and the billed quantities.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use tally_billing::invoice::Invoice;
use tally_runtime::invoices::{InvoiceStore, Quantities, check_final_unchanged, invoice_number};
use tally_runtime::{Error, Result};
use tokio::runtime::Handle;

use crate::dynamodb::{Item, create_table, failed, number, s, string};

/// Default name of the invoices table.
pub const DEFAULT_INVOICES_TABLE: &str = "invoices";

/// The invoice tables in DynamoDB.
#[derive(Clone, Debug)]
pub struct DynamoInvoices {
    client: Client,
    table: String,
    runtime: Handle,
}

impl DynamoInvoices {
    /// The table `table`, reached with `client`, driven on `runtime`.
    pub fn new(client: Client, table: impl Into<String>, runtime: Handle) -> DynamoInvoices {
        DynamoInvoices {
            client,
            table: table.into(),
            runtime,
        }
    }

    /// Creates the table (on demand) unless it exists; true if it was created.
    ///
    /// Fails when the service refuses, or the table is not active within a minute.
    pub fn create_if_missing(&self) -> Result<bool> {
        create_table(&self.client, &self.runtime, &self.table, "tenant_id", "sk")
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    fn key(tenant_id: &str, sk: &str) -> Item {
        HashMap::from([
            ("tenant_id".to_owned(), s(tenant_id)),
            ("sk".to_owned(), s(sk)),
        ])
    }

    fn get(&self, tenant_id: &str, sk: &str) -> Result<Option<Item>> {
        let request = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(DynamoInvoices::key(tenant_id, sk)))
            .consistent_read(true)
            .send();
        Ok(self
            .runtime
            .block_on(request)
            .map_err(|error| failed("GetItem", &self.table, &error))?
            .item)
    }

    /// The items of a tenant whose sort key starts with `prefix`, in key order.
    fn query(&self, tenant_id: &str, prefix: &str) -> Result<Vec<Item>> {
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let request = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("tenant_id = :t AND begins_with(sk, :p)")
                .expression_attribute_values(":t", s(tenant_id))
                .expression_attribute_values(":p", s(prefix))
                .set_exclusive_start_key(start.take())
                .send();
            let page = self
                .runtime
                .block_on(request)
                .map_err(|error| failed("Query", &self.table, &error))?;
            items.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(items),
            }
        }
    }

    fn decode(&self, item: &Item) -> Result<Invoice> {
        let body = string(item, "body", &self.table)?;
        serde_json::from_str(&body)
            .map_err(|error| Error::Corrupt(format!("{}: an invoice: {error}", self.table)))
    }
}

/// The sort key of an invoice revision; revisions sort in order within a period.
fn revision_key(period: &str, revision: u32) -> String {
    format!("invoice#{period}#{revision:06}")
}

impl InvoiceStore for DynamoInvoices {
    fn invoice(&self, tenant_id: &str, period: &str) -> Result<Option<Invoice>> {
        self.query(tenant_id, &format!("invoice#{period}#"))?
            .last()
            .map(|item| self.decode(item))
            .transpose()
    }

    fn invoices(&self, tenant_id: &str) -> Result<Vec<Invoice>> {
        let mut latest: Vec<Invoice> = Vec::new();
        for item in self.query(tenant_id, "invoice#")? {
            let invoice = self.decode(&item)?;
            match latest.last_mut() {
                Some(previous) if previous.period == invoice.period => *previous = invoice,
                _ => latest.push(invoice),
            }
        }
        Ok(latest)
    }

    fn billed(&self, tenant_id: &str, period: &str) -> Result<Option<Quantities>> {
        let Some(item) = self.get(tenant_id, &format!("billed#{period}"))? else {
            return Ok(None);
        };
        let body = string(&item, "body", &self.table)?;
        serde_json::from_str(&body)
            .map(Some)
            .map_err(|error| Error::Corrupt(format!("{}: billed quantities: {error}", self.table)))
    }

    fn put_invoice(
        &mut self,
        mut invoice: Invoice,
        billed: &[(String, Quantities)],
    ) -> Result<Invoice> {
        let tenant = invoice.tenant_id.clone();
        let sk = revision_key(&invoice.period, invoice.revision);
        let existing = self.get(&tenant, &sk)?;
        let existing_invoice = existing
            .as_ref()
            .map(|item| self.decode(item))
            .transpose()?;
        check_final_unchanged(existing_invoice.as_ref(), &invoice)?;
        let mut writes = Vec::new();
        if invoice.number.is_empty() {
            let last = match self.get(&tenant, "sequence")? {
                Some(item) => number(&item, "last", &self.table)?,
                None => 0,
            };
            invoice.number = invoice_number(&tenant, last + 1);
            let mut item = DynamoInvoices::key(&tenant, "sequence");
            item.insert("last".into(), AttributeValue::N((last + 1).to_string()));
            let put = Put::builder().table_name(&self.table).set_item(Some(item));
            let put = if last == 0 {
                put.condition_expression("attribute_not_exists(sk)")
            } else {
                put.condition_expression("#l = :last")
                    .expression_attribute_names("#l", "last")
                    .expression_attribute_values(":last", AttributeValue::N(last.to_string()))
            };
            writes.push(put);
        }
        let mut item = DynamoInvoices::key(&tenant, &sk);
        item.insert(
            "body".into(),
            s(&String::from_utf8_lossy(&invoice.to_json())),
        );
        item.insert(
            "status".into(),
            s(&format!("{:?}", invoice.status).to_lowercase()),
        );
        let put = Put::builder().table_name(&self.table).set_item(Some(item));
        writes.push(match &existing {
            None => put.condition_expression("attribute_not_exists(sk)"),
            Some(stored) => put
                .condition_expression("#b = :read")
                .expression_attribute_names("#b", "body")
                .expression_attribute_values(":read", s(&string(stored, "body", &self.table)?)),
        });
        for (period, quantities) in billed {
            let mut item = DynamoInvoices::key(&tenant, &format!("billed#{period}"));
            let body = serde_json::to_string(quantities).expect("quantities serialize");
            item.insert("body".into(), s(&body));
            writes.push(Put::builder().table_name(&self.table).set_item(Some(item)));
        }
        let items = writes
            .into_iter()
            .map(|put| {
                put.build()
                    .map(|put| TransactWriteItem::builder().put(put).build())
                    .map_err(|error| Error::Invalid(format!("building a write: {error}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let request = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send();
        match self.runtime.block_on(request) {
            Ok(_) => Ok(invoice),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|service| service.is_transaction_canceled_exception()) =>
            {
                Err(Error::Invalid(format!(
                    "invoice {} of {tenant} for {} changed while this run wrote it (another \
                     invoice run?); run again",
                    invoice.number, invoice.period
                )))
            }
            Err(error) => Err(failed("TransactWriteItems", &self.table, &error)),
        }
    }
}
