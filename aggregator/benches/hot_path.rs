//! Benchmark of the core hot path on one core: the same NDJSON lines through the JSON decoder
//! alone (the floor), through decode + validate, and through decode + validate + dedup +
//! window + aggregate. Prints events per second for each, side by side, from one run.
//!
//! `cargo bench -p tally-aggregator --bench hot_path [-- --scale N]`

use std::time::{Duration, Instant};

use tally_aggregator::{Aggregator, AggregatorConfig, Delivery, Origin};
use tally_sample::benchmark_plan;
use tally_schemas::{MeterCatalog, Timestamp, parse_event};

// The allocator the `tally` binary uses: the parser and the core allocate per event, so the
// figures depend on it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Lines per `process` call, the size of a large Lambda batch.
const BATCH_LINES: usize = 10_000;
/// Each measurement is repeated and the fastest kept, to damp a noisy machine.
const REPEATS: usize = 3;

fn main() {
    let (scale, plan) = benchmark_plan(std::env::args());
    let runs: Vec<(Timestamp, Vec<String>)> = plan
        .runs
        .into_iter()
        .map(|run| (run.now, run.lines))
        .collect();
    let lines: usize = runs.iter().map(|(_, lines)| lines.len()).sum();
    let bytes: usize = runs
        .iter()
        .flat_map(|(_, lines)| lines)
        .map(|line| line.len() + 1)
        .sum();
    let catalog = MeterCatalog::defaults();
    println!(
        "hot path: {lines} lines, {:.1} MB of NDJSON (sample month, 5 tenants, scale {scale})",
        bytes as f64 / 1e6
    );

    let floor = best(|| {
        let mut values = 0usize;
        for line in runs.iter().flat_map(|(_, lines)| lines) {
            // The floor: the same bytes through the JSON decoder (every token checked, nothing
            // kept), nothing else.
            if serde_json::from_str::<serde::de::IgnoredAny>(line).is_ok() {
                values += 1;
            }
        }
        values
    });
    let parse = best(|| {
        runs.iter()
            .flat_map(|(_, lines)| lines)
            .filter(|line| parse_event(line.as_bytes(), &catalog).is_ok())
            .count()
    });
    let core = best(|| {
        let mut aggregator = Aggregator::new(AggregatorConfig::new([9; 16]), catalog.clone());
        let mut accepted = 0;
        for (now, run_lines) in &runs {
            for (batch_index, batch) in run_lines.chunks(BATCH_LINES).enumerate() {
                let positions: Vec<String> = (0..batch.len())
                    .map(|line| (batch_index * BATCH_LINES + line).to_string())
                    .collect();
                let deliveries: Vec<Delivery<'_>> = batch
                    .iter()
                    .zip(&positions)
                    .filter_map(|(line, position)| {
                        let event = parse_event(line.as_bytes(), &catalog).ok()?;
                        Some(Delivery {
                            event,
                            origin: Origin {
                                source: "bench",
                                position,
                            },
                        })
                    })
                    .collect();
                accepted += aggregator.process(*now, deliveries).accepted.len();
            }
        }
        accepted
    });
    let rate = |elapsed: Duration| lines as f64 / elapsed.as_secs_f64();
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
