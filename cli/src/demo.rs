//! `tally demo`: a realistic month for a handful of tenants, through the whole pipeline.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufReader, Write};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::ProgressBar;
use tally_aggregator::Granularity;
use tally_runtime::clock;
use tally_runtime::pipeline::{DEFAULT_COMMIT_EVERY, IngestOptions, IngestSummary};
use tally_runtime::ports::{Bucket, RollupFilter};
use tally_runtime::quarantine::decode_records;
use tally_sample::{SampleOptions, generate_month};
use tally_schemas::Timestamp;
use tally_schemas::layout::QUARANTINE_PREFIX;

use crate::context::EmbeddedPipeline;
use crate::ingest::{byte_progress, print_summary};
use crate::invoice::{InvoiceArgs, invoice};
use crate::output::{count, print_table};
use crate::usage::rows;
use crate::{GlobalOptions, context};

/// Generate a month of realistic usage and run it through the pipeline.
///
/// Writes one NDJSON file per day of the month (API calls, storage samples, compute, memory,
/// active users; with duplicates, late arrivals and bad lines) under `<data-dir>/demo-input/`,
/// ingests each as it would have arrived (processing time = the end of that day), and shows the
/// month's usage per tenant and meter, what was rejected and why, and where the files are.
/// Running it again re-sends the same events: nothing is counted twice.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  tally demo\n  tally demo --month 2026-10 --tenants 3\n  tally --data-dir /tmp/tally demo --scale 4"
)]
pub struct DemoArgs {
    /// The month to generate, as YYYY-MM (default: the previous calendar month).
    #[arg(long)]
    pub month: Option<String>,
    /// How many tenants.
    #[arg(long, default_value_t = 5)]
    pub tenants: usize,
    /// Multiplies the volume of events.
    #[arg(long, default_value_t = 1)]
    pub scale: u32,
    /// Seed of the generator: the same seed gives the same events.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub fn run(global: &GlobalOptions, args: &DemoArgs) -> Result<ExitCode> {
    let month_start = month_start(args.month.as_deref())?;
    if !(1..=tally_sample::MAX_TENANTS).contains(&args.tenants)
        || !(1..=tally_sample::MAX_SCALE).contains(&args.scale)
    {
        bail!(
            "--tenants must be 1-{} and --scale 1-{}",
            tally_sample::MAX_TENANTS,
            tally_sample::MAX_SCALE
        );
    }
    let spinner = ProgressBar::new_spinner().with_message("generating a month of usage");
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let plan = generate_month(
        month_start,
        &SampleOptions {
            seed: args.seed,
            tenants: args.tenants,
            scale: args.scale,
        },
    );
    let input_dir = global.data_dir.join("demo-input");
    fs::create_dir_all(&input_dir).with_context(|| format!("creating {}", input_dir.display()))?;
    let mut inputs = Vec::new();
    for run in &plan.runs {
        let path = input_dir.join(format!("{}.ndjson", run.name));
        let mut file =
            File::create(&path).with_context(|| format!("writing {}", path.display()))?;
        for line in &run.lines {
            writeln!(file, "{line}")?;
        }
        inputs.push((path, run.now));
    }
    spinner.finish_and_clear();
    register_tenants(global, &plan.tenants)?;
    let mut pipeline = context::open(global)?;
    let total_bytes: u64 = inputs
        .iter()
        .map(|(path, _)| fs::metadata(path).map_or(0, |metadata| metadata.len()))
        .sum();
    let bar = byte_progress(total_bytes).with_message("ingesting");
    let mut summary = IngestSummary::default();
    let mut done_bytes = 0;
    for (path, now) in &inputs {
        let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let options = IngestOptions {
            source: path.display().to_string(),
            now: *now,
            commit_every: DEFAULT_COMMIT_EVERY,
        };
        summary.add(
            pipeline.ingest(BufReader::new(file), &options, &mut |read| {
                bar.set_position(done_bytes + read)
            })?,
        );
        done_bytes += fs::metadata(path).map_or(0, |metadata| metadata.len());
    }
    bar.finish_and_clear();
    if let Some((_, last_now)) = inputs.last() {
        crate::control::check_quotas(global, &pipeline, *last_now)?;
    }
    let month = &month_start.to_string()[..7];
    println!(
        "Tally demo: {month} for {} tenants, delivered as {} daily files\n",
        plan.tenants.len(),
        inputs.len()
    );
    print_summary(
        &input_dir.join("day-*.ndjson").display().to_string(),
        &summary,
        global,
    );
    if summary.accepted == 0 && summary.duplicates > 0 {
        println!("\n  Everything was already counted: this data directory ran this demo before.");
    }
    print_month_usage(&pipeline, month_start)?;
    print_rejections(&pipeline)?;
    drop(pipeline);
    print_invoices(global, month)?;
    print_next_steps(
        global,
        month,
        inputs
            .get(2)
            .map(|(path, now)| (path.display().to_string(), *now)),
    );
    Ok(ExitCode::SUCCESS)
}

/// The first instant of `YYYY-MM`, or of the previous calendar month.
fn month_start(month: Option<&str>) -> Result<Timestamp> {
    let Some(month) = month else {
        return Ok(clock::now().floor_month().plus_millis(-1).floor_month());
    };
    let start = Timestamp::parse(&format!("{month}-01T00:00:00Z"))
        .map_err(|problem| anyhow::anyhow!("--month {month:?}: expected YYYY-MM ({problem})"))?;
    Ok(start)
}

fn print_month_usage(pipeline: &EmbeddedPipeline, month_start: Timestamp) -> Result<()> {
    let filter = RollupFilter {
        granularity: Some(Granularity::Month),
        from: Some(month_start),
        to: Some(month_start.next_month_start()),
        ..RollupFilter::default()
    };
    let usage = rows(pipeline.store(), pipeline.aggregator().catalog(), &filter)?;
    println!(
        "\nUsage in the billing period {} (exact; storage_gb is GB-hours):",
        &month_start.to_string()[..7]
    );
    let cells: Vec<Vec<String>> = usage
        .iter()
        .map(|row| {
            vec![
                row.tenant_id.clone(),
                row.metric.clone(),
                row.value.clone(),
                row.unit.clone(),
                count(row.events),
            ]
        })
        .collect();
    print_table(
        &["tenant", "metric", "value", "unit", "events"],
        &cells,
        &[false, false, true, false, true],
    );
    Ok(())
}

fn print_rejections(pipeline: &EmbeddedPipeline) -> Result<()> {
    let mut examples: BTreeMap<String, (u64, String, String)> = BTreeMap::new();
    for key in pipeline.bucket().list(QUARANTINE_PREFIX)? {
        let Some(bytes) = pipeline.bucket().get(&key)? else {
            continue;
        };
        for record in decode_records(&bytes)? {
            let entry = examples
                .entry(record.reason.as_str().to_owned())
                .or_insert_with(|| {
                    (
                        0,
                        record.detail.clone(),
                        format!("{}:{}", record.source, record.position),
                    )
                });
            entry.0 += 1;
        }
    }
    println!("\nRejected, and why (every line is kept raw in the quarantine; one example each):");
    let cells: Vec<Vec<String>> = examples
        .into_iter()
        .map(|(reason, (number, detail, origin))| vec![reason, count(number), detail, origin])
        .collect();
    print_table(
        &["reason", "lines", "example", "where"],
        &cells,
        &[false, true, false, false],
    );
    Ok(())
}

/// Invoices the month: final when its grace period has passed, drafts otherwise.
fn print_invoices(global: &GlobalOptions, month: &str) -> Result<()> {
    let month_start = crate::invoice::parse_period(month)?;
    let grace =
        tally_runtime::invoicing::DEFAULT_GRACE_HOURS * tally_schemas::time::MILLIS_PER_HOUR;
    let finalize = clock::now() >= month_start.next_month_start().plus_millis(grace);
    let args = InvoiceArgs {
        period: month.to_owned(),
        tenant: None,
        finalize,
        void: false,
        plans: None,
        grace_hours: tally_runtime::invoicing::DEFAULT_GRACE_HOURS,
        now: None,
        format: crate::invoice::InvoiceFormat::Table,
    };
    let outcomes = invoice(global, &args)?;
    let state = if finalize {
        "final"
    } else {
        "drafts: the month's grace period has not passed"
    };
    println!("\nInvoices for {month} ({state}; default plan `standard`):");
    crate::invoice::print_invoices(&outcomes, global);
    Ok(())
}

fn print_next_steps(global: &GlobalOptions, month: &str, example: Option<(String, Timestamp)>) {
    let data = global.data_dir.display();
    println!("\nWhere things are:");
    println!(
        "  events (Parquet, the source of truth)  {data}/tenant-data/tenants/<tenant>/usage/events/dt=<day>/*.parquet"
    );
    println!(
        "  quarantine (refused lines, raw)        {data}/tenant-data/quarantine/dt=<day>/*.ndjson"
    );
    println!("  rollups and state (embedded tables)    {data}/tables.redb");
    println!("  the demo's input files                 {data}/demo-input/");
    println!("\nNext, try:");
    println!("  tally usage --tenant acme --granularity day --from {month}-01 --to {month}-08");
    println!("  tally usage --metric active_users --format json");
    println!(
        "  tally reconcile --period {month}              # events, rollups and invoices agree"
    );
    println!("  open {data}/tenant-data/tenants/acme/invoices/{month}/acme-000001.html");
    if let Some((path, now)) = example {
        println!("  tally ingest --now {now} {path}    # already counted: all duplicates");
    }
    println!(
        "  duckdb -c \"select tenant_id, metric, sum(value) from read_parquet('{data}/tenant-data/tenants/*/usage/events/*/*.parquet') group by all order by all\""
    );
}

/// The monthly API-call quota of the demo's largest tenant: passed within the month.
const DEMO_API_CALLS_QUOTA: &str = "100000";

/// Creates and onboards the demo's tenants (those not registered yet), so that their usage is
/// counted: metering counts only registered tenants.
fn register_tenants(global: &GlobalOptions, tenants: &[String]) -> Result<()> {
    let plane = crate::control::open(global)?;
    crate::control::block_on(async {
        for (index, id) in tenants.iter().enumerate() {
            let tenant_id = tally_schemas::TenantId::parse(id)?;
            if tally_tenancy::TenantStore::get(&plane.store, &tenant_id)
                .await?
                .is_some()
            {
                continue;
            }
            let request: tally_tenancy::NewTenant = serde_json::from_value(serde_json::json!({
                "tenant_id": id,
                "name": id,
                "tier": "standard",
                "admin_email": format!("billing+{id}@example.com"),
                // The largest tenant gets a quota it will pass, to show quota events.
                "quotas": if index == 0 { serde_json::json!({ "api_calls": DEMO_API_CALLS_QUOTA }) } else { serde_json::json!({}) },
            }))?;
            plane.create(request, "tally-demo", None).await?;
            let tenant = plane.onboard(&tenant_id, "tally-demo").await?;
            if tenant.status != tally_tenancy::Status::Active {
                anyhow::bail!(
                    "onboarding demo tenant {id} failed: {:?}",
                    tenant.status_reason
                );
            }
        }
        Ok(())
    })
}
