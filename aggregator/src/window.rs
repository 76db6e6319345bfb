//! Tumbling windows by event time, UTC: hour, day and calendar month (the billing period).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use tally_schemas::Timestamp;
use tally_schemas::time::{MILLIS_PER_DAY, MILLIS_PER_HOUR};

/// The width of a tumbling window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Granularity {
    /// One UTC hour.
    Hour,
    /// One UTC day.
    Day,
    /// One calendar month in UTC: the billing period.
    Month,
}

impl Granularity {
    /// Every granularity, finest first.
    pub const ALL: [Granularity; 3] = [Granularity::Hour, Granularity::Day, Granularity::Month];

    /// The start of the window of this width that holds `instant`.
    pub fn window_start(self, instant: Timestamp) -> Timestamp {
        match self {
            Granularity::Hour => instant.floor_hour(),
            Granularity::Day => instant.floor_day(),
            Granularity::Month => instant.floor_month(),
        }
    }

    /// The end (exclusive) of the window that starts at `start`.
    pub fn window_end(self, start: Timestamp) -> Timestamp {
        match self {
            Granularity::Hour => start.plus_millis(MILLIS_PER_HOUR),
            Granularity::Day => start.plus_millis(MILLIS_PER_DAY),
            Granularity::Month => start.next_month_start(),
        }
    }

    /// The name used on the command line and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Hour => "hour",
            Granularity::Day => "day",
            Granularity::Month => "month",
        }
    }

    /// A small stable number, for compact keys in stores.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The granularity of a [`Granularity::code`].
    pub fn from_code(code: u8) -> Option<Granularity> {
        Granularity::ALL.get(usize::from(code)).copied()
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for Granularity {
    type Err = String;

    fn from_str(text: &str) -> Result<Granularity, String> {
        Granularity::ALL
            .into_iter()
            .find(|granularity| granularity.as_str() == text)
            .ok_or_else(|| format!("granularity must be hour, day or month, not {text:?}"))
    }
}

/// Calls `visit(window_start, overlap_millis)` for every window of `granularity` that the
/// interval `[from, to)` overlaps, with the length of the overlap.
pub fn for_each_overlap(
    granularity: Granularity,
    from: Timestamp,
    to: Timestamp,
    mut visit: impl FnMut(Timestamp, i64),
) {
    let mut start = granularity.window_start(from);
    while start < to {
        let end = granularity.window_end(start);
        let overlap = end.min(to).as_millis() - start.max(from).as_millis();
        visit(start, overlap);
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn month_windows_follow_the_calendar() {
        let start = Granularity::Month.window_start(at("2024-02-29T23:59:59.999Z"));
        assert_eq!(start, at("2024-02-01T00:00:00Z"));
        assert_eq!(
            Granularity::Month.window_end(start),
            at("2024-03-01T00:00:00Z")
        );
    }

    #[test]
    fn overlaps_split_an_interval_at_window_boundaries() {
        // GIVEN an interval from 22:30 to 01:15 the next day
        let mut seen = Vec::new();
        for_each_overlap(
            Granularity::Day,
            at("2026-11-26T22:30:00Z"),
            at("2026-11-27T01:15:00Z"),
            |start, overlap| seen.push((start.to_string(), overlap)),
        );
        // THEN the first day gets 90 minutes and the second 75
        assert_eq!(
            seen,
            [
                ("2026-11-26T00:00:00Z".to_owned(), 90 * 60_000),
                ("2026-11-27T00:00:00Z".to_owned(), 75 * 60_000)
            ]
        );
        let mut hours = 0;
        for_each_overlap(
            Granularity::Hour,
            at("2026-11-26T22:30:00Z"),
            at("2026-11-27T01:15:00Z"),
            |_, _| hours += 1,
        );
        assert_eq!(hours, 4);
    }

    #[test]
    fn names_round_trip() {
        for granularity in Granularity::ALL {
            assert_eq!(granularity.as_str().parse::<Granularity>(), Ok(granularity));
            assert_eq!(
                Granularity::from_code(granularity.code()),
                Some(granularity)
            );
        }
        assert!("week".parse::<Granularity>().is_err());
    }
}
