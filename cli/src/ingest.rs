//! `tally ingest`: NDJSON in, Parquet events, rollups and quarantine out.

use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use tally_runtime::clock;
use tally_runtime::pipeline::{DEFAULT_COMMIT_EVERY, IngestOptions, IngestSummary};
use tally_schemas::Timestamp;

use crate::output::{count, parse_time};
use crate::{GlobalOptions, context};

/// Read usage events (NDJSON) and count them exactly once.
///
/// Each line is one event (v1 or CloudEvents 1.0 JSON). Valid events are deduplicated, added to
/// the hourly, daily and monthly rollups, and written as Parquet under
/// `<data-dir>/tenant-data/tenants/{tenant}/usage/events/dt={day}/`. Refused lines are kept,
/// raw, with their reason and line number under `<data-dir>/tenant-data/quarantine/`.
/// Re-ingesting lines already counted changes nothing.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  tally ingest events.ndjson\n  cat events.ndjson | tally ingest -\n  tally ingest --now 2026-11-01T00:30:00Z --format json late-october.ndjson"
)]
pub struct IngestArgs {
    /// NDJSON file to read, or `-` for standard input.
    pub input: PathBuf,
    /// Processing time (default: the clock). Events are judged too old or in the future against it.
    #[arg(long, value_parser = parse_time)]
    pub now: Option<Timestamp>,
    /// Lines per commit: each commit writes one Parquet file per tenant and day.
    #[arg(long, default_value_t = DEFAULT_COMMIT_EVERY)]
    pub commit_every: usize,
    /// Summary format.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    pub format: SummaryFormat,
}

/// How to print the ingest summary.
#[derive(Clone, Copy, ValueEnum)]
pub enum SummaryFormat {
    /// For people.
    Text,
    /// One JSON object, for scripts.
    Json,
}

pub fn run(global: &GlobalOptions, args: &IngestArgs) -> Result<ExitCode> {
    let mut pipeline = context::open(global)?;
    let options = IngestOptions {
        source: args.input.display().to_string(),
        now: args.now.unwrap_or_else(clock::now),
        commit_every: args.commit_every,
    };
    let summary = if args.input == Path::new("-") {
        pipeline.ingest(io::stdin().lock(), &options, &mut |_| {})?
    } else {
        let file =
            File::open(&args.input).with_context(|| format!("opening {}", args.input.display()))?;
        let size = file.metadata().map(|metadata| metadata.len()).unwrap_or(0);
        let bar = byte_progress(size);
        let summary = pipeline.ingest(
            BufReader::with_capacity(1 << 20, file),
            &options,
            &mut |read| bar.set_position(read),
        )?;
        bar.finish_and_clear();
        summary
    };
    crate::control::check_quotas(global, &pipeline, options.now)?;
    match args.format {
        SummaryFormat::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
        SummaryFormat::Text => print_summary(&options.source, &summary, global),
    }
    Ok(ExitCode::SUCCESS)
}

/// A progress bar over bytes on standard error; invisible when it is not a terminal.
pub fn byte_progress(total_bytes: u64) -> ProgressBar {
    let bar = ProgressBar::new(total_bytes);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} ({eta})")
            .expect("the template is valid")
            .progress_chars("=> "),
    );
    bar
}

/// Prints what an ingest did, for people.
pub fn print_summary(source: &str, summary: &IngestSummary, global: &GlobalOptions) {
    println!("Ingested {source}: {} lines", count(summary.lines));
    println!(
        "  accepted    {:>10}  ({} late)",
        count(summary.accepted),
        count(summary.late)
    );
    println!(
        "  duplicates  {:>10}  (already counted, dropped)",
        count(summary.duplicates)
    );
    println!(
        "  rejected    {:>10}  (kept in the quarantine)",
        count(summary.rejected_total())
    );
    for (reason, number) in &summary.rejected {
        println!("    {:<22}{:>8}", reason.as_str(), count(*number));
    }
    if summary.blank_lines > 0 {
        println!(
            "  blank lines {:>10}  (skipped)",
            count(summary.blank_lines)
        );
    }
    let parquet = summary
        .objects
        .iter()
        .filter(|key| key.ends_with(".parquet"))
        .count();
    println!(
        "  wrote {parquet} Parquet file(s) under {}",
        global
            .data_dir
            .join("tenant-data")
            .join("tenants")
            .display()
    );
}
