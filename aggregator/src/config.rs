//! The core's settings, with the defaults of DESIGN.md.

use tally_schemas::time::{MILLIS_PER_DAY, MILLIS_PER_HOUR, MILLIS_PER_MINUTE};

/// Default acceptance window behind processing time, in days.
pub const DEFAULT_MAX_EVENT_AGE_DAYS: i64 = 35;
/// How far ahead of processing time an event may be, in minutes.
pub const DEFAULT_MAX_FUTURE_MINUTES: i64 = 5;
/// Grace after an event's day ends before the event counts as late, in minutes.
pub const DEFAULT_LATE_GRACE_MINUTES: i64 = 60;
/// The longest acceptance window the core allows, in days: it bounds the dedup memory.
pub const MAX_EVENT_AGE_DAYS_LIMIT: i64 = 400;

/// Settings of the core.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregatorConfig {
    /// Events older than this behind processing time are refused as `too_old`.
    pub max_event_age_millis: i64,
    /// Events further than this ahead of processing time are refused as `in_future`.
    pub max_future_millis: i64,
    /// An event is marked late when it arrives this long after its UTC day ended.
    pub late_grace_millis: i64,
    /// The secret key of the dedup hash; it must never change for a given state.
    pub dedup_key: [u8; 16],
}

/// A setting out of its allowed range.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{setting} must be between {min} and {max}, not {value}")]
pub struct InvalidConfig {
    /// The setting's name.
    pub setting: &'static str,
    /// The value given.
    pub value: i64,
    /// The smallest allowed value.
    pub min: i64,
    /// The largest allowed value.
    pub max: i64,
}

impl AggregatorConfig {
    /// The defaults of DESIGN.md with the given dedup key.
    pub fn new(dedup_key: [u8; 16]) -> AggregatorConfig {
        AggregatorConfig {
            max_event_age_millis: DEFAULT_MAX_EVENT_AGE_DAYS * MILLIS_PER_DAY,
            max_future_millis: DEFAULT_MAX_FUTURE_MINUTES * MILLIS_PER_MINUTE,
            late_grace_millis: DEFAULT_LATE_GRACE_MINUTES * MILLIS_PER_MINUTE,
            dedup_key,
        }
    }

    /// Sets the acceptance window in days.
    ///
    /// Fails unless `days` is between 1 and [`MAX_EVENT_AGE_DAYS_LIMIT`].
    pub fn with_max_event_age_days(mut self, days: i64) -> Result<AggregatorConfig, InvalidConfig> {
        if !(1..=MAX_EVENT_AGE_DAYS_LIMIT).contains(&days) {
            return Err(InvalidConfig {
                setting: "max_event_age_days",
                value: days,
                min: 1,
                max: MAX_EVENT_AGE_DAYS_LIMIT,
            });
        }
        self.max_event_age_millis = days * MILLIS_PER_DAY;
        Ok(self)
    }

    /// The late grace in whole hours, for display.
    pub fn late_grace_hours(&self) -> i64 {
        self.late_grace_millis / MILLIS_PER_HOUR
    }
}
