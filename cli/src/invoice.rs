//! `tally invoice`: price the month rollups and write the period's invoices.

use std::fs;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use tally_billing::PlanBook;
use tally_runtime::clock;
use tally_runtime::embedded::{LocalBucket, RedbStore};
use tally_runtime::env;
use tally_runtime::invoicing::{
    DEFAULT_GRACE_HOURS, InvoiceJob, InvoiceOutcome, run_invoices, void_invoice,
};
use tally_schemas::time::MILLIS_PER_HOUR;
use tally_schemas::{MeterCatalog, TenantId, Timestamp};

use crate::output::{parse_time, print_table};
use crate::{GlobalOptions, context};

/// Price a billing period's usage and write its invoices.
///
/// For every tenant with usage (or a plan) in the period: rates the month rollups with the
/// tenant's plan (default plans `standard` and `premium`, or a plan file), and writes the invoice
/// as JSON, HTML and Parquet lines under
/// `<data-dir>/tenant-data/tenants/{tenant}/invoices/{YYYY-MM}/`. Drafts are recomputed on every
/// run; `--finalize` makes them final (immutable) once the grace period after the month has
/// passed. Usage that arrives later for a final period is billed on the next invoice as an
/// adjustment. Running it again with the same inputs writes nothing new.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  tally invoice --period 2026-10\n  tally invoice --period 2026-10 --tenant acme --format json\n  tally invoice --period 2026-10 --finalize\n  tally invoice --period 2026-10 --tenant acme --void\n  tally invoice --period 2026-10 --plans plans.toml"
)]
pub struct InvoiceArgs {
    /// The billing period, YYYY-MM (a UTC calendar month).
    #[arg(long)]
    pub period: String,
    /// Only this tenant.
    #[arg(long, value_parser = parse_tenant_id)]
    pub tenant: Option<TenantId>,
    /// Make the invoices final (refused until the grace period after the month has passed).
    #[arg(long, conflicts_with = "void")]
    pub finalize: bool,
    /// Void the tenant's final invoice for the period (needs --tenant); the next run drafts a
    /// new revision with a new number.
    #[arg(long, requires = "tenant")]
    pub void: bool,
    /// Price plans and tenant assignments (TOML, see billing/PLANS.md); default plans otherwise.
    #[arg(long, env = env::TALLY_PLANS_FILE)]
    pub plans: Option<PathBuf>,
    /// Hours after the month ends before invoices may be finalized.
    #[arg(long, default_value_t = DEFAULT_GRACE_HOURS)]
    pub grace_hours: i64,
    /// Processing time (default: the clock).
    #[arg(long, value_parser = parse_time)]
    pub now: Option<Timestamp>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InvoiceFormat::Table)]
    pub format: InvoiceFormat,
}

/// How to print invoices.
#[derive(Clone, Copy, ValueEnum)]
pub enum InvoiceFormat {
    /// One row per invoice.
    Table,
    /// The invoices as JSON.
    Json,
}

fn parse_tenant_id(text: &str) -> Result<TenantId, String> {
    TenantId::parse(text).map_err(|problem| problem.to_string())
}

/// The first instant of `YYYY-MM`.
pub fn parse_period(period: &str) -> Result<Timestamp> {
    let start = Timestamp::parse(&format!("{period}-01T00:00:00Z"))
        .ok()
        .filter(|_| period.len() == 7)
        .with_context(|| format!("--period {period:?}: expected YYYY-MM"))?;
    Ok(start)
}

/// The plan book: a plan file's, or the defaults.
pub fn plan_book(path: Option<&PathBuf>, catalog: &MeterCatalog) -> Result<PlanBook> {
    let Some(path) = path else {
        return Ok(PlanBook::defaults());
    };
    let text = fs::read_to_string(path)
        .with_context(|| format!("reading plans file {}", path.display()))?;
    Ok(PlanBook::from_toml(
        &text,
        &path.display().to_string(),
        catalog,
    )?)
}

/// Runs the invoice job on the data directory's bucket and tables.
pub fn invoice(global: &GlobalOptions, args: &InvoiceArgs) -> Result<Vec<InvoiceOutcome>> {
    let catalog = context::catalog(global)?;
    let book = plan_book(args.plans.as_ref(), &catalog)?;
    let job = InvoiceJob {
        month_start: parse_period(&args.period)?,
        tenant: args.tenant.clone(),
        finalize: args.finalize,
        now: args.now.unwrap_or_else(clock::now),
        grace_millis: args.grace_hours * MILLIS_PER_HOUR,
    };
    let mut store: RedbStore = context::open_tables(global)?;
    let bucket = LocalBucket::open(global.data_dir.join(tally_schemas::layout::DEFAULT_BUCKET))?;
    if let (true, Some(tenant)) = (args.void, &args.tenant) {
        let voided = void_invoice(
            &bucket,
            &mut store,
            &catalog,
            tenant,
            job.month_start,
            job.now,
        )?;
        return Ok(vec![voided]);
    }
    Ok(run_invoices(&bucket, &mut store, &catalog, &book, &job)?)
}

pub fn run(global: &GlobalOptions, args: &InvoiceArgs) -> Result<ExitCode> {
    let outcomes = invoice(global, args)?;
    match args.format {
        InvoiceFormat::Json => {
            let invoices: Vec<_> = outcomes.iter().map(|outcome| &outcome.invoice).collect();
            println!("{}", serde_json::to_string_pretty(&invoices)?);
        }
        InvoiceFormat::Table if outcomes.is_empty() => {
            println!("No tenant has usage or a plan in {}.", args.period)
        }
        InvoiceFormat::Table => print_invoices(&outcomes, global),
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints one row per invoice and where the files are.
pub fn print_invoices(outcomes: &[InvoiceOutcome], global: &GlobalOptions) {
    let rows: Vec<Vec<String>> = outcomes
        .iter()
        .map(|outcome| {
            let invoice = &outcome.invoice;
            let adjustments = invoice
                .lines
                .iter()
                .filter(|line| line.kind == tally_billing::invoice::LineKind::Adjustment)
                .count();
            vec![
                invoice.number.clone(),
                invoice.tenant_id.clone(),
                invoice.plan.clone(),
                format!("{:?}", invoice.status).to_lowercase(),
                format!("{} {}", invoice.total, invoice.currency),
                adjustments.to_string(),
                if outcome.written.is_empty() {
                    "unchanged".to_owned()
                } else {
                    format!("{} written", outcome.written.len())
                },
            ]
        })
        .collect();
    print_table(
        &[
            "invoice",
            "tenant",
            "plan",
            "status",
            "total",
            "adjustments",
            "files",
        ],
        &rows,
        &[false, false, false, false, true, true, false],
    );
    if let Some(first) = outcomes.first() {
        println!(
            "\nInvoices (JSON, HTML, Parquet lines) are under {}/tenant-data/tenants/<tenant>/invoices/{}/",
            global.data_dir.display(),
            first.invoice.period
        );
    }
}
