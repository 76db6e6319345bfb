//! The limits of the event contract, as named constants shared by the parser, the JSON Schema
//! test and the docs.

/// Longest accepted tenant id, in characters.
pub const MAX_TENANT_ID_CHARS: usize = 64;
/// Longest accepted `event_id`, in characters (printable ASCII only).
pub const MAX_EVENT_ID_CHARS: usize = 128;
/// Most dimensions one event may carry.
pub const MAX_DIMENSIONS: usize = 16;
/// Longest dimension key, in characters.
pub const MAX_DIMENSION_KEY_CHARS: usize = 64;
/// Longest dimension value, in characters.
pub const MAX_DIMENSION_VALUE_CHARS: usize = 256;
/// Largest accepted value of one event (10^12).
pub const MAX_VALUE: i64 = 1_000_000_000_000;
/// Most fraction digits a value may carry (nanounits); the events table stores DECIMAL(38,9).
pub const MAX_VALUE_FRACTION_DIGITS: u32 = 9;
/// Largest encoded event, in bytes: the size of one Kinesis record.
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;
/// Longest meter name, in characters.
pub const MAX_METRIC_NAME_CHARS: usize = 64;
