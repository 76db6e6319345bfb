//! `tally reconcile`: the events Parquet (the truth) against the rollups against the invoices.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use rust_decimal::Decimal;
use tally_billing::gb_months;
use tally_runtime::embedded::LocalBucket;
use tally_runtime::invoices::InvoiceStore;
use tally_runtime::invoicing::{month_quantities, period_name};
use tally_runtime::ports::MeteringStore;
use tally_runtime::truth::{Amount, compare_with_rollups, month_amounts_from_events};
use tally_schemas::layout::DEFAULT_BUCKET;
use tally_schemas::{Aggregation, MeterCatalog, TenantId, Timestamp};

use crate::invoice::parse_period;
use crate::output::print_table;
use crate::{GlobalOptions, context};

/// Check one period end to end: events files, rollups and invoices must agree.
///
/// Recomputes every tenant's month quantities from the events Parquet (the source of truth),
/// compares them with the month rollups and with the quantities on the period's invoice (as
/// restated by later invoices), and lists every difference. Exits 1 when there is one.
#[derive(Args)]
#[command(after_help = "Examples:\n  tally reconcile --period 2026-10")]
pub struct ReconcileArgs {
    /// The billing period, YYYY-MM.
    #[arg(long)]
    pub period: String,
}

/// One (tenant, meter) of the period as each source sees it, in billing units.
struct Row {
    events: Option<Decimal>,
    rollups: Option<Decimal>,
    invoiced: Option<Decimal>,
}

pub fn run(global: &GlobalOptions, args: &ReconcileArgs) -> Result<ExitCode> {
    let month_start = parse_period(&args.period)?;
    let period = period_name(month_start);
    let catalog = context::catalog(global)?;
    let store = context::open_tables(global)?;
    let bucket = LocalBucket::open(global.data_dir.join(DEFAULT_BUCKET))?;
    let horizon = store.load_state()?.horizon.unwrap_or(month_start);
    let truth = month_amounts_from_events(&bucket, &catalog, month_start, horizon)?;
    let rollup_differences = compare_with_rollups(&store, &truth, month_start)?;
    let mut rows: BTreeMap<(String, String), Row> = BTreeMap::new();
    let quantity = |metric: &str, amount: Amount| {
        billing_quantity(&catalog, metric, amount.amount, month_start)
    };
    for ((tenant, metric), amount) in &truth {
        let rollup = quantity(metric, *amount);
        rows.insert(
            (tenant.clone(), metric.clone()),
            Row {
                events: Some(rollup),
                rollups: Some(rollup),
                invoiced: None,
            },
        );
    }
    for difference in &rollup_differences {
        let row = rows
            .entry((difference.tenant_id.clone(), difference.metric.clone()))
            .or_insert(Row {
                events: None,
                rollups: None,
                invoiced: None,
            });
        row.events = difference
            .from_events
            .map(|amount| quantity(&difference.metric, amount));
        row.rollups = difference
            .from_rollups
            .map(|amount| quantity(&difference.metric, amount));
    }
    let tenants: BTreeSet<String> = rows.keys().map(|(tenant, _)| tenant.clone()).collect();
    for tenant in tenants {
        let tenant_id = TenantId::parse(&tenant)?;
        let Some(invoice) = store.invoice(&tenant, &period)? else {
            continue;
        };
        let invoiced = store
            .billed(&tenant, &period)?
            .unwrap_or(invoice.quantities);
        let current = month_quantities(&store, &catalog, &tenant_id, month_start)?;
        for metric in invoiced.keys().chain(current.keys()) {
            let row = rows.entry((tenant.clone(), metric.clone())).or_insert(Row {
                events: None,
                rollups: None,
                invoiced: None,
            });
            row.invoiced = Some(invoiced.get(metric).copied().unwrap_or_default());
        }
    }
    let mut differences = 0;
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|((tenant, metric), row)| {
            let agrees = row.events == row.rollups
                && row
                    .invoiced
                    .is_none_or(|invoiced| Some(invoiced) == row.rollups);
            differences += usize::from(!agrees);
            let show = |value: Option<Decimal>| {
                value.map_or_else(|| "-".to_owned(), |value| value.normalize().to_string())
            };
            vec![
                tenant.clone(),
                metric.clone(),
                show(row.events),
                show(row.rollups),
                show(row.invoiced),
                if agrees { "ok" } else { "DIFFERS" }.to_owned(),
            ]
        })
        .collect();
    print_table(
        &[
            "tenant",
            "metric",
            "events (truth)",
            "rollups",
            "invoiced",
            "check",
        ],
        &table,
        &[false, false, true, true, true, false],
    );
    if differences > 0 {
        println!("\n{differences} difference(s) in {period}.");
        return Ok(ExitCode::from(1));
    }
    println!(
        "\n{period}: events, rollups and invoices agree ({} tenant-meter pairs).",
        rows.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// A month amount in billing units: gauges in unit-months, others as aggregated.
fn billing_quantity(
    catalog: &MeterCatalog,
    metric: &str,
    amount: Decimal,
    month_start: Timestamp,
) -> Decimal {
    match catalog.get(metric).map(|meter| meter.aggregation) {
        Some(Aggregation::Gauge) => gb_months(amount, month_start).normalize(),
        _ => amount.normalize(),
    }
}
