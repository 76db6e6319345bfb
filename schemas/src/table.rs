//! The events table: the Arrow schema of the Parquet files finance queries with Athena.
//!
//! | column | Arrow | Parquet / Athena |
//! |---|---|---|
//! | event_id | Utf8 (null when the producer sent none) | string |
//! | tenant_id | Utf8 | string |
//! | metric | Utf8 | string |
//! | value | Decimal128(38, 9) | DECIMAL(38,9) |
//! | event_time | Timestamp(ms, UTC) | TIMESTAMP |
//! | received_at | Timestamp(ms, UTC) | TIMESTAMP |
//! | dimensions | Map<Utf8, Utf8> | MAP<string,string> |

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit};

/// Precision of the `value` column.
pub const VALUE_PRECISION: u8 = 38;
/// Scale of the `value` column: nine fraction digits, the contract's limit.
pub const VALUE_SCALE: i8 = 9;
/// The column names, in file order.
pub const EVENT_COLUMNS: [&str; 7] = [
    "event_id",
    "tenant_id",
    "metric",
    "value",
    "event_time",
    "received_at",
    "dimensions",
];

/// The timestamp type of `event_time` and `received_at`.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

/// The entries field of the `dimensions` map, named as the Parquet spec names a MAP's group
/// (`key_value` with `key` and `value`) so every reader maps it the same way.
pub fn dimensions_entries_field() -> Arc<Field> {
    Arc::new(Field::new(
        "key_value",
        DataType::Struct(Fields::from(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("value", DataType::Utf8, true),
        ])),
        false,
    ))
}

/// The Arrow schema of the events table.
pub fn events_schema() -> Schema {
    Schema::new(vec![
        Field::new(EVENT_COLUMNS[0], DataType::Utf8, true),
        Field::new(EVENT_COLUMNS[1], DataType::Utf8, false),
        Field::new(EVENT_COLUMNS[2], DataType::Utf8, false),
        Field::new(
            EVENT_COLUMNS[3],
            DataType::Decimal128(VALUE_PRECISION, VALUE_SCALE),
            false,
        ),
        Field::new(EVENT_COLUMNS[4], timestamp_type(), false),
        Field::new(EVENT_COLUMNS[5], timestamp_type(), false),
        Field::new(
            EVENT_COLUMNS[6],
            DataType::Map(dimensions_entries_field(), false),
            false,
        ),
    ])
}

/// The column names of the invoice lines table, in file order.
pub const INVOICE_LINE_COLUMNS: [&str; 15] = [
    "invoice_id",
    "invoice_number",
    "tenant_id",
    "period",
    "status",
    "currency",
    "line_number",
    "kind",
    "line_period",
    "meter",
    "description",
    "quantity",
    "unit",
    "unrounded_amount",
    "amount",
];

/// The Arrow schema of the invoice lines table finance queries next to the events: one row per
/// line of every invoice written (`period` and `line_period` as `YYYY-MM`; amounts and
/// quantities exact, DECIMAL(38,9)).
pub fn invoice_lines_schema() -> Schema {
    let decimal = DataType::Decimal128(VALUE_PRECISION, VALUE_SCALE);
    let columns = INVOICE_LINE_COLUMNS;
    Schema::new(vec![
        Field::new(columns[0], DataType::Utf8, false),
        Field::new(columns[1], DataType::Utf8, false),
        Field::new(columns[2], DataType::Utf8, false),
        Field::new(columns[3], DataType::Utf8, false),
        Field::new(columns[4], DataType::Utf8, false),
        Field::new(columns[5], DataType::Utf8, false),
        Field::new(columns[6], DataType::Int32, false),
        Field::new(columns[7], DataType::Utf8, false),
        Field::new(columns[8], DataType::Utf8, false),
        Field::new(columns[9], DataType::Utf8, true),
        Field::new(columns[10], DataType::Utf8, false),
        Field::new(columns[11], decimal.clone(), false),
        Field::new(columns[12], DataType::Utf8, false),
        Field::new(columns[13], decimal.clone(), false),
        Field::new(columns[14], decimal, false),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_has_the_design_columns_in_order() {
        let schema = events_schema();
        let names: Vec<&str> = schema
            .fields()
            .iter()
            .map(|field| field.name().as_str())
            .collect();
        assert_eq!(names, EVENT_COLUMNS);
        assert_eq!(
            schema.field_with_name("value").unwrap().data_type(),
            &DataType::Decimal128(38, 9)
        );
        assert!(schema.field_with_name("event_id").unwrap().is_nullable());
        assert!(!schema.field_with_name("tenant_id").unwrap().is_nullable());
    }
}
