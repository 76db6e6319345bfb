//! The events files are the source of truth: [`month_amounts_from_events`] recomputes every
//! (tenant, meter) month amount from them alone, with the core's semantics, and
//! [`compare_with_rollups`] names every month rollup that disagrees with it.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use tally_aggregator::{Granularity, Rollup};
use tally_schemas::{Aggregation, Meter, MeterCatalog, Timestamp};

use crate::parquet::{DecodedEvent, decode_events};
use crate::ports::{Bucket, MeteringStore, RollupFilter};
use crate::{Error, Result};

/// Where every tenant's data starts in the bucket.
const TENANTS_PREFIX: &str = "tenants/";
/// What separates the tenant from the day in an events object's key.
const EVENTS_PARTITION: &str = "/usage/events/dt=";
/// How every events object's name ends.
const PARQUET_SUFFIX: &str = ".parquet";

/// A (tenant, meter) pair: the key of every map here.
pub type SeriesName = (String, String);

/// A gauge sample: its event time and level.
type Sample = (Timestamp, Decimal);

/// One (tenant, meter) month, in the units of `Rollup::amount`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Amount {
    /// The sum, count, maximum, latest value or distinct count; for gauges the integral of the
    /// level in unit-milliseconds.
    pub amount: Decimal,
    /// Events whose event time falls in the month.
    pub events: u64,
}

impl From<&Rollup> for Amount {
    fn from(rollup: &Rollup) -> Amount {
        Amount {
            amount: rollup.amount,
            events: rollup.events,
        }
    }
}

/// A (tenant, meter) whose month rollup disagrees with the events files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The tenant.
    pub tenant_id: String,
    /// The meter.
    pub metric: String,
    /// What the events files give; `None` when they hold nothing for the month.
    pub from_events: Option<Amount>,
    /// What the month rollup holds; `None` when there is no month rollup.
    pub from_rollups: Option<Amount>,
}

/// Month amounts per (tenant, metric) recomputed from the events files alone.
///
/// Sums, counts, maxima, latest values and distinct counts come from the rows of the month's
/// `dt=` partitions. A gauge is integrated over `[month_start, min(month end, horizon))` from
/// its samples in the month and the last sample before it, found in the earlier partitions;
/// `horizon` is the store's latest processing time (`load_state().horizon`), up to which the
/// core integrates levels. A series whose level is carried into the month has an amount even
/// without an event in it, as it has a month rollup.
///
/// Fails when `month_start` is not the first instant of a UTC month, when an object cannot be
/// read or decoded, when a row lies outside its object's tenant and day partition, or when a
/// row of the month names a meter the catalog lacks or lacks its meter's counted dimension.
pub fn month_amounts_from_events<B: Bucket>(
    bucket: &B,
    catalog: &MeterCatalog,
    month_start: Timestamp,
    horizon: Timestamp,
) -> Result<BTreeMap<SeriesName, Amount>> {
    let month_end = month_end(month_start)?;
    let objects: Vec<EventsObject> = bucket
        .list(TENANTS_PREFIX)?
        .iter()
        .filter_map(|key| EventsObject::parse(key))
        .filter(|object| object.day < month_end)
        .collect();
    let (in_month, earlier): (Vec<EventsObject>, Vec<EventsObject>) = objects
        .into_iter()
        .partition(|object| object.day >= month_start);
    let mut month = MonthSeries::default();
    for object in &in_month {
        for row in read_object(bucket, object)? {
            month.gather(catalog, object, row)?;
        }
    }
    let integral_end = horizon.min(month_end);
    let gauges: BTreeSet<&str> = catalog
        .meters()
        .iter()
        .filter(|meter| meter.aggregation == Aggregation::Gauge)
        .map(|meter| meter.name.as_str())
        .collect();
    // Earlier days matter only for a level the core integrates inside this month; skipping
    // them otherwise saves reading the whole history for a month the horizon has not reached.
    let carried = if integral_end > month_start && !gauges.is_empty() {
        carried_levels(bucket, &gauges, &earlier)?
    } else {
        BTreeMap::new()
    };
    month.finish(&carried, month_start, integral_end)
}

/// Every (tenant, metric) whose month rollup (granularity month, window start `month_start`)
/// differs from `truth` in amount or events, or exists on one side only; sorted by tenant,
/// then metric. Amounts compare as numbers: `1.0` equals `1`.
///
/// Fails when `month_start` is not the first instant of a UTC month or the store fails.
pub fn compare_with_rollups<S: MeteringStore>(
    store: &S,
    truth: &BTreeMap<SeriesName, Amount>,
    month_start: Timestamp,
) -> Result<Vec<Difference>> {
    month_end(month_start)?;
    let filter = RollupFilter {
        granularity: Some(Granularity::Month),
        from: Some(month_start),
        // Month windows start only on month starts, so this selects exactly one window.
        to: Some(month_start.plus_millis(1)),
        ..RollupFilter::default()
    };
    let rollups: BTreeMap<SeriesName, Amount> = store
        .rollups(&filter)?
        .into_iter()
        .map(|(key, rollup)| {
            (
                (key.tenant_id.as_str().to_owned(), key.metric),
                Amount::from(&rollup),
            )
        })
        .collect();
    let names: BTreeSet<&SeriesName> = truth.keys().chain(rollups.keys()).collect();
    let differences = names
        .into_iter()
        .filter_map(|name| {
            let from_events = truth.get(name).copied();
            let from_rollups = rollups.get(name).copied();
            (from_events != from_rollups).then(|| Difference {
                tenant_id: name.0.clone(),
                metric: name.1.clone(),
                from_events,
                from_rollups,
            })
        })
        .collect();
    Ok(differences)
}

/// The end of the month starting at `month_start`; refuses any other instant, since a window
/// that is not a calendar month has no rollup to compare with.
fn month_end(month_start: Timestamp) -> Result<Timestamp> {
    if month_start.floor_month() != month_start {
        return Err(Error::Invalid(format!(
            "{month_start} is not the first instant of a UTC month"
        )));
    }
    Ok(month_start.next_month_start())
}

/// An events object, located by its key
/// `tenants/{tenant_id}/usage/events/dt={YYYY-MM-DD}/{name}.parquet`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EventsObject {
    pub(crate) key: String,
    pub(crate) tenant_id: String,
    /// The first instant of the partition's UTC day.
    pub(crate) day: Timestamp,
}

impl EventsObject {
    /// The object `key` names, or `None` for any other key under `tenants/` (invoices, or
    /// anything not laid out as an events partition, which Athena would not read either).
    pub(crate) fn parse(key: &str) -> Option<EventsObject> {
        let (tenant_id, rest) = key
            .strip_prefix(TENANTS_PREFIX)?
            .split_once(EVENTS_PARTITION)?;
        let (date, name) = rest.split_once('/')?;
        let plain_name = name
            .strip_suffix(PARQUET_SUFFIX)
            .is_some_and(|stem| !stem.is_empty() && !stem.contains('/'));
        if tenant_id.is_empty() || tenant_id.contains('/') || !plain_name {
            return None;
        }
        let day = Timestamp::parse(&format!("{date}T00:00:00Z")).ok()?;
        // A date written another way (no leading zeros, say) is not a partition we write.
        (day.date_string() == date).then(|| EventsObject {
            key: key.to_owned(),
            tenant_id: tenant_id.to_owned(),
            day,
        })
    }
}

/// The rows of `object`, each checked to lie in the object's tenant and day: a row outside its
/// partition would count in a different month here than in a query filtered on `dt`.
pub(crate) fn read_object<B: Bucket>(
    bucket: &B,
    object: &EventsObject,
) -> Result<Vec<DecodedEvent>> {
    // An object deleted since the listing is no longer part of the truth; what it held then
    // shows as a difference, which is what it is.
    let Some(bytes) = bucket.get(&object.key)? else {
        return Ok(Vec::new());
    };
    let rows = decode_events(&bytes).map_err(|error| match error {
        Error::Parquet { context, source } => Error::Parquet {
            context: format!("{context} of {}", object.key),
            source,
        },
        other => other,
    })?;
    if let Some(row) = rows
        .iter()
        .find(|row| row.tenant_id != object.tenant_id || row.event_time.floor_day() != object.day)
    {
        return Err(Error::Corrupt(format!(
            "{} holds a row of tenant {} at {}, outside its partition",
            object.key, row.tenant_id, row.event_time
        )));
    }
    Ok(rows)
}

/// The last sample before the month of every gauge series, from the earlier partitions read
/// newest day first. A tenant's walk stops after the first day by which each gauge meter has a
/// sample: every older sample is superseded by it.
fn carried_levels<B: Bucket>(
    bucket: &B,
    gauges: &BTreeSet<&str>,
    earlier: &[EventsObject],
) -> Result<BTreeMap<SeriesName, Sample>> {
    let mut days_by_tenant: BTreeMap<&str, BTreeMap<Timestamp, Vec<&EventsObject>>> =
        BTreeMap::new();
    for object in earlier {
        days_by_tenant
            .entry(&object.tenant_id)
            .or_default()
            .entry(object.day)
            .or_default()
            .push(object);
    }
    let mut carried: BTreeMap<SeriesName, Sample> = BTreeMap::new();
    for days in days_by_tenant.values() {
        let mut found: BTreeSet<String> = BTreeSet::new();
        // A whole day is read before stopping: another object of the same day may hold a later
        // sample, or a larger one at the same instant.
        for objects in days.values().rev() {
            if found.len() == gauges.len() {
                break;
            }
            for object in objects {
                for row in read_object(bucket, object)? {
                    if !gauges.contains(row.metric.as_str()) {
                        continue;
                    }
                    found.insert(row.metric.clone());
                    // The latest time wins, then the larger value, as in the core.
                    let sample = (row.event_time, row.value);
                    let held = carried.entry((row.tenant_id, row.metric)).or_insert(sample);
                    *held = (*held).max(sample);
                }
            }
        }
    }
    Ok(carried)
}

/// What the month's rows of one series add up to so far, by its meter's aggregation.
#[derive(Debug)]
enum Gathered {
    /// Sums and counts: the running total.
    Total(Decimal),
    /// The largest value.
    Max(Option<Decimal>),
    /// The latest (time, value); on a tie the larger value.
    Latest(Option<Sample>),
    /// The distinct values of the counted dimension.
    Distinct(BTreeSet<String>),
    /// A gauge's samples in the month.
    Samples(Vec<Sample>),
}

impl Gathered {
    fn new(aggregation: Aggregation) -> Gathered {
        match aggregation {
            Aggregation::Sum | Aggregation::Count => Gathered::Total(Decimal::ZERO),
            Aggregation::Max => Gathered::Max(None),
            Aggregation::Latest => Gathered::Latest(None),
            Aggregation::UniqueCount => Gathered::Distinct(BTreeSet::new()),
            Aggregation::Gauge => Gathered::Samples(Vec::new()),
        }
    }
}

/// One series of the month: its events and what they gathered.
#[derive(Debug)]
struct Series {
    events: u64,
    gathered: Gathered,
}

/// Every series of the month, built row by row.
#[derive(Debug, Default)]
struct MonthSeries {
    series: BTreeMap<SeriesName, Series>,
}

impl MonthSeries {
    /// Adds one row of the month, read from `object`.
    fn gather(
        &mut self,
        catalog: &MeterCatalog,
        object: &EventsObject,
        row: DecodedEvent,
    ) -> Result<()> {
        let meter = catalog.get(&row.metric).ok_or_else(|| {
            Error::Invalid(format!(
                "{} holds events of meter {:?}, which the meter catalog does not define; \
                 reconcile with the meters the data was written with",
                object.key, row.metric
            ))
        })?;
        let counted = counted_value(meter, object, &row)?;
        let DecodedEvent {
            tenant_id,
            metric,
            value,
            event_time,
            ..
        } = row;
        let series = self
            .series
            .entry((tenant_id, metric))
            .or_insert_with(|| Series {
                events: 0,
                gathered: Gathered::new(meter.aggregation),
            });
        series.events += 1;
        match &mut series.gathered {
            Gathered::Total(total) if meter.aggregation == Aggregation::Count => {
                *total += Decimal::ONE;
            }
            Gathered::Total(total) => *total += value,
            Gathered::Max(max) => *max = Some(max.map_or(value, |held| held.max(value))),
            Gathered::Latest(latest) => {
                let sample = (event_time, value);
                *latest = Some(latest.map_or(sample, |held| held.max(sample)));
            }
            Gathered::Distinct(values) => {
                values.extend(counted);
            }
            Gathered::Samples(samples) => samples.push((event_time, value)),
        }
        Ok(())
    }

    /// The amounts: each gauge with its carried level, integrated over
    /// `[month_start, integral_end)`.
    fn finish(
        mut self,
        carried: &BTreeMap<SeriesName, Sample>,
        month_start: Timestamp,
        integral_end: Timestamp,
    ) -> Result<BTreeMap<SeriesName, Amount>> {
        // The core integrates a carried level into the month's window, creating its row, even
        // when no sample falls in the month.
        for name in carried.keys() {
            self.series.entry(name.clone()).or_insert_with(|| Series {
                events: 0,
                gathered: Gathered::Samples(Vec::new()),
            });
        }
        self.series
            .into_iter()
            .map(|(name, series)| {
                let amount = match series.gathered {
                    Gathered::Total(total) => total,
                    Gathered::Max(max) => max.unwrap_or_default(),
                    Gathered::Latest(latest) => latest.map_or(Decimal::ZERO, |(_, value)| value),
                    Gathered::Distinct(values) => Decimal::from(values.len()),
                    Gathered::Samples(mut samples) => {
                        samples.extend(carried.get(&name).copied());
                        gauge_integral(samples, month_start, integral_end, &name)?
                    }
                };
                let events = series.events;
                Ok((name, Amount { amount, events }))
            })
            .collect()
    }
}

/// For unique-count meters, the value of the counted dimension (which every accepted event
/// carries); `None` for other meters.
fn counted_value(
    meter: &Meter,
    object: &EventsObject,
    row: &DecodedEvent,
) -> Result<Option<String>> {
    if meter.aggregation != Aggregation::UniqueCount {
        return Ok(None);
    }
    let dimension = meter
        .dimension
        .as_deref()
        .expect("the catalog gives every unique-count meter a dimension");
    match row.dimensions.get(dimension) {
        Some(value) => Ok(Some(value.clone())),
        None => Err(Error::Corrupt(format!(
            "{} holds a {} event at {} without its counted dimension {dimension:?}",
            object.key, meter.name, row.event_time
        ))),
    }
}

/// The integral of a gauge's level over `[from, to)`, in unit-milliseconds. The level at an
/// instant is the latest sample at or before it (the larger value on a tie); before the first
/// sample there is none.
fn gauge_integral(
    mut samples: Vec<Sample>,
    from: Timestamp,
    to: Timestamp,
    name: &SeriesName,
) -> Result<Decimal> {
    samples.sort_unstable();
    // Sorted by time then value, the last sample of an instant is its largest: keep that one.
    samples.dedup_by(|later, kept| {
        let same_instant = later.0 == kept.0;
        if same_instant {
            *kept = *later;
        }
        same_instant
    });
    let overflow = || {
        Error::Invalid(format!(
            "the {} integral of tenant {} overflows a decimal",
            name.1, name.0
        ))
    };
    let mut integral = Decimal::ZERO;
    for (index, (time, level)) in samples.iter().enumerate() {
        let start = (*time).max(from);
        let end = samples
            .get(index + 1)
            .map_or(to, |(next, _)| (*next).min(to));
        if start < end {
            let millis = Decimal::from(end.as_millis() - start.as_millis());
            let part = level.checked_mul(millis).ok_or_else(overflow)?;
            integral = integral.checked_add(part).ok_or_else(overflow)?;
        }
    }
    Ok(integral)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn name() -> SeriesName {
        ("t1".to_owned(), "storage_gb".to_owned())
    }

    #[test]
    fn given_bucket_keys_when_parsed_then_only_events_objects_are_kept() {
        let object = EventsObject::parse("tenants/t-1/usage/events/dt=2026-10-03/part-1.parquet");
        assert_eq!(
            object,
            Some(EventsObject {
                key: "tenants/t-1/usage/events/dt=2026-10-03/part-1.parquet".to_owned(),
                tenant_id: "t-1".to_owned(),
                day: at("2026-10-03T00:00:00Z"),
            })
        );
        for other in [
            "tenants/t-1/invoices/2026-10/invoice.json",
            "tenants/t-1/usage/events/dt=2026-10-03/part-1.ndjson",
            "tenants/t-1/usage/events/dt=2026-10-03/.parquet",
            "tenants/t-1/usage/events/dt=2026-10-03/nested/part-1.parquet",
            "tenants/t-1/usage/events/dt=2026-10-3/part-1.parquet",
            "tenants/t-1/usage/events/dt=2026-13-01/part-1.parquet",
            "tenants//usage/events/dt=2026-10-03/part-1.parquet",
            "tenants/a/b/usage/events/dt=2026-10-03/part-1.parquet",
            "quarantine/dt=2026-10-03/part-1.ndjson",
        ] {
            assert_eq!(EventsObject::parse(other), None, "{other}");
        }
    }

    #[test]
    fn given_samples_around_a_window_when_integrated_then_ties_keep_the_larger_and_ends_clip() {
        // GIVEN 10 from 22:00 the day before, a tie of 3 and 4 at 06:00, and 100 after the end
        let samples = vec![
            (at("2026-09-30T22:00:00Z"), Decimal::from(10)),
            (at("2026-10-01T06:00:00Z"), Decimal::from(4)),
            (at("2026-10-01T06:00:00Z"), Decimal::from(3)),
            (at("2026-10-01T12:00:00Z"), Decimal::from(100)),
        ];
        // WHEN integrated over 00:00..12:00
        let integral = gauge_integral(
            samples,
            at("2026-10-01T00:00:00Z"),
            at("2026-10-01T12:00:00Z"),
            &name(),
        )
        .unwrap();
        // THEN 10 holds for 6 hours and 4 for 6 hours: 84 unit-hours.
        assert_eq!(integral, Decimal::from(84 * 3_600_000));
    }

    #[test]
    fn given_a_first_sample_inside_the_window_then_nothing_counts_before_it() {
        let samples = vec![(at("2026-10-01T23:00:00Z"), Decimal::new(15, 1))];
        let integral = gauge_integral(
            samples,
            at("2026-10-01T00:00:00Z"),
            at("2026-10-02T00:00:00Z"),
            &name(),
        )
        .unwrap();
        assert_eq!(integral, Decimal::new(15, 1) * Decimal::from(3_600_000));
    }

    #[test]
    fn given_an_instant_inside_a_month_then_it_is_refused_as_a_month_start() {
        assert!(month_end(at("2026-10-02T00:00:00Z")).is_err());
        assert_eq!(
            month_end(at("2026-02-01T00:00:00Z")).unwrap(),
            at("2026-03-01T00:00:00Z")
        );
    }
}
