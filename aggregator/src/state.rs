//! The core's durable state, as a snapshot to restore from and as the changes one batch makes.
//! A store persists the changes together with the batch's rollup deltas, atomically.

use tally_schemas::Timestamp;

use crate::dedup::DedupKey;
use crate::gauge::{GaugeSeries, SeriesKey};
use crate::rollup::RollupKey;

/// Everything the core remembers between batches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateSnapshot {
    /// The latest processing time seen; gauges are integrated up to it.
    pub horizon: Option<Timestamp>,
    /// Remembered identities with the day each is remembered from.
    pub dedup: Vec<(Timestamp, DedupKey)>,
    /// Distinct values per open window of unique-count meters.
    pub distinct: Vec<(RollupKey, String)>,
    /// The samples of every gauge series.
    pub gauges: Vec<(SeriesKey, GaugeSeries)>,
}

/// What one batch changed in the state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateChanges {
    /// The new horizon.
    pub horizon: Timestamp,
    /// State for event times before this instant is no longer needed and may be deleted:
    /// dedup days ending at or before it and distinct windows ending at or before it.
    pub forget_before: Timestamp,
    /// Identities remembered by this batch, with the day each is remembered from (the later
    /// of event time and processing time).
    pub dedup_added: Vec<(Timestamp, DedupKey)>,
    /// Distinct values first seen by this batch.
    pub distinct_added: Vec<(RollupKey, String)>,
    /// Every gauge series this batch changed, whole.
    pub gauges: Vec<(SeriesKey, GaugeSeries)>,
}

impl StateSnapshot {
    /// Applies one batch's changes, as a store does: the result equals the aggregator's own
    /// snapshot after that batch (sorted the same way).
    pub fn apply(&mut self, changes: &StateChanges) {
        self.horizon = Some(changes.horizon);
        let cutoff = changes.forget_before;
        self.dedup.extend_from_slice(&changes.dedup_added);
        self.dedup
            .retain(|(day, _)| day.plus_millis(tally_schemas::time::MILLIS_PER_DAY) > cutoff);
        self.dedup.sort_unstable();
        self.distinct.extend(changes.distinct_added.iter().cloned());
        self.distinct.retain(|(key, _)| key.window_end() > cutoff);
        self.distinct.sort_unstable();
        for (key, series) in &changes.gauges {
            match self.gauges.binary_search_by(|(held, _)| held.cmp(key)) {
                Ok(position) => self.gauges[position].1 = series.clone(),
                Err(position) => self.gauges.insert(position, (key.clone(), series.clone())),
            }
        }
    }
}
