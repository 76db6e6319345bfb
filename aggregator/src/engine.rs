//! The streaming aggregator: at-least-once deliveries in, exactly-once rollup deltas out.
//!
//! `process` takes a batch and an explicit `now`; it refuses events outside the acceptance
//! window, drops redeliveries, and turns the rest into rollup deltas and state changes that a
//! store commits atomically. Nothing here reads a clock, a file or the network.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rust_decimal::Decimal;
use tally_schemas::time::{MILLIS_PER_DAY, MILLIS_PER_MINUTE};
use tally_schemas::{
    Aggregation, Meter, MeterCatalog, RejectReason, Rejection, TenantId, Timestamp, UsageEvent,
};

use crate::config::AggregatorConfig;
use crate::dedup::{DedupHasher, DedupMemory, Origin};
use crate::distinct::DistinctSets;
use crate::gauge::{GaugeSeries, Segment, SeriesKey};
use crate::rollup::{RollupDelta, RollupKey};
use crate::state::{StateChanges, StateSnapshot};
use crate::window::{Granularity, for_each_overlap};

/// One delivery of an event: the parsed event and where it came from.
#[derive(Clone, Debug)]
pub struct Delivery<'a> {
    /// The event, already valid against the contract.
    pub event: UsageEvent,
    /// Its stream and position, which identify events without an id.
    pub origin: Origin<'a>,
}

/// An event counted by this batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// Its position in the batch.
    pub index: usize,
    /// The event.
    pub event: UsageEvent,
    /// Whether it arrived after its UTC day ended plus the late grace.
    pub late: bool,
}

/// An event refused by this batch for a time-dependent reason (`too_old`, `in_future`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// Its position in the batch.
    pub index: usize,
    /// Why.
    pub rejection: Rejection,
}

/// What one batch produced.
#[derive(Clone, Debug, Default)]
pub struct BatchOutput {
    /// The events counted, in batch order.
    pub accepted: Vec<Accepted>,
    /// The events refused, in batch order.
    pub refused: Vec<Refused>,
    /// Positions in the batch of the deliveries dropped as already counted.
    pub duplicates: Vec<usize>,
    /// The change to every rollup the batch touched.
    pub rollups: BTreeMap<RollupKey, RollupDelta>,
    /// The state changes to commit with the rollups.
    pub changes: StateChanges,
}

/// The streaming core. Its memory is bounded by the acceptance window: identities, distinct
/// values and gauge samples older than it are forgotten.
pub struct Aggregator {
    config: AggregatorConfig,
    catalog: MeterCatalog,
    hasher: DedupHasher,
    horizon: Option<Timestamp>,
    dedup: DedupMemory,
    distinct: DistinctSets,
    gauges: BTreeMap<SeriesKey, GaugeSeries>,
}

impl Aggregator {
    /// An aggregator with no history.
    pub fn new(config: AggregatorConfig, catalog: MeterCatalog) -> Aggregator {
        Aggregator::restore(config, catalog, StateSnapshot::default())
    }

    /// An aggregator that resumes from a snapshot of committed state.
    pub fn restore(
        config: AggregatorConfig,
        catalog: MeterCatalog,
        snapshot: StateSnapshot,
    ) -> Aggregator {
        let mut dedup = DedupMemory::default();
        for (day, key) in snapshot.dedup {
            dedup.insert(day, key);
        }
        let mut distinct = DistinctSets::default();
        for (key, value) in &snapshot.distinct {
            distinct.insert(key, value);
        }
        Aggregator {
            hasher: DedupHasher::new(config.dedup_key),
            config,
            catalog,
            horizon: snapshot.horizon,
            dedup,
            distinct,
            gauges: snapshot.gauges.into_iter().collect(),
        }
    }

    /// The meters this aggregator counts.
    pub fn catalog(&self) -> &MeterCatalog {
        &self.catalog
    }

    /// The settings.
    pub fn config(&self) -> &AggregatorConfig {
        &self.config
    }

    /// A snapshot of the whole state, equal to what restoring from committed changes gives.
    pub fn snapshot(&self) -> StateSnapshot {
        let mut dedup = Vec::new();
        self.dedup.for_each(|day, key| dedup.push((day, key)));
        dedup.sort_unstable();
        let mut distinct: Vec<(RollupKey, String)> = self
            .distinct
            .iter()
            .map(|(key, value)| (key.clone(), value.to_owned()))
            .collect();
        distinct.sort_unstable();
        StateSnapshot {
            horizon: self.horizon,
            dedup,
            distinct,
            gauges: self
                .gauges
                .iter()
                .map(|(key, series)| (key.clone(), series.clone()))
                .collect(),
        }
    }

    /// Remembered identities and the heap bytes they hold.
    pub fn dedup_footprint(&self) -> (usize, usize) {
        (self.dedup.len(), self.dedup.heap_bytes())
    }

    /// Processes one batch at processing time `now`.
    pub fn process(&mut self, now: Timestamp, deliveries: Vec<Delivery<'_>>) -> BatchOutput {
        let mut batch = Batch::default();
        let horizon = self.horizon.map_or(now, |previous| previous.max(now));
        let cutoff = horizon.plus_millis(-self.config.max_event_age_millis);
        self.advance_horizon(horizon, &mut batch);
        self.forget_before(cutoff, &mut batch);
        let latest_allowed = now.plus_millis(self.config.max_future_millis);
        for (index, delivery) in deliveries.into_iter().enumerate() {
            let event_time = delivery.event.event_time;
            if let Some(rejection) = self.time_rejection(event_time, cutoff, latest_allowed, now) {
                batch.output.refused.push(Refused { index, rejection });
                continue;
            }
            let key = self.hasher.key(&delivery.event, delivery.origin);
            // Remembered from the later of event and processing time, so an id re-sent with a
            // fresh timestamp is still recognised for a whole acceptance window.
            let basis = event_time.max(now);
            if !self.dedup.insert(basis, key) {
                batch.output.duplicates.push(index);
                continue;
            }
            batch
                .output
                .changes
                .dedup_added
                .push((basis.floor_day(), key));
            let meter = self
                .catalog
                .get(&delivery.event.metric)
                .expect("events are parsed against this aggregator's catalog");
            let mut state = MeterState {
                distinct: &mut self.distinct,
                gauges: &mut self.gauges,
            };
            state.aggregate(&delivery.event, meter, horizon, &mut batch);
            let day_end = event_time.floor_day().plus_millis(MILLIS_PER_DAY);
            let late = now >= day_end.plus_millis(self.config.late_grace_millis);
            batch.output.accepted.push(Accepted {
                index,
                event: delivery.event,
                late,
            });
        }
        self.finish(horizon, cutoff, batch)
    }

    fn time_rejection(
        &self,
        event_time: Timestamp,
        cutoff: Timestamp,
        latest_allowed: Timestamp,
        now: Timestamp,
    ) -> Option<Rejection> {
        if event_time < cutoff {
            let days = self.config.max_event_age_millis / MILLIS_PER_DAY;
            return Some(Rejection::new(
                RejectReason::TooOld,
                format!(
                    "event time {event_time} is more than {days} days before processing time {now}"
                ),
            ));
        }
        if event_time > latest_allowed {
            return Some(Rejection::new(
                RejectReason::InFuture,
                format!(
                    "event time {event_time} is more than {} minutes after processing time {now}",
                    self.config.max_future_millis / MILLIS_PER_MINUTE
                ),
            ));
        }
        None
    }

    /// Integrates every series from the previous horizon to the new one.
    fn advance_horizon(&mut self, horizon: Timestamp, batch: &mut Batch) {
        let previous = self.horizon.replace(horizon);
        let Some(previous) = previous.filter(|previous| *previous < horizon) else {
            return;
        };
        for (key, series) in &self.gauges {
            for segment in series.segments(previous, horizon) {
                batch.integrate(key, segment);
            }
        }
    }

    fn forget_before(&mut self, cutoff: Timestamp, batch: &mut Batch) {
        self.dedup.forget_before(cutoff);
        self.distinct.forget_before(cutoff);
        for (key, series) in &mut self.gauges {
            if series.forget_before(cutoff) {
                batch.changed_series.insert(key.clone());
            }
        }
    }

    fn finish(&self, horizon: Timestamp, cutoff: Timestamp, mut batch: Batch) -> BatchOutput {
        batch.output.rollups = batch.rollups.into_sorted();
        let changes = &mut batch.output.changes;
        changes.horizon = horizon;
        changes.forget_before = cutoff;
        changes.gauges = batch
            .changed_series
            .into_iter()
            .map(|key| {
                let series = self.gauges[&key].clone();
                (key, series)
            })
            .collect();
        batch.output
    }
}

fn rollup_key(event: &UsageEvent, granularity: Granularity, window_start: Timestamp) -> RollupKey {
    RollupKey {
        tenant_id: event.tenant_id.clone(),
        metric: event.metric.clone(),
        granularity,
        window_start,
    }
}

/// The state an event's aggregation may change, borrowed apart from the catalog.
struct MeterState<'a> {
    distinct: &'a mut DistinctSets,
    gauges: &'a mut BTreeMap<SeriesKey, GaugeSeries>,
}

impl MeterState<'_> {
    fn aggregate(
        &mut self,
        event: &UsageEvent,
        meter: &Meter,
        horizon: Timestamp,
        batch: &mut Batch,
    ) {
        let series = batch.rollups.series(&event.tenant_id, &event.metric);
        let value = event.value;
        for granularity in Granularity::ALL {
            let window_start = granularity.window_start(event.event_time);
            let mut delta = RollupDelta {
                events: 1,
                ..RollupDelta::default()
            };
            match meter.aggregation {
                Aggregation::Sum => delta.add = value,
                Aggregation::Count => delta.add = Decimal::ONE,
                Aggregation::Max => delta.max = Some(value),
                Aggregation::Latest => delta.latest = Some((event.event_time, value)),
                Aggregation::UniqueCount => {
                    let dimension = meter
                        .dimension
                        .as_deref()
                        .expect("unique counts name a dimension");
                    let counted = &event.dimensions[dimension];
                    let key = rollup_key(event, granularity, window_start);
                    if self.distinct.insert(&key, counted) {
                        delta.add = Decimal::ONE;
                        batch
                            .output
                            .changes
                            .distinct_added
                            .push((key, counted.clone()));
                    }
                }
                Aggregation::Gauge => {}
            }
            batch.rollups.add(series, granularity, window_start, &delta);
        }
        if meter.aggregation == Aggregation::Gauge {
            let series_key = SeriesKey {
                tenant_id: event.tenant_id.clone(),
                metric: event.metric.clone(),
            };
            let samples = self.gauges.entry(series_key.clone()).or_default();
            if let Some(segment) = samples.insert(event.event_time, value, horizon) {
                batch.integrate(&series_key, segment);
            }
            batch.changed_series.insert(series_key);
        }
    }
}

/// The rollup deltas of one batch, keyed without allocating on the hot path: a number per
/// (tenant, metric) series, found by borrowed lookups, then (granularity, window start).
#[derive(Default)]
struct BatchRollups {
    series_by_tenant: HashMap<String, HashMap<String, usize>>,
    series: Vec<(TenantId, String)>,
    windows: Vec<HashMap<(Granularity, Timestamp), RollupDelta>>,
}

impl BatchRollups {
    /// The number of the (tenant, metric) series, allocating only the first time it is seen.
    fn series(&mut self, tenant_id: &TenantId, metric: &str) -> usize {
        let known = self
            .series_by_tenant
            .get(tenant_id.as_str())
            .and_then(|metrics| metrics.get(metric));
        if let Some(number) = known {
            return *number;
        }
        let number = self.series.len();
        self.series.push((tenant_id.clone(), metric.to_owned()));
        self.windows.push(HashMap::new());
        self.series_by_tenant
            .entry(tenant_id.as_str().to_owned())
            .or_default()
            .insert(metric.to_owned(), number);
        number
    }

    fn add(
        &mut self,
        series: usize,
        granularity: Granularity,
        window_start: Timestamp,
        delta: &RollupDelta,
    ) {
        self.windows[series]
            .entry((granularity, window_start))
            .or_default()
            .merge(delta);
    }

    /// The deltas keyed and sorted as [`BatchOutput::rollups`] promises.
    fn into_sorted(self) -> BTreeMap<RollupKey, RollupDelta> {
        let mut sorted = BTreeMap::new();
        for ((tenant_id, metric), windows) in self.series.into_iter().zip(self.windows) {
            for ((granularity, window_start), delta) in windows {
                let key = RollupKey {
                    tenant_id: tenant_id.clone(),
                    metric: metric.clone(),
                    granularity,
                    window_start,
                };
                sorted.insert(key, delta);
            }
        }
        sorted
    }
}

/// The output being built, and the gauge series touched.
#[derive(Default)]
struct Batch {
    output: BatchOutput,
    rollups: BatchRollups,
    changed_series: BTreeSet<SeriesKey>,
}

impl Batch {
    /// Adds `segment.level` × overlap to every window the segment overlaps, at every
    /// granularity. Zero changes still create the rollup, so a window the level covers always
    /// has a row.
    fn integrate(&mut self, series: &SeriesKey, segment: Segment) {
        let number = self.rollups.series(&series.tenant_id, &series.metric);
        for granularity in Granularity::ALL {
            for_each_overlap(
                granularity,
                segment.from,
                segment.to,
                |window_start, overlap_millis| {
                    let delta = RollupDelta {
                        add: segment.level * Decimal::from(overlap_millis),
                        ..RollupDelta::default()
                    };
                    self.rollups.add(number, granularity, window_start, &delta);
                },
            );
        }
    }
}
