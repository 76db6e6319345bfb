//! Gauges: a level that holds from one sample until the next and is carried across windows.
//!
//! A series is integrated from its first sample up to the horizon (the latest processing time
//! seen), so a window's value is the unit-milliseconds of level inside it. A sample that arrives
//! late changes the level between itself and the next sample; the core emits the difference
//! for exactly the windows that interval touches.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tally_schemas::{TenantId, Timestamp};

/// Which series: one per tenant and gauge meter.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SeriesKey {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The gauge meter.
    pub metric: String,
}

/// A stretch of time over which the level is constant (or, for a correction, changed by a
/// constant amount).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Start, inclusive.
    pub from: Timestamp,
    /// End, exclusive.
    pub to: Timestamp,
    /// The level, or the change of level.
    pub level: Decimal,
}

/// The samples of one series, sorted by time, one per instant (on a tie the larger value wins,
/// so the result does not depend on arrival order).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GaugeSeries {
    samples: Vec<(Timestamp, Decimal)>,
}

impl GaugeSeries {
    /// A series of previously exported samples.
    ///
    /// Panics if the samples are not strictly increasing in time: that is a corrupted state.
    pub fn from_samples(samples: Vec<(Timestamp, Decimal)>) -> GaugeSeries {
        assert!(
            samples.windows(2).all(|pair| pair[0].0 < pair[1].0),
            "gauge samples must be strictly increasing in time"
        );
        GaugeSeries { samples }
    }

    /// The samples, oldest first.
    pub fn samples(&self) -> &[(Timestamp, Decimal)] {
        &self.samples
    }

    /// Adds a sample and returns how the integrated level changes below `horizon`: the change
    /// of level over `[time, next sample or horizon)`, or `None` when nothing below the horizon
    /// changes.
    pub fn insert(
        &mut self,
        time: Timestamp,
        value: Decimal,
        horizon: Timestamp,
    ) -> Option<Segment> {
        let position = self.samples.partition_point(|(sampled, _)| *sampled < time);
        let change = match self.samples.get_mut(position) {
            Some((sampled, level)) if *sampled == time => {
                if value <= *level {
                    return None;
                }
                let change = value - *level;
                *level = value;
                change
            }
            _ => {
                let previous = position
                    .checked_sub(1)
                    .map_or(Decimal::ZERO, |before| self.samples[before].1);
                self.samples.insert(position, (time, value));
                value - previous
            }
        };
        let next = self
            .samples
            .get(position + 1)
            .map_or(horizon, |(sampled, _)| *sampled);
        let to = next.min(horizon);
        (time < to).then_some(Segment {
            from: time,
            to,
            level: change,
        })
    }

    /// The constant-level segments overlapping `[from, to)`, clipped to it.
    pub fn segments(&self, from: Timestamp, to: Timestamp) -> Vec<Segment> {
        let first = self
            .samples
            .partition_point(|(sampled, _)| *sampled <= from);
        let start = first.saturating_sub(1);
        let mut segments = Vec::new();
        for (index, (sampled, level)) in self.samples.iter().enumerate().skip(start) {
            if *sampled >= to {
                break;
            }
            let end = self
                .samples
                .get(index + 1)
                .map_or(to, |(next, _)| (*next).min(to));
            let begin = (*sampled).max(from);
            if begin < end {
                segments.push(Segment {
                    from: begin,
                    to: end,
                    level: *level,
                });
            }
        }
        segments
    }

    /// Drops the samples no accepted event can need again: every one before the last sample
    /// at or before `cutoff` (that one still sets the level after the cutoff). True if any
    /// sample was dropped.
    pub fn forget_before(&mut self, cutoff: Timestamp) -> bool {
        let at_or_before = self
            .samples
            .partition_point(|(sampled, _)| *sampled <= cutoff);
        let drop = at_or_before.saturating_sub(1);
        self.samples.drain(..drop);
        drop > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hour: i64) -> Timestamp {
        Timestamp::from_millis(hour * 3_600_000)
    }

    fn level(value: i64) -> Decimal {
        Decimal::from(value)
    }

    #[test]
    fn a_late_sample_changes_the_level_until_the_next_sample() {
        let mut series = GaugeSeries::default();
        assert_eq!(
            series.insert(at(0), level(10), at(10)),
            Some(Segment {
                from: at(0),
                to: at(10),
                level: level(10)
            })
        );
        assert_eq!(
            series.insert(at(6), level(4), at(10)),
            Some(Segment {
                from: at(6),
                to: at(10),
                level: level(-6)
            })
        );
        // GIVEN samples at 0 h (10) and 6 h (4), WHEN a late sample of 7 lands at 3 h
        let change = series.insert(at(3), level(7), at(10));
        // THEN only 3 h..6 h changes, by 7 - 10
        assert_eq!(
            change,
            Some(Segment {
                from: at(3),
                to: at(6),
                level: level(-3)
            })
        );
    }

    #[test]
    fn ties_keep_the_larger_value_whatever_the_order() {
        let mut series = GaugeSeries::default();
        series.insert(at(1), level(5), at(4));
        assert_eq!(series.insert(at(1), level(3), at(4)), None);
        assert_eq!(
            series
                .insert(at(1), level(8), at(4))
                .map(|segment| segment.level),
            Some(level(3))
        );
        assert_eq!(series.samples(), &[(at(1), level(8))]);
    }

    #[test]
    fn samples_at_or_past_the_horizon_change_nothing_yet() {
        let mut series = GaugeSeries::default();
        assert_eq!(series.insert(at(5), level(1), at(5)), None);
        assert_eq!(
            series.segments(at(5), at(7)),
            vec![Segment {
                from: at(5),
                to: at(7),
                level: level(1)
            }]
        );
    }

    #[test]
    fn segments_are_clipped_and_forgetting_keeps_the_carried_level() {
        let mut series = GaugeSeries::default();
        for (hour, value) in [(0, 1), (2, 2), (4, 3)] {
            series.insert(at(hour), level(value), at(0));
        }
        assert_eq!(
            series.segments(at(1), at(5)),
            vec![
                Segment {
                    from: at(1),
                    to: at(2),
                    level: level(1)
                },
                Segment {
                    from: at(2),
                    to: at(4),
                    level: level(2)
                },
                Segment {
                    from: at(4),
                    to: at(5),
                    level: level(3)
                },
            ]
        );
        assert!(series.forget_before(at(3)));
        assert_eq!(series.samples(), &[(at(2), level(2)), (at(4), level(3))]);
        assert!(!series.forget_before(at(3)));
    }
}
