//! `tally usage`: the rollups, as a table, JSON or CSV.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use serde::Serialize;
use tally_aggregator::{Granularity, Rollup, RollupKey};
use tally_runtime::embedded::RedbStore;
use tally_runtime::ports::{MeteringStore, RollupFilter};
use tally_runtime::quality::{QualityKey, UNATTRIBUTED};
#[cfg(feature = "aws")]
use tally_runtime::stream::LedgerTables;
use tally_schemas::{MeterCatalog, TenantId, Timestamp};

use crate::output::{csv_field, parse_time, print_table};
use crate::{GlobalOptions, context};

/// Show usage per tenant, meter and window, from the rollups.
///
/// Values are exact decimals in the meter's unit; gauges (storage_gb) show unit-hours, e.g.
/// GB-hours. A window is listed when it starts in [--from, --to).
#[derive(Args)]
#[command(
    after_help = "Examples:\n  tally usage\n  tally usage --tenant acme --granularity day\n  tally usage --quality --from 2026-10-01\n  tally usage --metric storage_gb --granularity hour --from 2026-10-01 --to 2026-10-02 --format csv"
)]
pub struct UsageArgs {
    /// Only this tenant.
    #[arg(long, value_parser = parse_tenant_id)]
    pub tenant: Option<TenantId>,
    /// Only this meter.
    #[arg(long)]
    pub metric: Option<String>,
    /// Window width.
    #[arg(long, default_value = "month")]
    pub granularity: Granularity,
    /// Only windows starting at or after this time (RFC 3339 or YYYY-MM-DD, UTC).
    #[arg(long, value_parser = parse_time)]
    pub from: Option<Timestamp>,
    /// Only windows starting before this time.
    #[arg(long, value_parser = parse_time)]
    pub to: Option<Timestamp>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = UsageFormat::Table)]
    pub format: UsageFormat,
    /// Show data quality instead: lines accepted, late, duplicate and rejected (by reason) per
    /// tenant and processing day. --from/--to then select processing days.
    #[arg(long)]
    pub quality: bool,
    /// Where the rollups are: the data directory, or the DynamoDB tables the stream consumer
    /// writes (names from TALLY_ROLLUPS_TABLE and TALLY_STATE_TABLE).
    #[cfg(feature = "aws")]
    #[arg(long, value_enum, default_value_t = Backend::Embedded)]
    pub backend: Backend,
}

/// Where `tally usage` reads.
#[cfg(feature = "aws")]
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Backend {
    /// The embedded tables of the data directory.
    Embedded,
    /// DynamoDB (or the emulator at AWS_ENDPOINT_URL).
    Aws,
}

/// The rollups and quality counts `tally usage` reads.
trait UsageSource {
    fn rollups(&self, filter: &RollupFilter) -> Result<Vec<(RollupKey, Rollup)>>;
    fn quality(
        &self,
        tenant: Option<&str>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<(QualityKey, u64)>>;
}

impl UsageSource for RedbStore {
    fn rollups(&self, filter: &RollupFilter) -> Result<Vec<(RollupKey, Rollup)>> {
        Ok(MeteringStore::rollups(self, filter)?)
    }

    fn quality(
        &self,
        tenant: Option<&str>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<(QualityKey, u64)>> {
        Ok(MeteringStore::quality(self, tenant, from, to)?)
    }
}

#[cfg(feature = "aws")]
impl UsageSource for tally_aws::DynamoTables {
    fn rollups(&self, filter: &RollupFilter) -> Result<Vec<(RollupKey, Rollup)>> {
        Ok(LedgerTables::rollups(self, filter)?)
    }

    fn quality(
        &self,
        tenant: Option<&str>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<(QualityKey, u64)>> {
        Ok(LedgerTables::quality(self, tenant, from, to)?)
    }
}

fn parse_tenant_id(text: &str) -> Result<TenantId, String> {
    TenantId::parse(text).map_err(|problem| problem.to_string())
}

/// How to print usage.
#[derive(Clone, Copy, ValueEnum)]
pub enum UsageFormat {
    /// Aligned columns, for people.
    Table,
    /// An array of objects.
    Json,
    /// Comma-separated values with a header.
    Csv,
}

/// One window of one meter, as printed.
#[derive(Serialize)]
pub struct UsageRow {
    pub tenant_id: String,
    pub metric: String,
    pub granularity: Granularity,
    pub window_start: String,
    pub window_end: String,
    /// Exact decimal, as a string.
    pub value: String,
    pub unit: String,
    pub events: u64,
}

/// The rows of the rollups that pass `filter`, in key order.
pub fn rows(
    store: &RedbStore,
    catalog: &MeterCatalog,
    filter: &RollupFilter,
) -> Result<Vec<UsageRow>> {
    rows_of(store, catalog, filter)
}

fn rows_of(
    source: &dyn UsageSource,
    catalog: &MeterCatalog,
    filter: &RollupFilter,
) -> Result<Vec<UsageRow>> {
    let rollups = source.rollups(filter)?;
    Ok(rollups
        .iter()
        .map(|(key, rollup)| row(catalog, key, rollup))
        .collect())
}

fn row(catalog: &MeterCatalog, key: &RollupKey, rollup: &Rollup) -> UsageRow {
    let meter = catalog.get(&key.metric);
    UsageRow {
        tenant_id: key.tenant_id.to_string(),
        metric: key.metric.clone(),
        granularity: key.granularity,
        window_start: key.window_start.to_rfc3339(),
        window_end: key.window_end().to_rfc3339(),
        value: meter
            .map_or(rollup.amount, |meter| rollup.value(meter.aggregation))
            .to_string(),
        unit: meter.map_or_else(String::new, |meter| meter.window_unit()),
        events: rollup.events,
    }
}

pub fn run(global: &GlobalOptions, args: &UsageArgs) -> Result<ExitCode> {
    #[cfg(feature = "aws")]
    if args.backend == Backend::Aws {
        let runtime = tally_aws::runtime()?;
        let config = runtime.block_on(tally_aws::sdk_config());
        let tables = tally_aws::AwsSettings::from_env()?.tables(&config, runtime.handle().clone());
        return run_on(&tables, global, args);
    }
    run_on(&context::open_tables(global)?, global, args)
}

fn run_on(store: &dyn UsageSource, global: &GlobalOptions, args: &UsageArgs) -> Result<ExitCode> {
    if args.quality {
        return print_quality(store, args);
    }
    let catalog = &context::catalog(global)?;
    if let Some(metric) = args
        .metric
        .as_deref()
        .filter(|metric| catalog.get(metric).is_none())
    {
        let known: Vec<&str> = catalog
            .meters()
            .iter()
            .map(|meter| meter.name.as_str())
            .collect();
        anyhow::bail!(
            "unknown metric {metric:?}; known meters: {}",
            known.join(", ")
        );
    }
    let filter = RollupFilter {
        tenant_id: args.tenant.as_ref().map(|tenant| tenant.to_string()),
        metric: args.metric.clone(),
        granularity: Some(args.granularity),
        from: args.from,
        to: args.to,
    };
    let rows = rows_of(store, catalog, &filter)?;
    match args.format {
        UsageFormat::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        UsageFormat::Csv => {
            println!("tenant_id,metric,granularity,window_start,window_end,value,unit,events");
            for row in &rows {
                let cells = [
                    &row.tenant_id,
                    &row.metric,
                    row.granularity.as_str(),
                    &row.window_start,
                    &row.window_end,
                    &row.value,
                    &row.unit,
                    &row.events.to_string(),
                ];
                println!(
                    "{}",
                    cells
                        .iter()
                        .map(|cell| csv_field(cell))
                        .collect::<Vec<_>>()
                        .join(",")
                );
            }
        }
        UsageFormat::Table if rows.is_empty() => println!(
            "No usage matches. Ingest events first (tally ingest FILE) or widen the filters."
        ),
        UsageFormat::Table => {
            print_rows(&rows);
            print_quota_events(global, args)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Under the table, the quota events of the tenants shown (embedded default only).
fn print_quota_events(global: &GlobalOptions, args: &UsageArgs) -> Result<()> {
    #[cfg(feature = "aws")]
    if args.backend == Backend::Aws {
        return Ok(());
    }
    for event in crate::control::quota_events(global, args.tenant.as_ref())? {
        println!(
            "Quota exceeded: {} used {} {} in {} (quota {}), seen {}",
            event.tenant_id, event.usage, event.metric, event.period, event.quota, event.at
        );
    }
    Ok(())
}

/// One tenant and processing day of data quality, as printed.
#[derive(Serialize, Default)]
pub struct QualityRow {
    pub day: String,
    /// `null` for lines whose tenant could not be read.
    pub tenant_id: Option<String>,
    pub accepted: u64,
    pub late: u64,
    pub duplicates: u64,
    pub rejected: BTreeMap<String, u64>,
}

fn print_quality(store: &dyn UsageSource, args: &UsageArgs) -> Result<ExitCode> {
    let tenant = args.tenant.as_ref().map(TenantId::as_str);
    let mut rows: BTreeMap<(String, String), QualityRow> = BTreeMap::new();
    for ((tenant_id, day, outcome), count) in store.quality(tenant, args.from, args.to)? {
        let row = rows
            .entry((day.date_string(), tenant_id.clone()))
            .or_insert_with(|| QualityRow {
                day: day.date_string(),
                tenant_id: (tenant_id != UNATTRIBUTED).then(|| tenant_id.clone()),
                ..QualityRow::default()
            });
        match outcome.as_str() {
            "accepted" => row.accepted += count,
            "late" => row.late += count,
            "duplicate" => row.duplicates += count,
            other => {
                *row.rejected
                    .entry(other.trim_start_matches("rejected:").to_owned())
                    .or_default() += count
            }
        }
    }
    let rows: Vec<QualityRow> = rows.into_values().collect();
    let reasons = |row: &QualityRow| {
        row.rejected
            .iter()
            .map(|(reason, count)| format!("{reason}={count}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    match args.format {
        UsageFormat::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        UsageFormat::Csv => {
            println!("day,tenant_id,accepted,late,duplicates,rejected,reasons");
            for row in &rows {
                let rejected: u64 = row.rejected.values().sum();
                println!(
                    "{},{},{},{},{},{rejected},{}",
                    row.day,
                    row.tenant_id.as_deref().unwrap_or(""),
                    row.accepted,
                    row.late,
                    row.duplicates,
                    csv_field(&reasons(row))
                );
            }
        }
        UsageFormat::Table => {
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|row| {
                    let rejected: u64 = row.rejected.values().sum();
                    let tenant = row
                        .tenant_id
                        .clone()
                        .unwrap_or_else(|| "(unattributed)".to_owned());
                    vec![
                        row.day.clone(),
                        tenant,
                        row.accepted.to_string(),
                        row.late.to_string(),
                        row.duplicates.to_string(),
                        rejected.to_string(),
                        reasons(row),
                    ]
                })
                .collect();
            print_table(
                &[
                    "day",
                    "tenant",
                    "accepted",
                    "late",
                    "duplicates",
                    "rejected",
                    "reasons",
                ],
                &cells,
                &[false, false, true, true, true, true, false],
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints rows as an aligned table.
pub fn print_rows(rows: &[UsageRow]) {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            vec![
                row.tenant_id.clone(),
                row.metric.clone(),
                row.window_start.clone(),
                row.value.clone(),
                row.unit.clone(),
                row.events.to_string(),
            ]
        })
        .collect();
    print_table(
        &[
            "tenant",
            "metric",
            "window_start",
            "value",
            "unit",
            "events",
        ],
        &cells,
        &[false, false, false, true, false, true],
    );
}
