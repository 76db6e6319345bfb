//! Benchmark of the core hot path on one core: the same NDJSON lines through the JSON decoder
//! alone (the floor), through decode + validate, and through decode + validate + dedup +
//! window + aggregate. Prints events per second for each, side by side, from one run, and the
//! dedup state's bytes per remembered event id.
//!
//! `cargo bench -p tally-aggregator --bench hot_path [-- --events N | --input FILE --now T]
//! [--json]`; `scripts/bench` runs it on its dataset.

use std::time::{Duration, Instant};

use serde_json::json;
use tally_aggregator::{Aggregator, AggregatorConfig, Delivery, Origin};
use tally_sample::bench::BenchInput;
use tally_schemas::{MeterCatalog, parse_event};

// The allocator the `tally` binary uses: the parser and the core allocate per event, so the
// figures depend on it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Lines per `process` call, the size of a large Lambda batch.
const BATCH_LINES: usize = 10_000;
/// Each measurement is repeated and the fastest kept, to damp a noisy machine.
const REPEATS: usize = 3;

fn main() {
    let input = BenchInput::from_args(std::env::args());
    let lines: Vec<&[u8]> = input.lines().collect();
    let catalog = MeterCatalog::defaults();

    let floor = best(|| {
        // The floor: the same bytes through the JSON decoder (every token checked, nothing
        // kept), nothing else.
        lines
            .iter()
            .filter(|line| serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok())
            .count()
    });
    let parse = best(|| {
        lines
            .iter()
            .filter(|line| parse_event(line, &catalog).is_ok())
            .count()
    });
    let mut footprint = (0, 0);
    let core = best(|| {
        let mut aggregator = Aggregator::new(AggregatorConfig::new([9; 16]), catalog.clone());
        let mut accepted = 0;
        for (batch_index, batch) in lines.chunks(BATCH_LINES).enumerate() {
            let positions: Vec<String> = (0..batch.len())
                .map(|line| (batch_index * BATCH_LINES + line).to_string())
                .collect();
            let deliveries: Vec<Delivery<'_>> = batch
                .iter()
                .zip(&positions)
                .filter_map(|(line, position)| {
                    let event = parse_event(line, &catalog).ok()?;
                    Some(Delivery {
                        event,
                        origin: Origin {
                            source: "bench",
                            position,
                        },
                    })
                })
                .collect();
            accepted += aggregator.process(input.now, deliveries).accepted.len();
        }
        footprint = aggregator.dedup_footprint();
        accepted
    });
    let rate = |elapsed: Duration| lines.len() as f64 / elapsed.as_secs_f64();
    let (ids, id_bytes) = footprint;
    let bytes_per_id = id_bytes as f64 / ids.max(1) as f64;
    if input.json {
        println!(
            "{}",
            json!({
                "lines": lines.len(),
                "floor_events_per_s": rate(floor),
                "parse_events_per_s": rate(parse),
                "hot_path_events_per_s": rate(core),
                "dedup_ids": ids,
                "dedup_bytes_per_id": bytes_per_id,
            })
        );
        return;
    }
    println!(
        "hot path: {} lines, {:.1} MB of NDJSON ({})",
        lines.len(),
        input.bytes.len() as f64 / 1e6,
        input.source
    );
    println!("| stage | events/s (one core) | vs floor |");
    println!("|---|---|---|");
    for (name, elapsed) in [
        ("JSON decode only (floor)", floor),
        ("decode + validate", parse),
        ("decode + validate + dedup + window + aggregate", core),
    ] {
        println!(
            "| {name} | {:.0} | {:.0} % |",
            rate(elapsed),
            100.0 * floor.as_secs_f64() / elapsed.as_secs_f64()
        );
    }
    println!("dedup state: {bytes_per_id:.1} bytes per remembered id ({ids} ids)");
}

/// The fastest of [`REPEATS`] runs of `work`.
fn best(mut work: impl FnMut() -> usize) -> Duration {
    (0..REPEATS)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(work());
            started.elapsed()
        })
        .min()
        .expect("at least one repeat")
}
