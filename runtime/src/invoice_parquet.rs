//! Invoice lines as Parquet for finance: one row per line of an invoice, beside its JSON.

use std::sync::Arc;

use arrow_array::builder::{Decimal128Builder, Int32Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use rust_decimal::{Decimal, RoundingStrategy};
use tally_billing::invoice::{Invoice, InvoiceStatus, LineKind};
use tally_schemas::table::{VALUE_PRECISION, VALUE_SCALE, invoice_lines_schema};

use crate::parquet::{value_at_scale, write_batch};
use crate::{Error, Result};

/// Quantities and unrounded amounts can carry more digits than the column's nine; they are
/// rounded half-to-even to nine for the table (the invoice JSON keeps every digit).
const TABLE_ROUNDING: RoundingStrategy = RoundingStrategy::MidpointNearestEven;

/// Encodes the lines of `invoice` with the invoice lines schema.
///
/// Fails only when the Arrow or Parquet library refuses the data.
pub fn encode_invoice_lines(invoice: &Invoice) -> Result<Vec<u8>> {
    let failed = |source: Box<dyn std::error::Error + Send + Sync>| Error::Parquet {
        context: format!("encoding the lines of invoice {}", invoice.number),
        source,
    };
    let batch = lines_batch(invoice).map_err(|error| failed(Box::new(error)))?;
    write_batch(&batch, usize::MAX).map_err(|error| failed(Box::new(error)))
}

fn lines_batch(invoice: &Invoice) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let rows = invoice.lines.len();
    let text = || StringBuilder::with_capacity(rows, rows * 16);
    let decimals = || {
        Decimal128Builder::with_capacity(rows)
            .with_precision_and_scale(VALUE_PRECISION, VALUE_SCALE)
    };
    let mut repeated: Vec<StringBuilder> = (0..6).map(|_| text()).collect();
    let status = match invoice.status {
        InvoiceStatus::Draft => "draft",
        InvoiceStatus::Final => "final",
        InvoiceStatus::Void => "void",
    };
    let (mut line_number, mut kind, mut line_period, mut meter, mut description, mut unit) = (
        Int32Builder::with_capacity(rows),
        text(),
        text(),
        text(),
        text(),
        text(),
    );
    let (mut quantity, mut unrounded, mut amount) = (decimals()?, decimals()?, decimals()?);
    for (index, line) in invoice.lines.iter().enumerate() {
        let constant = [
            &invoice.id,
            &invoice.number,
            &invoice.tenant_id,
            &invoice.period,
            status,
            &invoice.currency,
        ];
        for (builder, value) in repeated.iter_mut().zip(constant) {
            builder.append_value(value);
        }
        line_number
            .append_value(i32::try_from(index + 1).expect("invoices have fewer than 2^31 lines"));
        kind.append_value(match line.kind {
            LineKind::Charge => "charge",
            LineKind::Adjustment => "adjustment",
        });
        line_period.append_value(&line.period);
        meter.append_option(line.meter.as_deref());
        description.append_value(&line.description);
        quantity.append_value(at_table_scale(line.quantity));
        unit.append_value(&line.unit);
        unrounded.append_value(at_table_scale(line.unrounded));
        amount.append_value(at_table_scale(line.amount));
    }
    let mut columns: Vec<ArrayRef> = repeated
        .into_iter()
        .map(|mut builder| Arc::new(builder.finish()) as ArrayRef)
        .collect();
    columns.push(Arc::new(line_number.finish()));
    for mut builder in [kind, line_period, meter, description] {
        columns.push(Arc::new(builder.finish()));
    }
    columns.push(Arc::new(quantity.finish()));
    columns.push(Arc::new(unit.finish()));
    columns.push(Arc::new(unrounded.finish()));
    columns.push(Arc::new(amount.finish()));
    RecordBatch::try_new(Arc::new(invoice_lines_schema()), columns)
}

fn at_table_scale(value: Decimal) -> i128 {
    let digits = u32::try_from(VALUE_SCALE).expect("the scale is not negative");
    value_at_scale(value.round_dp_with_strategy(digits, TABLE_ROUNDING))
}
