//! `tally rebuild`: the rollups recomputed from the events Parquet, the source of truth.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use tally_runtime::embedded::LocalBucket;
use tally_runtime::rebuild::rebuild;
use tally_schemas::TenantId;
use tally_schemas::layout::DEFAULT_BUCKET;

use crate::output::{count, print_table};
use crate::{GlobalOptions, context};

/// Recompute the rollups from the events files and report every rollup that changed.
///
/// Replays every stored event through the core at the processing time that first accepted it,
/// integrates the gauges up to the latest processing time, compares the result with the stored
/// rollups, and writes the rebuilt ones back (unless --dry-run). After lost or damaged rollups,
/// this restores them from the Parquet files.
#[derive(Args)]
#[command(after_help = "Examples:\n  tally rebuild --dry-run\n  tally rebuild --tenant acme")]
pub struct RebuildArgs {
    /// Only this tenant's rollups.
    #[arg(long, value_parser = parse_tenant_id)]
    pub tenant: Option<TenantId>,
    /// Report the differences without writing anything.
    #[arg(long)]
    pub dry_run: bool,
}

fn parse_tenant_id(text: &str) -> Result<TenantId, String> {
    TenantId::parse(text).map_err(|problem| problem.to_string())
}

/// Most changed rollups listed; the count covers them all.
const MAX_LISTED_CHANGES: usize = 50;

pub fn run(global: &GlobalOptions, args: &RebuildArgs) -> Result<ExitCode> {
    let catalog = context::catalog(global)?;
    let mut store = context::open_tables(global)?;
    let bucket = LocalBucket::open(global.data_dir.join(DEFAULT_BUCKET))?;
    let report = rebuild(
        &bucket,
        &mut store,
        &catalog,
        global.max_event_age_days,
        args.tenant.as_ref(),
        !args.dry_run,
    )?;
    println!(
        "Replayed {} events into {} rollups.",
        count(report.events),
        count(report.rollups as u64)
    );
    if report.changes.is_empty() {
        println!("Every stored rollup equals the one rebuilt from the events files.");
        return Ok(ExitCode::SUCCESS);
    }
    let show = |rollup: Option<&tally_aggregator::Rollup>| {
        rollup.map_or_else(
            || "-".to_owned(),
            |rollup| format!("{} ({} events)", rollup.amount.normalize(), rollup.events),
        )
    };
    let rows: Vec<Vec<String>> = report
        .changes
        .iter()
        .take(MAX_LISTED_CHANGES)
        .map(|change| {
            let key = &change.key;
            vec![
                key.tenant_id.to_string(),
                key.metric.clone(),
                key.granularity.to_string(),
                key.window_start.to_string(),
                show(change.stored.as_ref()),
                show(change.rebuilt.as_ref()),
            ]
        })
        .collect();
    print_table(
        &["tenant", "metric", "window", "start", "stored", "rebuilt"],
        &rows,
        &[false, false, false, false, true, true],
    );
    let verb = if args.dry_run {
        "would change (dry run, nothing written)"
    } else {
        "changed and were rewritten"
    };
    println!("\n{} rollup(s) {verb}.", count(report.changes.len() as u64));
    Ok(ExitCode::SUCCESS)
}
