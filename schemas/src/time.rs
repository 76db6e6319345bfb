//! Event time: UTC instants at millisecond precision, the precision of the events table.
//!
//! Parsing accepts RFC 3339 and ISO 8601 without an offset (what Python's
//! `datetime.now().isoformat()` prints), read as UTC. Fractions finer than a millisecond are
//! truncated, so the core works on exactly the instants finance sees in the Parquet files.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Milliseconds in one second.
pub const MILLIS_PER_SECOND: i64 = 1_000;
/// Milliseconds in one minute.
pub const MILLIS_PER_MINUTE: i64 = 60 * MILLIS_PER_SECOND;
/// Milliseconds in one hour.
pub const MILLIS_PER_HOUR: i64 = 60 * MILLIS_PER_MINUTE;
/// Milliseconds in one day.
pub const MILLIS_PER_DAY: i64 = 24 * MILLIS_PER_HOUR;

/// An instant in UTC, as milliseconds since the Unix epoch (the default is the epoch).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(i64);

/// A calendar date and time of day in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CivilTime {
    /// Year, 1 to 9999 for parsed timestamps.
    pub year: i64,
    /// Month, 1 to 12.
    pub month: u32,
    /// Day of the month, 1 to 31.
    pub day: u32,
    /// Hour, 0 to 23.
    pub hour: u32,
    /// Minute, 0 to 59.
    pub minute: u32,
    /// Second, 0 to 59.
    pub second: u32,
    /// Millisecond, 0 to 999.
    pub millisecond: u32,
}

impl Timestamp {
    /// The instant `millis` milliseconds after the Unix epoch.
    pub const fn from_millis(millis: i64) -> Timestamp {
        Timestamp(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Parses an RFC 3339 timestamp, or an ISO 8601 one without offset read as UTC.
    ///
    /// Fails with a sentence naming what is wrong: a missing part, a field out of range, or
    /// trailing text.
    pub fn parse(text: &str) -> Result<Timestamp, &'static str> {
        parse_timestamp(text.as_bytes())
    }

    /// The instant of a calendar date and time in UTC.
    pub fn from_civil(civil: CivilTime) -> Timestamp {
        let days = days_from_civil(civil.year, civil.month, civil.day);
        Timestamp(
            days * MILLIS_PER_DAY
                + i64::from(civil.hour) * MILLIS_PER_HOUR
                + i64::from(civil.minute) * MILLIS_PER_MINUTE
                + i64::from(civil.second) * MILLIS_PER_SECOND
                + i64::from(civil.millisecond),
        )
    }

    /// The calendar date and time of this instant in UTC.
    pub fn civil(self) -> CivilTime {
        let days = self.0.div_euclid(MILLIS_PER_DAY);
        let in_day = self.0.rem_euclid(MILLIS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        CivilTime {
            year,
            month,
            day,
            hour: (in_day / MILLIS_PER_HOUR) as u32,
            minute: (in_day % MILLIS_PER_HOUR / MILLIS_PER_MINUTE) as u32,
            second: (in_day % MILLIS_PER_MINUTE / MILLIS_PER_SECOND) as u32,
            millisecond: (in_day % MILLIS_PER_SECOND) as u32,
        }
    }

    /// The start of the UTC hour holding this instant.
    pub fn floor_hour(self) -> Timestamp {
        Timestamp(self.0 - self.0.rem_euclid(MILLIS_PER_HOUR))
    }

    /// The start of the UTC day holding this instant.
    pub fn floor_day(self) -> Timestamp {
        Timestamp(self.0 - self.0.rem_euclid(MILLIS_PER_DAY))
    }

    /// The start of the calendar month (UTC) holding this instant.
    pub fn floor_month(self) -> Timestamp {
        let civil = self.civil();
        Timestamp(days_from_civil(civil.year, civil.month, 1) * MILLIS_PER_DAY)
    }

    /// The start of the calendar month after the one holding this instant.
    pub fn next_month_start(self) -> Timestamp {
        let civil = self.civil();
        let (year, month) = if civil.month == 12 {
            (civil.year + 1, 1)
        } else {
            (civil.year, civil.month + 1)
        };
        Timestamp(days_from_civil(year, month, 1) * MILLIS_PER_DAY)
    }

    /// This instant moved by `millis` milliseconds (saturating at the ends of the range).
    pub fn plus_millis(self, millis: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(millis))
    }

    /// The UTC date as `YYYY-MM-DD`, as used in `dt=` partitions.
    pub fn date_string(self) -> String {
        let civil = self.civil();
        format!("{:04}-{:02}-{:02}", civil.year, civil.month, civil.day)
    }

    /// RFC 3339 in UTC with a `Z`; milliseconds are printed only when not zero.
    pub fn to_rfc3339(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let civil = self.civil();
        write!(
            formatter,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second
        )?;
        if civil.millisecond != 0 {
            write!(formatter, ".{:03}", civil.millisecond)?;
        }
        formatter.write_str("Z")
    }
}

/// Serde helpers writing a [`Timestamp`] as an RFC 3339 string (documents people read, such as
/// invoices) instead of the compact milliseconds used in state.
pub mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};

    use super::Timestamp;

    /// Writes the instant as RFC 3339.
    pub fn serialize<S: Serializer>(instant: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(instant)
    }

    /// Reads an RFC 3339 instant.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }

    /// The same for an optional instant (`null` when absent).
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        use super::super::Timestamp;

        /// Writes the instant as RFC 3339, or `null`.
        pub fn serialize<S: Serializer>(
            instant: &Option<Timestamp>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match instant {
                Some(instant) => serializer.collect_str(instant),
                None => serializer.serialize_none(),
            }
        }

        /// Reads an RFC 3339 instant or `null`.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Timestamp>, D::Error> {
            let text = Option::<String>::deserialize(deserializer)?;
            text.map(|text| Timestamp::parse(&text).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}

/// Days in `month` of `year` in the proleptic Gregorian calendar.
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap_year(year) => 29,
        _ => 28,
    }
}

fn is_leap_year(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// Days since 1970-01-01 of a proleptic Gregorian date, counting 400-year eras of 146,097 days
/// from a year that starts in March so that the leap day falls last.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A cursor over the bytes of a timestamp.
struct Cursor<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, count: usize, what: &'static str) -> Result<u32, &'static str> {
        let end = self.position + count;
        let slice = self.bytes.get(self.position..end).ok_or(what)?;
        let mut number = 0u32;
        for byte in slice {
            if !byte.is_ascii_digit() {
                return Err(what);
            }
            number = number * 10 + u32::from(byte - b'0');
        }
        self.position = end;
        Ok(number)
    }

    fn expect(&mut self, allowed: &[u8], what: &'static str) -> Result<u8, &'static str> {
        match self.bytes.get(self.position) {
            Some(byte) if allowed.contains(byte) => {
                self.position += 1;
                Ok(*byte)
            }
            _ => Err(what),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.position).copied()
    }
}

fn parse_timestamp(bytes: &[u8]) -> Result<Timestamp, &'static str> {
    let mut cursor = Cursor { bytes, position: 0 };
    let year = cursor.digits(4, "expected a four-digit year (YYYY-MM-DDTHH:MM:SS)")?;
    cursor.expect(b"-", "expected '-' after the year")?;
    let month = cursor.digits(2, "expected a two-digit month")?;
    cursor.expect(b"-", "expected '-' after the month")?;
    let day = cursor.digits(2, "expected a two-digit day")?;
    cursor.expect(b"Tt ", "expected 'T' between the date and the time")?;
    let hour = cursor.digits(2, "expected a two-digit hour")?;
    cursor.expect(b":", "expected ':' after the hour")?;
    let minute = cursor.digits(2, "expected two-digit minutes")?;
    cursor.expect(b":", "expected ':' and seconds after the minutes")?;
    let second = cursor.digits(2, "expected two-digit seconds")?;
    let millisecond = parse_fraction(&mut cursor)?;
    let offset_minutes = parse_offset(&mut cursor)?;
    if cursor.position != bytes.len() {
        return Err("unexpected text after the timestamp");
    }
    let year = i64::from(year);
    if year == 0 {
        return Err("year 0000 is out of range");
    }
    if !(1..=12).contains(&month) {
        return Err("month is out of range");
    }
    if day == 0 || day > days_in_month(year, month) {
        return Err("day is out of range for its month");
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err("time of day is out of range (leap seconds are not accepted)");
    }
    let local = Timestamp::from_civil(CivilTime {
        year,
        month,
        day,
        hour,
        minute,
        second,
        millisecond,
    });
    Ok(local.plus_millis(-offset_minutes * MILLIS_PER_MINUTE))
}

/// Reads an optional `.fraction` of 1 to 9 digits, truncated to milliseconds.
fn parse_fraction(cursor: &mut Cursor<'_>) -> Result<u32, &'static str> {
    if !matches!(cursor.peek(), Some(b'.' | b',')) {
        return Ok(0);
    }
    cursor.position += 1;
    let start = cursor.position;
    let mut millisecond = 0;
    while let Some(byte) = cursor.peek().filter(u8::is_ascii_digit) {
        let index = cursor.position - start;
        if index < 3 {
            millisecond = millisecond * 10 + u32::from(byte - b'0');
        }
        cursor.position += 1;
    }
    let count = cursor.position - start;
    if count == 0 || count > 9 {
        return Err("the fraction of a second must have 1 to 9 digits");
    }
    for _ in count..3 {
        millisecond *= 10;
    }
    Ok(millisecond)
}

/// Reads an optional `Z` or `±HH:MM` (also `±HHMM`, `±HH`); no offset means UTC.
fn parse_offset(cursor: &mut Cursor<'_>) -> Result<i64, &'static str> {
    let sign = match cursor.peek() {
        None => return Ok(0),
        Some(b'Z' | b'z') => {
            cursor.position += 1;
            return Ok(0);
        }
        Some(b'+') => 1,
        Some(b'-') => -1,
        Some(_) => return Err("expected 'Z' or an offset such as +02:00 after the time"),
    };
    cursor.position += 1;
    let hours = cursor.digits(2, "expected a two-digit offset hour")?;
    let minutes = match cursor.peek() {
        None => 0,
        Some(b':') => {
            cursor.position += 1;
            cursor.digits(2, "expected two-digit offset minutes")?
        }
        Some(_) => cursor.digits(2, "expected two-digit offset minutes")?,
    };
    if hours > 23 || minutes > 59 {
        return Err("the offset is out of range");
    }
    Ok(sign * i64::from(hours * 60 + minutes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Datelike, NaiveDateTime, Timelike};
    use proptest::prelude::*;

    fn at(text: &str) -> i64 {
        Timestamp::parse(text).unwrap().as_millis()
    }

    #[test]
    fn every_accepted_form_reads_as_the_same_instant() {
        let expected = at("2026-11-26T14:02:03.123Z");
        for text in [
            "2026-11-26T14:02:03.123456",
            "2026-11-26T14:02:03.123",
            "2026-11-26t14:02:03.123999999z",
            "2026-11-26 14:02:03.123+00:00",
            "2026-11-26T16:02:03.123+02:00",
            "2026-11-26T09:32:03.123-0430",
            "2026-11-26T15:02:03.123+01",
        ] {
            assert_eq!(at(text), expected, "{text}");
        }
        assert_eq!(at("2026-11-26T14:02:03") % 1000, 0);
    }

    #[test]
    fn matches_chrono_on_a_known_instant() {
        let ours = at("2026-02-28T23:59:59.999Z");
        let theirs = DateTime::parse_from_rfc3339("2026-02-28T23:59:59.999Z").unwrap();
        assert_eq!(ours, theirs.timestamp_millis());
    }

    #[test]
    fn refuses_malformed_and_out_of_range_timestamps() {
        for text in [
            "",
            "2026-11-26",
            "2026-11-26T14:02",
            "2026-13-01T00:00:00",
            "2026-02-29T00:00:00",
            "2026-11-26T24:00:00",
            "2026-11-26T23:59:60Z",
            "2026-11-26T14:02:03.",
            "2026-11-26T14:02:03.1234567890",
            "2026-11-26T14:02:03+25:00",
            "2026-11-26T14:02:03Zjunk",
            "1764165723",
            "0000-01-01T00:00:00",
        ] {
            assert!(Timestamp::parse(text).is_err(), "{text} was accepted");
        }
        assert!(Timestamp::parse("2024-02-29T00:00:00").is_ok());
    }

    #[test]
    fn windows_floor_to_utc_boundaries() {
        let instant = Timestamp::parse("2026-12-31T23:30:00.5Z").unwrap();
        assert_eq!(instant.floor_hour().to_string(), "2026-12-31T23:00:00Z");
        assert_eq!(instant.floor_day().to_string(), "2026-12-31T00:00:00Z");
        assert_eq!(instant.floor_month().to_string(), "2026-12-01T00:00:00Z");
        assert_eq!(
            instant.next_month_start().to_string(),
            "2027-01-01T00:00:00Z"
        );
        assert_eq!(instant.to_string(), "2026-12-31T23:30:00.500Z");
        assert_eq!(instant.date_string(), "2026-12-31");
    }

    proptest! {
        #[test]
        fn calendar_agrees_with_chrono(millis in -62_000_000_000_000i64..253_000_000_000_000i64) {
            let ours = Timestamp::from_millis(millis);
            let theirs = DateTime::from_timestamp_millis(millis).unwrap();
            let civil = ours.civil();
            prop_assert_eq!(civil.year, i64::from(theirs.year()));
            prop_assert_eq!(civil.month, theirs.month());
            prop_assert_eq!(civil.day, theirs.day());
            prop_assert_eq!(civil.hour, theirs.hour());
            prop_assert_eq!(civil.second, theirs.second());
            prop_assert_eq!(Timestamp::from_civil(civil), ours);
            let month_start = theirs.date_naive().with_day(1).unwrap().and_hms_opt(0, 0, 0).unwrap();
            prop_assert_eq!(ours.floor_month().as_millis(), month_start.and_utc().timestamp_millis());
        }

        #[test]
        fn printing_and_parsing_round_trip(millis in 0i64..253_000_000_000_000i64) {
            let instant = Timestamp::from_millis(millis);
            prop_assert_eq!(Timestamp::parse(&instant.to_string()), Ok(instant));
            let naive = NaiveDateTime::parse_from_str(
                instant.to_string().trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S%.f").unwrap();
            prop_assert_eq!(naive.and_utc().timestamp_millis(), millis);
        }
    }
}
