//! The one place that reads the wall clock; everything else is handed `now`.

use std::time::{SystemTime, UNIX_EPOCH};

use tally_schemas::Timestamp;

/// The current time, truncated to milliseconds.
#[allow(clippy::disallowed_methods)] // This is the clock adapter the lint points everyone to.
pub fn now() -> Timestamp {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    Timestamp::from_millis(i64::try_from(since_epoch.as_millis()).expect("before year 292 million"))
}
