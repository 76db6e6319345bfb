//! Rollups: one record per tenant, metric, granularity and window, and the deltas the core
//! emits for them. A delta merges into a rollup the same way whatever the meter's
//! aggregation, so stores apply deltas without knowing any business rule.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use tally_schemas::time::MILLIS_PER_HOUR;
use tally_schemas::{Aggregation, TenantId, Timestamp};

use crate::window::Granularity;

/// Fraction digits of a gauge window's value in unit-hours (the exact integral is kept too).
pub const GAUGE_VALUE_SCALE: u32 = 9;

/// Which rollup: tenant, metric, window width and window start.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RollupKey {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The meter.
    pub metric: String,
    /// The window width.
    pub granularity: Granularity,
    /// The window start.
    pub window_start: Timestamp,
}

impl RollupKey {
    /// The end (exclusive) of the window.
    pub fn window_end(&self) -> Timestamp {
        self.granularity.window_end(self.window_start)
    }
}

/// The aggregate of one window.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollup {
    /// The exact aggregate: the sum, count, maximum, latest value or distinct count; for
    /// gauges the integral of the level in unit-milliseconds, which stays exact.
    pub amount: Decimal,
    /// Accepted events whose event time falls in the window.
    pub events: u64,
    /// For `latest` meters, the event time of the value held in `amount`.
    pub latest_event_time: Option<Timestamp>,
}

/// A change to one rollup; deltas merge associatively and commutatively.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollupDelta {
    /// Added to the amount (sums, counts, distinct counts, gauge integrals; may be negative
    /// for a gauge corrected by a late sample).
    pub add: Decimal,
    /// Added to the event count.
    pub events: u64,
    /// For `max` meters, a value the amount must be at least.
    pub max: Option<Decimal>,
    /// For `latest` meters, a value and its event time; the latest time wins, then the larger
    /// value.
    pub latest: Option<(Timestamp, Decimal)>,
}

impl RollupDelta {
    /// Folds `other` into this delta.
    pub fn merge(&mut self, other: &RollupDelta) {
        self.add += other.add;
        self.events += other.events;
        self.max = match (self.max, other.max) {
            (Some(mine), Some(theirs)) => Some(mine.max(theirs)),
            (mine, theirs) => mine.or(theirs),
        };
        self.latest = match (self.latest, other.latest) {
            (Some(mine), Some(theirs)) => Some(mine.max(theirs)),
            (mine, theirs) => mine.or(theirs),
        };
    }
}

impl Rollup {
    /// Applies a delta to this rollup.
    pub fn apply(&mut self, delta: &RollupDelta) {
        self.amount += delta.add;
        self.events += delta.events;
        if let Some(max) = delta.max {
            self.amount = self.amount.max(max);
        }
        if let Some((time, value)) = delta.latest {
            let current = self.latest_event_time.map(|held| (held, self.amount));
            if current.is_none_or(|current| (time, value) > current) {
                self.latest_event_time = Some(time);
                self.amount = value;
            }
        }
    }

    /// The window's value in the meter's window unit: the amount, or for gauges the integral
    /// in unit-hours, rounded half-to-even to [`GAUGE_VALUE_SCALE`] digits.
    pub fn value(&self, aggregation: Aggregation) -> Decimal {
        match aggregation {
            Aggregation::Gauge => gauge_millis_to_hours(self.amount),
            _ => self.amount.normalize(),
        }
    }
}

/// Converts a gauge integral in unit-milliseconds to unit-hours, rounded half-to-even to
/// [`GAUGE_VALUE_SCALE`] digits.
pub fn gauge_millis_to_hours(integral: Decimal) -> Decimal {
    (integral / Decimal::from(MILLIS_PER_HOUR))
        .round_dp_with_strategy(GAUGE_VALUE_SCALE, RoundingStrategy::MidpointNearestEven)
        .normalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(add: i64, max: Option<i64>, latest: Option<(i64, i64)>) -> RollupDelta {
        RollupDelta {
            add: add.into(),
            events: 1,
            max: max.map(Decimal::from),
            latest: latest.map(|(time, value)| (Timestamp::from_millis(time), value.into())),
        }
    }

    #[test]
    fn merging_deltas_then_applying_equals_applying_each() {
        let deltas = [
            delta(0, None, Some((5, 7))),
            delta(0, None, Some((9, 2))),
            delta(0, None, Some((9, 3))),
            delta(0, None, Some((1, 100))),
        ];
        let mut one_by_one = Rollup::default();
        let mut merged = RollupDelta::default();
        for delta in &deltas {
            one_by_one.apply(delta);
            merged.merge(delta);
        }
        let mut at_once = Rollup::default();
        at_once.apply(&merged);
        assert_eq!(one_by_one, at_once);
        assert_eq!(
            at_once.amount,
            Decimal::from(3),
            "latest time wins, larger value on a tie"
        );
        assert_eq!(at_once.events, 4);
    }

    #[test]
    fn max_and_sum_deltas_apply_independently_of_order() {
        let mut forward = Rollup::default();
        let mut backward = Rollup::default();
        let deltas = [
            delta(0, Some(4), None),
            delta(0, Some(9), None),
            delta(0, Some(1), None),
        ];
        deltas.iter().for_each(|delta| forward.apply(delta));
        deltas.iter().rev().for_each(|delta| backward.apply(delta));
        assert_eq!(forward, backward);
        assert_eq!(forward.amount, Decimal::from(9));
    }

    #[test]
    fn gauge_values_are_unit_hours() {
        // 12.5 GB held for 90 minutes is 18.75 GB-hours.
        let rollup = Rollup {
            amount: Decimal::new(125, 1) * Decimal::from(90 * 60_000),
            events: 1,
            latest_event_time: None,
        };
        assert_eq!(rollup.value(Aggregation::Gauge).to_string(), "18.75");
        // 1 GB for one millisecond rounds to 9 digits of GB-hours.
        assert_eq!(
            gauge_millis_to_hours(Decimal::ONE).to_string(),
            "0.000000278"
        );
    }
}
