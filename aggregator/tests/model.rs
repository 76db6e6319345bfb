//! The model test: the streaming core, fed random runs in random batches and restarted from its
//! committed state at random points, agrees with the naive reference of tally-testkit.
//!
//! The runs carry duplicates (re-sent ids, redelivered runs), reordering and late, too old and
//! future events, across every aggregation.

use std::collections::BTreeMap;

use proptest::prelude::*;
use tally_aggregator::{
    Aggregator, AggregatorConfig, Delivery, Origin, Rollup, RollupKey, StateSnapshot,
};
use tally_schemas::{MeterCatalog, Timestamp, parse_event};
use tally_testkit::{ReferenceRun, reference};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
const START: i64 = 1_790_000_000_000; // 2026-09-21

fn catalog() -> MeterCatalog {
    MeterCatalog::with_operator_meters(
        r#"
        [[meters]]
        name = "peak_connections"
        aggregation = "max"
        unit = "connections"
        [[meters]]
        name = "plan_seats"
        aggregation = "latest"
        unit = "seats"
        [[meters]]
        name = "deploys"
        aggregation = "count"
        unit = "deploys"
        "#,
        "model",
    )
    .unwrap()
}

const METRICS: [&str; 8] = [
    "api_calls",
    "storage_gb",
    "cpu_hours",
    "memory_gb_hours",
    "active_users",
    "peak_connections",
    "plan_seats",
    "deploys",
];

/// One random event line, with its time relative to its run's `now`.
fn line_strategy() -> impl Strategy<Value = (usize, usize, i64, u8, Option<u8>, u8, bool)> {
    (
        0..2usize,        // tenant
        0..METRICS.len(), // metric
        prop_oneof![4 => -3 * DAY..0i64, 1 => -40 * DAY..-3 * DAY, 1 => 0..10 * 60_000i64],
        0..6u8,                                   // value choice
        proptest::option::weighted(0.8, 0..30u8), // event id from a small pool
        0..4u8,                                   // user
        any::<bool>(),                            // CloudEvents format
    )
}

fn render(fields: (usize, usize, i64, u8, Option<u8>, u8, bool), now: i64) -> String {
    let (tenant, metric, offset, value, id, user, cloud_event) = fields;
    let tenant = ["acme", "globex"][tenant];
    let metric = METRICS[metric];
    let value = ["0", "1", "2.5", "0.000000001", "17", "1000000"][usize::from(value)];
    let time = Timestamp::from_millis((now + offset) / 1000 * 1000).to_string();
    if cloud_event {
        let id = id.map_or(0, u16::from);
        return format!(
            r#"{{"specversion":"1.0","id":"c{id}","source":"/svc","type":"{metric}","subject":"{tenant}","time":"{time}","data":{{"value":"{value}","user_id":"u{user}"}}}}"#
        );
    }
    let id = id
        .map(|id| format!(r#","event_id":"e{id}""#))
        .unwrap_or_default();
    format!(
        r#"{{"tenant_id":"{tenant}","metric":"{metric}","value":"{value}","timestamp":"{time}"{id},"dimensions":{{"user_id":"u{user}"}}}}"#
    )
}

fn runs_strategy() -> impl Strategy<Value = Vec<ReferenceRun>> {
    let run = (
        0..30 * HOUR,
        prop::collection::vec(line_strategy(), 0..40),
        0..4u8,
    );
    prop::collection::vec(run, 1..6).prop_map(|runs| {
        let mut now = START;
        let mut built: Vec<ReferenceRun> = Vec::new();
        for (index, (step, lines, replay)) in runs.into_iter().enumerate() {
            now += step;
            // Sometimes a run redelivers an earlier run's lines at the same positions.
            if replay == 0 && !built.is_empty() {
                let earlier = built[index % built.len()].clone();
                built.push(ReferenceRun {
                    now: Timestamp::from_millis(now),
                    ..earlier
                });
                continue;
            }
            built.push(ReferenceRun {
                now: Timestamp::from_millis(now),
                source: format!("run-{index}"),
                lines: lines
                    .into_iter()
                    .map(|fields| render(fields, now))
                    .collect(),
            });
        }
        built
    })
}

/// Feeds the runs through the core in batches of `batch_size`, restarting from the committed
/// state every `restart_every` batches, and returns the applied rollups.
fn stream(
    runs: &[ReferenceRun],
    batch_size: usize,
    restart_every: usize,
) -> BTreeMap<RollupKey, Rollup> {
    let config = AggregatorConfig::new([3; 16]);
    let mut committed = StateSnapshot::default();
    let mut aggregator = Aggregator::new(config.clone(), catalog());
    let mut rollups: BTreeMap<RollupKey, Rollup> = BTreeMap::new();
    let mut batches = 0;
    for run in runs {
        let positions: Vec<String> = (1..=run.lines.len()).map(|line| line.to_string()).collect();
        let parsed: Vec<Delivery<'_>> = run
            .lines
            .iter()
            .zip(&positions)
            .filter_map(|(line, position)| {
                let event = parse_event(line.as_bytes(), &catalog()).ok()?;
                Some(Delivery {
                    event,
                    origin: Origin {
                        source: &run.source,
                        position,
                    },
                })
            })
            .collect();
        let mut chunks: Vec<Vec<Delivery<'_>>> = parsed
            .chunks(batch_size)
            .map(<[Delivery<'_>]>::to_vec)
            .collect();
        if chunks.is_empty() {
            chunks.push(Vec::new());
        }
        for chunk in chunks {
            let output = aggregator.process(run.now, chunk);
            for (key, delta) in &output.rollups {
                rollups.entry(key.clone()).or_default().apply(delta);
            }
            committed.apply(&output.changes);
            assert_eq!(
                committed,
                aggregator.snapshot(),
                "the changes describe the whole state"
            );
            batches += 1;
            if batches % restart_every == 0 {
                aggregator = Aggregator::restore(config.clone(), catalog(), committed.clone());
            }
        }
    }
    rollups
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_streaming_core_agrees_with_the_reference(
        runs in runs_strategy(),
        batch_size in 1..50usize,
        restart_every in 1..5usize,
    ) {
        let catalog = catalog();
        let expected = reference(&runs, &catalog, 35 * DAY, 5 * 60_000);
        let actual = stream(&runs, batch_size, restart_every);
        let actual: BTreeMap<_, _> = actual
            .iter()
            .map(|(key, rollup)| {
                let aggregation = catalog.get(&key.metric).unwrap().aggregation;
                (
                    (key.tenant_id.to_string(), key.metric.clone(), key.granularity.as_str(), key.window_start.as_millis()),
                    (rollup.value(aggregation), rollup.events),
                )
            })
            .collect();
        prop_assert_eq!(actual, expected.rollups);
    }
}
