//! Benchmark of `tally ingest` end to end on the embedded default: NDJSON files in, Parquet
//! files, rollups (redb) and quarantine out, fsyncs included. Prints events per second, the
//! dedup state's bytes per remembered id and the process's peak memory.
//!
//! `cargo bench -p tally-runtime --bench ingest [-- --scale N]`

use std::fs;
use std::io::BufReader;
use std::time::Instant;

use tally_runtime::embedded::{LocalBucket, RedbStore};
use tally_runtime::pipeline::{
    DEFAULT_COMMIT_EVERY, IngestOptions, IngestSummary, Pipeline, PipelineConfig,
};
use tally_sample::benchmark_plan;
use tally_schemas::MeterCatalog;

// The allocator the `tally` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let (scale, plan) = benchmark_plan(std::env::args());
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let mut inputs = Vec::new();
    for run in &plan.runs {
        let path = scratch.path().join(format!("{}.ndjson", run.name));
        fs::write(&path, run.lines.join("\n") + "\n").expect("writing the input");
        inputs.push((path, run.now));
    }
    let bytes: u64 = inputs
        .iter()
        .map(|(path, _)| fs::metadata(path).map_or(0, |metadata| metadata.len()))
        .sum();

    let data = scratch.path().join("data");
    let config = PipelineConfig {
        catalog: MeterCatalog::defaults(),
        max_event_age_days: 35,
        crash_at: None,
    };
    let started = Instant::now();
    let bucket = LocalBucket::open(data.join("tenant-data")).expect("bucket");
    fs::create_dir_all(&data).expect("data directory");
    let store = RedbStore::open(&data.join("tables.redb")).expect("tables");
    let mut pipeline = Pipeline::open(bucket, store, config).expect("pipeline");
    let mut summary = IngestSummary::default();
    for (path, now) in &inputs {
        let reader = BufReader::with_capacity(1 << 20, fs::File::open(path).expect("input"));
        let options = IngestOptions {
            source: path.display().to_string(),
            now: *now,
            commit_every: DEFAULT_COMMIT_EVERY,
        };
        summary.add(
            pipeline
                .ingest(reader, &options, &mut |_| {})
                .expect("ingest"),
        );
    }
    let elapsed = started.elapsed();
    let (ids, id_bytes) = pipeline.aggregator().dedup_footprint();
    println!(
        "ingest end to end: {} lines, {:.1} MB, {} daily files (sample month, 5 tenants, scale {scale})",
        summary.lines,
        bytes as f64 / 1e6,
        inputs.len()
    );
    println!("| figure | value |");
    println!("|---|---|");
    println!(
        "| events/s end to end (one process) | {:.0} |",
        summary.lines as f64 / elapsed.as_secs_f64()
    );
    println!(
        "| MB/s of NDJSON | {:.1} |",
        bytes as f64 / 1e6 / elapsed.as_secs_f64()
    );
    println!(
        "| accepted / duplicates / rejected | {} / {} / {} |",
        summary.accepted,
        summary.duplicates,
        summary.rejected_total()
    );
    println!(
        "| Parquet and quarantine objects | {} |",
        summary.objects.len()
    );
    println!(
        "| dedup state, bytes per remembered id | {:.1} ({ids} ids) |",
        id_bytes as f64 / ids.max(1) as f64
    );
    println!("| peak resident memory | {} |", peak_memory());
}

/// The process's peak resident set, from /proc (Linux).
fn peak_memory() -> String {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .map_or_else(|| "unknown".to_owned(), |value| value.trim().to_owned())
}
