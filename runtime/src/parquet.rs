//! Parquet files of the events table: [`encode_events`] writes exactly
//! [`events_schema`](tally_schemas::table::events_schema), [`decode_events`] reads back only
//! files of that exact schema, and every field survives the round trip unchanged.

use std::collections::BTreeMap;
use std::sync::Arc;

use ::parquet::arrow::ArrowWriter;
use ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use ::parquet::basic::Compression;
use ::parquet::file::properties::{EnabledStatistics, WriterProperties};
use arrow_array::builder::{
    Decimal128Builder, MapBuilder, MapFieldNames, StringBuilder, TimestampMillisecondBuilder,
};
use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, TimestampMillisecondType};
use arrow_array::{Array, ArrayRef, MapArray, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use rust_decimal::Decimal;
use tally_schemas::table::{VALUE_PRECISION, VALUE_SCALE, events_schema};
use tally_schemas::{Timestamp, UsageEvent};

use crate::error::{Error, Result};

/// Most rows written to one row group. Large groups keep the file's footer and the number of
/// reads small; the limit bounds what a reader must hold in memory to decode one group.
pub const MAX_ROWS_PER_ROW_GROUP: usize = 1_048_576;

/// Bytes reserved per row for each string column, a guess that saves most regrowths.
const STRING_BYTES_PER_ROW: usize = 16;

/// One row to write: a valid event and when Tally received it.
#[derive(Clone, Copy, Debug)]
pub struct EventRow<'a> {
    /// The event, already validated by `parse_event`.
    pub event: &'a UsageEvent,
    /// When the pipeline received the event, UTC.
    pub received_at: Timestamp,
}

/// One row read back from an events file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedEvent {
    /// The producer's `event_id` or CloudEvents `id`; `None` when the event had neither.
    pub event_id: Option<String>,
    /// The tenant the usage belongs to.
    pub tenant_id: String,
    /// The meter's name.
    pub metric: String,
    /// The quantity, normalized (no trailing fraction zeros).
    pub value: Decimal,
    /// When the usage happened, UTC.
    pub event_time: Timestamp,
    /// When the pipeline received the event, UTC.
    pub received_at: Timestamp,
    /// The event's dimensions, sorted by key.
    pub dimensions: BTreeMap<String, String>,
}

/// Encodes `rows` as one Snappy-compressed Parquet file with the events table's schema, column
/// statistics, and row groups of at most [`MAX_ROWS_PER_ROW_GROUP`] rows. No rows give a valid
/// file with zero rows.
///
/// Fails only when the Arrow or Parquet library refuses the data.
///
/// # Panics
///
/// When an event's value has more than nine fraction digits, which `parse_event` never returns.
pub fn encode_events(rows: &[EventRow<'_>]) -> Result<Vec<u8>> {
    encode_with_row_group_limit(rows, MAX_ROWS_PER_ROW_GROUP)
}

/// [`encode_events`] with the row-group limit as a parameter, so tests can cross it cheaply.
fn encode_with_row_group_limit(rows: &[EventRow<'_>], max_rows: usize) -> Result<Vec<u8>> {
    let batch = events_batch(rows).map_err(encoding_error)?;
    write_batch(&batch, max_rows).map_err(encoding_error)
}

/// One Parquet file holding `batch`: Snappy, page statistics, row groups of at most `max_rows`.
pub(crate) fn write_batch(
    batch: &RecordBatch,
    max_rows: usize,
) -> Result<Vec<u8>, parquet::errors::ParquetError> {
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        // Page statistics also write the column index, so readers can skip pages, not only
        // whole row groups, when they filter on time or tenant.
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(max_rows))
        .build();
    let mut writer = ArrowWriter::try_new(Vec::new(), batch.schema(), Some(properties))?;
    writer.write(batch)?;
    writer.into_inner()
}

fn encoding_error(source: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Parquet {
        context: "encoding events".into(),
        source: Box::new(source),
    }
}

/// The rows as one record batch whose schema is exactly the events table's.
fn events_batch(rows: &[EventRow<'_>]) -> Result<RecordBatch, ArrowError> {
    let mut columns = EventColumns::with_capacity(rows.len())?;
    for row in rows {
        columns.append(row)?;
    }
    let schema = Arc::new(events_schema());
    let arrays = columns.finish();
    // A builder configured unlike the schema is a bug here, not bad input: say which column.
    for (field, array) in schema.fields().iter().zip(&arrays) {
        assert_eq!(
            array.data_type(),
            field.data_type(),
            "the builder of column `{}` does not match the events schema",
            field.name()
        );
    }
    let batch = RecordBatch::try_new(Arc::clone(&schema), arrays)?;
    assert_eq!(batch.schema().as_ref(), schema.as_ref());
    Ok(batch)
}

/// One builder per column of the events table, in file order.
struct EventColumns {
    event_id: StringBuilder,
    tenant_id: StringBuilder,
    metric: StringBuilder,
    value: Decimal128Builder,
    event_time: TimestampMillisecondBuilder,
    received_at: TimestampMillisecondBuilder,
    dimensions: MapBuilder<StringBuilder, StringBuilder>,
}

impl EventColumns {
    fn with_capacity(rows: usize) -> Result<EventColumns, ArrowError> {
        let strings = || StringBuilder::with_capacity(rows, rows * STRING_BYTES_PER_ROW);
        let timestamps = || TimestampMillisecondBuilder::with_capacity(rows).with_timezone("UTC");
        // The entries, key and value fields must carry the schema's names and nullability, or
        // the map's data type differs from the schema's and the batch is refused.
        let names = MapFieldNames {
            entry: "key_value".into(),
            key: "key".into(),
            value: "value".into(),
        };
        let dimensions = MapBuilder::with_capacity(Some(names), strings(), strings(), rows)
            .with_values_field(Field::new("value", DataType::Utf8, true));
        Ok(EventColumns {
            event_id: strings(),
            tenant_id: strings(),
            metric: strings(),
            value: Decimal128Builder::with_capacity(rows)
                .with_precision_and_scale(VALUE_PRECISION, VALUE_SCALE)?,
            event_time: timestamps(),
            received_at: timestamps(),
            dimensions,
        })
    }

    fn append(&mut self, row: &EventRow<'_>) -> Result<(), ArrowError> {
        let event = row.event;
        self.event_id.append_option(event.event_id());
        self.tenant_id.append_value(event.tenant_id.as_str());
        self.metric.append_value(&event.metric);
        self.value.append_value(value_at_scale(event.value));
        self.event_time.append_value(event.event_time.as_millis());
        self.received_at.append_value(row.received_at.as_millis());
        for (key, value) in &event.dimensions {
            self.dimensions.keys().append_value(key);
            self.dimensions.values().append_value(value);
        }
        self.dimensions.append(true)
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.event_id.finish()),
            Arc::new(self.tenant_id.finish()),
            Arc::new(self.metric.finish()),
            Arc::new(self.value.finish()),
            Arc::new(self.event_time.finish()),
            Arc::new(self.received_at.finish()),
            Arc::new(self.dimensions.finish()),
        ]
    }
}

/// The value as an integer count of 10^-9 units, computed in integers only.
pub(crate) fn value_at_scale(value: Decimal) -> i128 {
    // Normalizing drops trailing fraction zeros, so only digits that matter count against the
    // scale of the column.
    let value = value.normalize();
    let target_scale = u32::try_from(VALUE_SCALE).expect("the value scale is not negative");
    assert!(
        value.scale() <= target_scale,
        "value {value} has more than {target_scale} fraction digits"
    );
    // A mantissa is below 2^96 and the factor at most 10^9, so the product is below 10^38:
    // it neither overflows an i128 nor exceeds the column's 38 digits.
    value.mantissa() * 10_i128.pow(target_scale - value.scale())
}

/// Decodes an events file written by [`encode_events`], rows in file order.
///
/// Fails when the bytes are not a Parquet file, when its Arrow schema differs from the events
/// table's (the error names the first differing column), or when a row holds what no valid
/// event can: a null dimension value, a repeated dimension key, or a value `rust_decimal`
/// cannot represent.
pub fn decode_events(bytes: &[u8]) -> Result<Vec<DecodedEvent>> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::copy_from_slice(bytes))
        .map_err(decoding_error)?;
    if let Some(difference) = schema_difference(&events_schema(), builder.schema()) {
        return Err(decoding_error(difference));
    }
    let reader = builder.build().map_err(decoding_error)?;
    // Rows are not preallocated from the footer's row count: the file may come from outside.
    let mut events = Vec::new();
    for batch in reader {
        let batch = batch.map_err(decoding_error)?;
        decode_batch(&batch, &mut events)?;
    }
    Ok(events)
}

fn decoding_error(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
    Error::Parquet {
        context: "decoding events".into(),
        source: source.into(),
    }
}

/// Where `found` differs from `expected`, as a sentence naming the first differing column.
/// Schema-level metadata is ignored: only the columns are the contract.
fn schema_difference(expected: &Schema, found: &Schema) -> Option<String> {
    let (expected, found) = (expected.fields(), found.fields());
    let columns = expected.len().max(found.len());
    (0..columns).find_map(|index| match (expected.get(index), found.get(index)) {
        (Some(wanted), Some(got)) if wanted != got => Some(format!(
            "column {index} of the file is {}, the events table needs {}",
            describe_field(got),
            describe_field(wanted)
        )),
        (Some(wanted), None) => Some(format!(
            "the file lacks column {index}, {}",
            describe_field(wanted)
        )),
        (None, Some(got)) => Some(format!(
            "the file has an extra column {index}, {}",
            describe_field(got)
        )),
        _ => None,
    })
}

fn describe_field(field: &Field) -> String {
    let nullability = if field.is_nullable() {
        "nullable"
    } else {
        "not null"
    };
    format!("`{}` {:?} {nullability}", field.name(), field.data_type())
}

/// Appends the rows of one batch, whose schema has been checked, to `events`.
fn decode_batch(batch: &RecordBatch, events: &mut Vec<DecodedEvent>) -> Result<()> {
    // The schema check makes every cast below infallible.
    let column = |index: usize| batch.column(index);
    let event_ids = column(0).as_string::<i32>();
    let tenant_ids = column(1).as_string::<i32>();
    let metrics = column(2).as_string::<i32>();
    let values = column(3).as_primitive::<Decimal128Type>();
    let event_times = column(4).as_primitive::<TimestampMillisecondType>();
    let received_ats = column(5).as_primitive::<TimestampMillisecondType>();
    let dimensions = column(6).as_map();
    events.reserve(batch.num_rows());
    for row in 0..batch.num_rows() {
        let at = events.len();
        events.push(DecodedEvent {
            event_id: event_ids
                .is_valid(row)
                .then(|| event_ids.value(row).to_owned()),
            tenant_id: tenant_ids.value(row).to_owned(),
            metric: metrics.value(row).to_owned(),
            value: decode_value(values.value(row), at)?,
            event_time: Timestamp::from_millis(event_times.value(row)),
            received_at: Timestamp::from_millis(received_ats.value(row)),
            dimensions: decode_dimensions(dimensions, row, at)?,
        });
    }
    Ok(())
}

/// The value of row `at` from its count of 10^-9 units, normalized.
fn decode_value(units: i128, at: usize) -> Result<Decimal> {
    let scale = u32::try_from(VALUE_SCALE).expect("the value scale is not negative");
    Decimal::try_from_i128_with_scale(units, scale)
        .map(|value| value.normalize())
        .map_err(|_| {
            decoding_error(format!(
                "row {at}: value {units}e-{scale} is larger than rust_decimal can hold"
            ))
        })
}

/// The dimensions of map row `row`, which is file row `at`.
fn decode_dimensions(map: &MapArray, row: usize, at: usize) -> Result<BTreeMap<String, String>> {
    let keys = map.keys().as_string::<i32>();
    let values = map.values().as_string::<i32>();
    let offsets = map.value_offsets();
    // Offsets of a valid map array are non-negative and increasing.
    let start = usize::try_from(offsets[row]).expect("map offsets are not negative");
    let end = usize::try_from(offsets[row + 1]).expect("map offsets are not negative");
    let mut dimensions = BTreeMap::new();
    for entry in start..end {
        let key = keys.value(entry);
        if values.is_null(entry) {
            return Err(decoding_error(format!(
                "row {at}: dimension {key:?} has no value"
            )));
        }
        if dimensions
            .insert(key.to_owned(), values.value(entry).to_owned())
            .is_some()
        {
            return Err(decoding_error(format!(
                "row {at}: dimension {key:?} appears twice"
            )));
        }
    }
    Ok(dimensions)
}

#[cfg(test)]
mod tests {
    use ::parquet::basic::{LogicalType, TimeUnit};
    use ::parquet::file::reader::{FileReader, SerializedFileReader};
    use tally_schemas::{MeterCatalog, parse_event};

    use super::*;

    fn event(json: &str) -> UsageEvent {
        parse_event(json.as_bytes(), &MeterCatalog::defaults()).expect("a valid test event")
    }

    fn sample_events() -> Vec<UsageEvent> {
        [
            r#"{"tenant_id":"tenant_a","metric":"cpu_hours","value":0.000000001,
                "timestamp":"2026-11-26T14:02:03.123Z","event_id":"req-1"}"#,
            r#"{"tenant_id":"tenant_a","metric":"storage_gb","value":1000000000000,
                "timestamp":"2026-11-26T00:00:00Z",
                "dimensions":{"region":"eu-west-1","tier":"gold","user_id":"u-42"}}"#,
            r#"{"tenant_id":"tenant_b","metric":"memory_gb_hours","value":"12.50",
                "timestamp":"2026-11-27T23:59:59.999Z","event_id":"req-2",
                "dimensions":{"user_id":"u-7"}}"#,
            r#"{"tenant_id":"tenant_b","metric":"api_calls","value":0,
                "timestamp":"1970-01-01T00:00:00Z"}"#,
        ]
        .iter()
        .map(|json| event(json))
        .collect()
    }

    fn rows(events: &[UsageEvent]) -> Vec<EventRow<'_>> {
        events
            .iter()
            .enumerate()
            .map(|(index, event)| EventRow {
                event,
                received_at: event.event_time.plus_millis(1_000 + index as i64),
            })
            .collect()
    }

    fn assert_same_fields(row: &EventRow<'_>, decoded: &DecodedEvent) {
        let event = row.event;
        assert_eq!(decoded.event_id.as_deref(), event.event_id());
        assert_eq!(decoded.tenant_id, event.tenant_id.as_str());
        assert_eq!(decoded.metric, event.metric);
        assert_eq!(decoded.value, event.value);
        assert_eq!(decoded.value.to_string(), event.value.to_string());
        assert_eq!(decoded.event_time, event.event_time);
        assert_eq!(decoded.received_at, row.received_at);
        assert_eq!(decoded.dimensions, event.dimensions);
    }

    #[test]
    fn given_several_events_when_encoded_and_decoded_then_every_field_is_unchanged() {
        // GIVEN events with and without ids, with zero to three dimensions, and values at the
        // extremes of the contract's scale and range.
        let events = sample_events();
        let rows = rows(&events);
        // WHEN they are written and read back
        let decoded = decode_events(&encode_events(&rows).unwrap()).unwrap();
        // THEN each row comes back in order with exactly the same fields.
        assert_eq!(decoded.len(), rows.len());
        for (row, decoded) in rows.iter().zip(&decoded) {
            assert_same_fields(row, decoded);
        }
        assert_eq!(decoded[2].value.to_string(), "12.5");
        assert_eq!(decoded[0].value.to_string(), "0.000000001");
        assert_eq!(decoded[1].value.to_string(), "1000000000000");
    }

    #[test]
    fn given_more_rows_than_a_row_group_holds_when_encoded_then_groups_split_and_order_holds() {
        // GIVEN four events and a limit of three rows per group
        let events = sample_events();
        let rows = rows(&events);
        // WHEN encoded
        let bytes = encode_with_row_group_limit(&rows, 3).unwrap();
        // THEN the file has two row groups and still decodes to the rows in order.
        let reader = SerializedFileReader::new(bytes::Bytes::from(bytes.clone())).unwrap();
        let group_rows: Vec<i64> = reader
            .metadata()
            .row_groups()
            .iter()
            .map(|group| group.num_rows())
            .collect();
        assert_eq!(group_rows, [3, 1]);
        let decoded = decode_events(&bytes).unwrap();
        for (row, decoded) in rows.iter().zip(&decoded) {
            assert_same_fields(row, decoded);
        }
    }

    #[test]
    fn given_an_encoded_file_then_its_arrow_schema_is_exactly_the_events_schema() {
        let bytes = encode_events(&rows(&sample_events())).unwrap();
        let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes)).unwrap();
        assert_eq!(builder.schema().as_ref(), &events_schema());
    }

    #[test]
    fn given_no_rows_when_encoded_then_the_file_decodes_to_zero_rows() {
        let bytes = encode_events(&[]).unwrap();
        assert!(decode_events(&bytes).unwrap().is_empty());
    }

    #[test]
    fn given_an_encoded_file_then_its_footer_declares_the_athena_types_and_snappy() {
        // GIVEN a file of the sample events
        let events = sample_events();
        let bytes = encode_events(&rows(&events)).unwrap();
        // WHEN its footer is read without Arrow
        let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
        let metadata = reader.metadata();
        let schema = metadata.file_metadata().schema_descr();
        let logical_type = |name: &str| {
            let column = schema
                .columns()
                .iter()
                .find(|column| column.name() == name)
                .unwrap_or_else(|| panic!("column {name} is in the footer"));
            column.logical_type_ref().cloned()
        };
        // THEN value is DECIMAL(38,9), both times are UTC milliseconds, and chunks are Snappy
        // with statistics.
        assert_eq!(logical_type("value"), Some(LogicalType::decimal(9, 38)));
        let utc_millis = Some(LogicalType::timestamp(true, TimeUnit::MILLIS));
        assert_eq!(logical_type("event_time"), utc_millis);
        assert_eq!(logical_type("received_at"), utc_millis);
        for chunk in metadata.row_group(0).columns() {
            assert_eq!(chunk.compression(), Compression::SNAPPY);
            assert!(
                chunk.statistics().is_some(),
                "{} has statistics",
                chunk.column_path()
            );
        }
    }

    #[test]
    fn given_a_file_of_another_schema_when_decoded_then_it_fails_naming_the_column() {
        // GIVEN a Parquet file whose value column is a float
        let mut fields: Vec<Field> = events_schema()
            .fields()
            .iter()
            .map(|field| field.as_ref().clone())
            .collect();
        fields[3] = Field::new("value", DataType::Float64, false);
        let schema = Arc::new(Schema::new(fields));
        let writer = ArrowWriter::try_new(Vec::new(), schema, None).unwrap();
        let bytes = writer.into_inner().unwrap();
        // WHEN it is decoded as an events file
        let error = decode_events(&bytes).unwrap_err();
        // THEN decoding fails and says which column differs and how.
        let message = error.to_string();
        assert!(message.starts_with("decoding events: "), "{message}");
        assert!(message.contains("`value` Float64"), "{message}");
        assert!(message.contains("Decimal128(38, 9)"), "{message}");
    }

    #[test]
    fn given_a_file_missing_a_column_when_decoded_then_it_fails_naming_the_column() {
        let fields: Vec<Field> = events_schema().fields()[..6]
            .iter()
            .map(|field| field.as_ref().clone())
            .collect();
        let writer = ArrowWriter::try_new(Vec::new(), Arc::new(Schema::new(fields)), None).unwrap();
        let message = decode_events(&writer.into_inner().unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("lacks column 6, `dimensions`"),
            "{message}"
        );
    }

    #[test]
    fn given_bytes_that_are_not_parquet_when_decoded_then_it_fails() {
        let error = decode_events(b"tenant_id,metric\n").unwrap_err();
        assert!(matches!(error, Error::Parquet { .. }), "{error}");
    }
}
