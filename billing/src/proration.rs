//! Proration: the share of a billing period a plan was active, counted in whole seconds.
//!
//! Fixed amounts (flat fees, tier fees, the minimum commitment) are multiplied by
//! `active_seconds / period_seconds`; usage is never prorated, because usage only accrues
//! while the plan is active.

use rust_decimal::Decimal;
use serde::Serialize;
use tally_schemas::Timestamp;
use tally_schemas::time::MILLIS_PER_SECOND;

use crate::error::{BillingError, Result};

/// The part of a billing period a plan was active, in whole seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Proration {
    active_seconds: i64,
    period_seconds: i64,
}

impl Proration {
    /// The whole period: fixed amounts are charged in full.
    pub const FULL: Proration = Proration {
        active_seconds: 1,
        period_seconds: 1,
    };

    /// `active_seconds` of a `period_seconds`-long period.
    ///
    /// Fails when the period is not longer than zero or the active time is negative or longer
    /// than the period.
    pub fn new(active_seconds: i64, period_seconds: i64) -> Result<Proration> {
        if period_seconds <= 0 || !(0..=period_seconds).contains(&active_seconds) {
            return Err(BillingError::InvalidProration {
                active_seconds,
                period_seconds,
            });
        }
        Ok(Proration {
            active_seconds,
            period_seconds,
        })
    }

    /// The part of the period `[period_start, period_end)` covered by `[from, until)`.
    ///
    /// Every instant is first floored to its second, so the prorations of adjacent spans add
    /// up to the whole period exactly. Fails when the period is shorter than one second.
    pub fn for_span(
        from: Timestamp,
        until: Timestamp,
        period_start: Timestamp,
        period_end: Timestamp,
    ) -> Result<Proration> {
        let second = |instant: Timestamp| instant.as_millis().div_euclid(MILLIS_PER_SECOND);
        let period_seconds = second(period_end) - second(period_start);
        let active_start = second(from.max(period_start));
        let active_end = second(until.min(period_end));
        let active_seconds = (active_end - active_start).clamp(0, period_seconds.max(0));
        Proration::new(active_seconds, period_seconds)
    }

    /// Seconds the plan was active in the period.
    pub fn active_seconds(self) -> i64 {
        self.active_seconds
    }

    /// Seconds in the period.
    pub fn period_seconds(self) -> i64 {
        self.period_seconds
    }

    /// Whether the plan was active for the whole period.
    pub fn is_full(self) -> bool {
        self.active_seconds == self.period_seconds
    }

    /// `amount × active / period`, unrounded.
    ///
    /// Multiplying before dividing keeps the result exact whenever it can be written in
    /// 28 digits, and makes a full period give back `amount` itself.
    pub fn apply(self, amount: Decimal) -> Decimal {
        if self.is_full() {
            return amount;
        }
        amount * Decimal::from(self.active_seconds) / Decimal::from(self.period_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn refuses_periods_that_are_not_periods() {
        for (active, period) in [(0, 0), (1, 0), (-1, 10), (11, 10), (0, -5)] {
            let error = Proration::new(active, period).unwrap_err();
            assert!(matches!(error, BillingError::InvalidProration { .. }));
        }
        assert!(Proration::new(0, 10).is_ok());
        assert!(Proration::new(10, 10).unwrap().is_full());
    }

    #[test]
    fn a_mid_month_start_prorates_the_remaining_days() {
        // GIVEN November 2026 (30 days = 2,592,000 s) and a plan from the 16th
        // THEN it is active 15 days = 1,296,000 s, and a $30 fee prorates to exactly $15.
        let proration = Proration::for_span(
            at("2026-11-16T00:00:00Z"),
            at("2027-01-01T00:00:00Z"),
            at("2026-11-01T00:00:00Z"),
            at("2026-12-01T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(proration.active_seconds(), 1_296_000);
        assert_eq!(proration.period_seconds(), 2_592_000);
        assert_eq!(proration.apply(Decimal::from(30)), Decimal::from(15));
    }

    #[test]
    fn spans_outside_the_period_are_zero_and_fractions_of_seconds_are_floored() {
        let start = at("2026-11-01T00:00:00Z");
        let end = at("2026-12-01T00:00:00Z");
        let before = Proration::for_span(at("2026-10-01T00:00:00Z"), start, start, end).unwrap();
        assert_eq!(before.active_seconds(), 0);
        // 00:00:10.900 floors to second 10, so the two halves hold 10 and 2,591,990 seconds.
        let cut = at("2026-11-01T00:00:10.900Z");
        let first = Proration::for_span(start, cut, start, end).unwrap();
        let second = Proration::for_span(cut, end, start, end).unwrap();
        assert_eq!(first.active_seconds(), 10);
        assert_eq!(
            first.active_seconds() + second.active_seconds(),
            first.period_seconds()
        );
    }
}
