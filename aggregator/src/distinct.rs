//! Exact distinct counts: the set of values seen per window, so a month counts each user once
//! however many hours and days they were active.

use std::collections::{HashMap, HashSet};

use tally_schemas::Timestamp;

use crate::rollup::RollupKey;

/// The distinct values seen in each open window of each unique-count meter.
#[derive(Debug, Default)]
pub struct DistinctSets {
    windows: HashMap<RollupKey, HashSet<String>>,
    /// The cutoff of the last sweep: windows only close at hour boundaries, so a cutoff in the
    /// same hour finds nothing new to forget.
    swept_through: Option<Timestamp>,
}

impl DistinctSets {
    /// Records `value` in the window of `key`; true if it had not been seen there.
    pub fn insert(&mut self, key: &RollupKey, value: &str) -> bool {
        if let Some(set) = self.windows.get_mut(key) {
            if set.contains(value) {
                return false;
            }
            return set.insert(value.to_owned());
        }
        self.windows
            .insert(key.clone(), HashSet::from([value.to_owned()]));
        true
    }

    /// Forgets every window that ends at or before `cutoff`: no accepted event can reach it.
    pub fn forget_before(&mut self, cutoff: Timestamp) {
        if self
            .swept_through
            .is_some_and(|swept| swept.floor_hour() == cutoff.floor_hour() && swept <= cutoff)
        {
            // Every window ends on an hour boundary. Within one hour the only boundary is the
            // hour's start, which is at or before the last sweep's cutoff, so no window ends in
            // (swept, cutoff]: nothing new to forget.
            return;
        }
        self.windows.retain(|key, _| key.window_end() > cutoff);
        self.swept_through = Some(cutoff);
    }

    /// How many (window, value) pairs are held.
    pub fn len(&self) -> usize {
        self.windows.values().map(HashSet::len).sum()
    }

    /// Every (window, value) pair held, for a snapshot of the state.
    pub fn iter(&self) -> impl Iterator<Item = (&RollupKey, &str)> {
        self.windows
            .iter()
            .flat_map(|(key, set)| set.iter().map(move |value| (key, value.as_str())))
    }

    /// Whether no value is held.
    pub fn is_empty(&self) -> bool {
        self.windows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::Granularity;
    use tally_schemas::TenantId;

    #[test]
    fn a_value_counts_once_per_window_and_windows_expire() {
        let key = |granularity, start: &str| RollupKey {
            tenant_id: TenantId::parse("t").unwrap(),
            metric: "active_users".into(),
            granularity,
            window_start: Timestamp::parse(start).unwrap(),
        };
        let mut sets = DistinctSets::default();
        let hour = key(Granularity::Hour, "2026-11-01T10:00:00Z");
        let month = key(Granularity::Month, "2026-11-01T00:00:00Z");
        assert!(sets.insert(&hour, "u1"));
        assert!(!sets.insert(&hour, "u1"));
        assert!(sets.insert(&month, "u1"));
        assert!(sets.insert(&hour, "u2"));
        assert_eq!(sets.len(), 3);
        sets.forget_before(Timestamp::parse("2026-11-01T11:00:00Z").unwrap());
        assert_eq!(
            sets.len(),
            1,
            "the hour ended at the cutoff, the month goes on"
        );
    }
}
