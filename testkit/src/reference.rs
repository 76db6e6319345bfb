//! The naive reference: runs of raw lines in, accepted events, refusals and rollups out.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, Months, TimeDelta, Timelike, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use tally_schemas::{Aggregation, Identity, MeterCatalog, Timestamp, UsageEvent, parse_event};

/// One ingest run: its processing time and the lines it reads, numbered from 1 as positions of
/// `source`.
#[derive(Clone, Debug)]
pub struct ReferenceRun {
    /// Processing time of the run.
    pub now: Timestamp,
    /// The stream the lines come from (a file name).
    pub source: String,
    /// The raw lines.
    pub lines: Vec<String>,
}

/// One expected rollup: `(tenant, metric, granularity, window start in ms)` → value and events.
pub type RollupRow = ((String, String, &'static str, i64), (Decimal, u64));

/// What the pipeline must produce for a sequence of runs.
#[derive(Clone, Debug, Default)]
pub struct ReferenceOutcome {
    /// Accepted events in arrival order, each with the processing time that accepted it.
    pub accepted: Vec<(UsageEvent, Timestamp)>,
    /// Refused lines by reason name.
    pub rejected: BTreeMap<String, usize>,
    /// Deliveries dropped as already counted.
    pub duplicates: usize,
    /// Every rollup, keyed by tenant, metric, granularity name and window start (ms).
    pub rollups: BTreeMap<(String, String, &'static str, i64), (Decimal, u64)>,
}

/// Computes the expected outcome of `runs` with an acceptance window of `max_age_millis` back
/// and `max_future_millis` ahead.
pub fn reference(
    runs: &[ReferenceRun],
    catalog: &MeterCatalog,
    max_age_millis: i64,
    max_future_millis: i64,
) -> ReferenceOutcome {
    let mut outcome = ReferenceOutcome::default();
    // Identity → the start of the day it is remembered from: the later of the event time and
    // the processing time that accepted it. It is forgotten once that day leaves the window.
    let mut seen: HashMap<String, i64> = HashMap::new();
    let mut horizon = i64::MIN;
    for run in runs {
        horizon = horizon.max(run.now.as_millis());
        for (line_index, line) in run.lines.iter().enumerate() {
            let event = match parse_event(line.as_bytes(), catalog) {
                Ok(event) => event,
                Err(rejection) => {
                    *outcome
                        .rejected
                        .entry(rejection.reason.as_str().to_owned())
                        .or_default() += 1;
                    continue;
                }
            };
            let time = event.event_time.as_millis();
            let reason = if time < horizon - max_age_millis {
                Some("too_old")
            } else if time > run.now.as_millis() + max_future_millis {
                Some("in_future")
            } else {
                None
            };
            if let Some(reason) = reason {
                *outcome.rejected.entry(reason.to_owned()).or_default() += 1;
                continue;
            }
            let identity = match &event.identity {
                Identity::EventId(id) => format!("{}|id|{id}", event.tenant_id),
                Identity::CloudEvent { source, id } => {
                    format!("{}|ce|{source}|{id}", event.tenant_id)
                }
                Identity::Position => {
                    format!("{}|pos|{}|{}", event.tenant_id, run.source, line_index + 1)
                }
            };
            let cutoff = horizon - max_age_millis;
            if seen
                .get(&identity)
                .is_some_and(|day| day + DAY_MILLIS > cutoff)
            {
                outcome.duplicates += 1;
                continue;
            }
            let basis = time.max(run.now.as_millis());
            seen.insert(identity, basis - basis.rem_euclid(DAY_MILLIS));
            outcome.accepted.push((event, run.now));
        }
    }
    outcome.rollups = rollups(&outcome.accepted, catalog, horizon);
    outcome
}

const DAY_MILLIS: i64 = 86_400_000;

const GRANULARITIES: [&str; 3] = ["hour", "day", "month"];

fn utc(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).expect("in chrono's range")
}

fn window(granularity: &str, millis: i64) -> (i64, i64) {
    let instant = utc(millis);
    let hour = instant
        .with_nanosecond(0)
        .unwrap()
        .with_second(0)
        .unwrap()
        .with_minute(0)
        .unwrap();
    let (start, end) = match granularity {
        "hour" => (hour, hour + TimeDelta::hours(1)),
        "day" => {
            let day = hour.with_hour(0).unwrap();
            (day, day + TimeDelta::days(1))
        }
        _ => {
            let month = hour.with_hour(0).unwrap().with_day(1).unwrap();
            (month, month.checked_add_months(Months::new(1)).unwrap())
        }
    };
    (start.timestamp_millis(), end.timestamp_millis())
}

fn rollups(
    accepted: &[(UsageEvent, Timestamp)],
    catalog: &MeterCatalog,
    horizon: i64,
) -> BTreeMap<(String, String, &'static str, i64), (Decimal, u64)> {
    let mut series: BTreeMap<(String, String), Vec<&UsageEvent>> = BTreeMap::new();
    for (event, _) in accepted {
        series
            .entry((event.tenant_id.to_string(), event.metric.clone()))
            .or_default()
            .push(event);
    }
    let mut rows = BTreeMap::new();
    for ((tenant, metric), events) in series {
        let meter = catalog
            .get(&metric)
            .expect("accepted events name catalog meters");
        for granularity in GRANULARITIES {
            let mut windows: BTreeMap<i64, Vec<&UsageEvent>> = BTreeMap::new();
            for event in &events {
                let (start, _) = window(granularity, event.event_time.as_millis());
                windows.entry(start).or_default().push(event);
            }
            if meter.aggregation == Aggregation::Gauge {
                for start in gauge_windows(granularity, &events, horizon) {
                    windows.entry(start).or_default();
                }
            }
            for (start, inside) in windows {
                let value = match meter.aggregation {
                    Aggregation::Sum => inside.iter().map(|event| event.value).sum(),
                    Aggregation::Count => Decimal::from(inside.len()),
                    Aggregation::Max => inside
                        .iter()
                        .map(|event| event.value)
                        .max()
                        .unwrap_or_default(),
                    Aggregation::Latest => {
                        inside
                            .iter()
                            .map(|event| (event.event_time, event.value))
                            .max()
                            .unwrap()
                            .1
                    }
                    Aggregation::UniqueCount => {
                        let dimension = meter.dimension.as_deref().unwrap();
                        let distinct: BTreeSet<&str> = inside
                            .iter()
                            .map(|event| event.dimensions[dimension].as_str())
                            .collect();
                        Decimal::from(distinct.len())
                    }
                    Aggregation::Gauge => {
                        let (_, end) = window(granularity, start);
                        gauge_hours(&events, start, end, horizon)
                    }
                };
                rows.insert(
                    (tenant.clone(), metric.clone(), granularity, start),
                    (value.normalize(), inside.len() as u64),
                );
            }
        }
    }
    rows
}

/// The windows that intersect `[first sample, horizon)`.
fn gauge_windows(granularity: &str, events: &[&UsageEvent], horizon: i64) -> Vec<i64> {
    let first = events
        .iter()
        .map(|event| event.event_time.as_millis())
        .min()
        .unwrap();
    let mut starts = Vec::new();
    let mut cursor = first;
    while cursor < horizon {
        let (start, end) = window(granularity, cursor);
        starts.push(start);
        cursor = end;
    }
    starts
}

/// The integral of the level over `[start, end)`, cut at the horizon, in unit-hours rounded
/// half-to-even to 9 digits.
fn gauge_hours(events: &[&UsageEvent], start: i64, end: i64, horizon: i64) -> Decimal {
    let mut levels: BTreeMap<i64, Decimal> = BTreeMap::new();
    for event in events {
        let level = levels
            .entry(event.event_time.as_millis())
            .or_insert(event.value);
        *level = (*level).max(event.value);
    }
    let samples: Vec<(i64, Decimal)> = levels.into_iter().collect();
    let mut integral = Decimal::ZERO;
    for (index, (time, level)) in samples.iter().enumerate() {
        let until = samples
            .get(index + 1)
            .map_or(horizon, |(next, _)| *next)
            .min(horizon);
        let from = (*time).max(start);
        let to = until.min(end);
        if from < to {
            integral += *level * Decimal::from(to - from);
        }
    }
    (integral / Decimal::from(3_600_000))
        .round_dp_with_strategy(9, RoundingStrategy::MidpointNearestEven)
        .normalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn a_hand_worked_gauge_and_sum() {
        // storage at 10 GB from 00:00, 4 GB from 06:00; horizon 12:00 → day = 60 + 24 GB-hours.
        let lines = [
            r#"{"tenant_id":"t","metric":"storage_gb","value":10,"timestamp":"2026-11-01T00:00:00Z","event_id":"s1"}"#,
            r#"{"tenant_id":"t","metric":"storage_gb","value":4,"timestamp":"2026-11-01T06:00:00Z","event_id":"s2"}"#,
            r#"{"tenant_id":"t","metric":"api_calls","value":2,"timestamp":"2026-11-01T01:00:00Z","event_id":"a"}"#,
            r#"{"tenant_id":"t","metric":"api_calls","value":2,"timestamp":"2026-11-01T01:00:00Z","event_id":"a"}"#,
        ];
        let run = ReferenceRun {
            now: at("2026-11-01T12:00:00Z"),
            source: "f".into(),
            lines: lines.iter().map(|line| line.to_string()).collect(),
        };
        let outcome = reference(&[run], &MeterCatalog::defaults(), 35 * 86_400_000, 300_000);
        let day = at("2026-11-01T00:00:00Z").as_millis();
        let storage = outcome.rollups[&("t".into(), "storage_gb".into(), "day", day)];
        assert_eq!(storage, (Decimal::from(84), 2));
        let calls = outcome.rollups[&("t".into(), "api_calls".into(), "month", day)];
        assert_eq!(calls, (Decimal::from(2), 1));
        assert_eq!(outcome.duplicates, 1);
        let hour_seven = at("2026-11-01T07:00:00Z").as_millis();
        assert_eq!(
            outcome.rollups[&("t".into(), "storage_gb".into(), "hour", hour_seven)],
            (Decimal::from(4), 0)
        );
    }
}
