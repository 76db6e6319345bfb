//! Billing quantities derived from rollups: a gauge's integral over a month becomes
//! unit-months (GB-months for `storage_gb`), at full decimal precision.

use rust_decimal::Decimal;
use tally_schemas::Timestamp;
use tally_schemas::time::{MILLIS_PER_HOUR, days_in_month};

/// Hours in the calendar month (UTC) holding `month_start`: 672, 696, 720 or 744.
pub fn hours_in_month(month_start: Timestamp) -> i64 {
    let civil = month_start.civil();
    i64::from(days_in_month(civil.year, civil.month)) * 24
}

/// GB-months from a month's storage integral in GB-milliseconds (what the aggregator keeps
/// for a gauge): the integral divided by the milliseconds in the month holding `month_start`.
///
/// A constant 1 GB over the whole month is exactly 1 GB-month, whatever the month's length.
/// The quotient keeps every digit `Decimal` can hold (28 to 29 significant digits; the last
/// is rounded half to even by `rust_decimal`); round only when pricing, never here.
pub fn gb_months(gb_millis_integral: Decimal, month_start: Timestamp) -> Decimal {
    let millis_in_month = Decimal::from(MILLIS_PER_HOUR * hours_in_month(month_start));
    gb_millis_integral / millis_in_month
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn months_have_the_calendar_hours() {
        assert_eq!(hours_in_month(at("2026-02-01T00:00:00Z")), 28 * 24);
        assert_eq!(hours_in_month(at("2028-02-01T00:00:00Z")), 29 * 24);
        assert_eq!(hours_in_month(at("2026-11-01T00:00:00Z")), 720);
        assert_eq!(hours_in_month(at("2026-12-31T23:59:59Z")), 744);
    }

    #[test]
    fn a_constant_level_over_the_month_is_that_many_gb_months() {
        // 3 GB held all of November: 3 × 720 h × 3,600,000 ms = 7,776,000,000 GB-ms → 3 GB-months.
        let november = at("2026-11-01T00:00:00Z");
        assert_eq!(
            gb_months(Decimal::from(7_776_000_000i64), november),
            Decimal::from(3)
        );
        // 10 GB for 1 hour of a 720-hour month is 10/720 = 0.013888… GB-months, to 28 digits.
        let one_hour = Decimal::from(10 * MILLIS_PER_HOUR);
        let result = gb_months(one_hour, november);
        assert_eq!(result.to_string(), "0.0138888888888888888888888889");
    }
}
