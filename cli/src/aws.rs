//! The AWS commands: `tally emit` (producer), `tally consume` (the usage-consumer handler
//! polling the stream) and `tally aws init` (stream, bucket and tables on the configured
//! endpoint). Built with `--features aws`.

use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use tally_aws::dynamodb::{DEFAULT_ROLLUPS_TABLE, DEFAULT_STATE_TABLE};
use tally_aws::emit::emit;
use tally_aws::invoices::DEFAULT_INVOICES_TABLE;
use tally_aws::settings::DEFAULT_STREAM;
use tally_aws::{
    AwsSettings, DynamoInvoices, DynamoTables, KinesisStream, S3Bucket, runtime, sdk_config,
};
use tally_runtime::{clock, env};
use tally_schemas::Timestamp;
use usage_consumer::poll::{PollOptions, consume};
use usage_consumer::registry::{
    DEFAULT_TENANTS_TABLE, DynamoRegistry, Registry, create_tenants_table,
};

use crate::output::{count, parse_time};
use crate::{GlobalOptions, context};

/// Send usage events (NDJSON) to the Kinesis usage stream.
///
/// Each valid line is put on the stream with its tenant id as partition key, with PutRecords
/// (at most 500 records and 5 MiB per call); records the stream refuses are retried with
/// exponential backoff and jitter. Lines the event contract refuses are reported and not sent.
/// Exits 1 if any line was not sent. Uses the AWS environment (`AWS_REGION`, credentials,
/// `AWS_ENDPOINT_URL` for an emulator).
#[derive(Args)]
#[command(
    after_help = "Examples:\n  tally emit events.ndjson\n  AWS_ENDPOINT_URL=http://127.0.0.1:5000 tally emit --stream usage-metering -"
)]
pub struct EmitArgs {
    /// NDJSON file to send, or `-` for standard input.
    pub input: PathBuf,
    /// The stream.
    #[arg(long, env = env::TALLY_STREAM_NAME, default_value = DEFAULT_STREAM)]
    pub stream: String,
}

/// Consume the Kinesis usage stream with the usage-consumer Lambda's handler.
///
/// Polls every shard like Lambda's event source mapping: batches of up to --batch-size records,
/// a checkpoint per shard in the state table, the partial batch response honoured, parents
/// before children. Counts only the tenants registered in the tenants table (others go to the
/// quarantine as unknown_tenant or tenant_suspended). Writes Parquet and the quarantine to the
/// bucket and rollups to DynamoDB, exactly once. Names come from the environment
/// (TALLY_STREAM_NAME, TALLY_BUCKET_NAME, TALLY_ROLLUPS_TABLE, TALLY_STATE_TABLE,
/// TALLY_TENANTS_TABLE; see docs/configuration.md).
#[derive(Args)]
#[command(
    after_help = "Examples:\n  AWS_ENDPOINT_URL=http://127.0.0.1:5000 tally consume --until-idle\n  tally consume --batch-size 1000 --verbose"
)]
pub struct ConsumeArgs {
    /// Stop once a pass over every shard finds nothing new (default: poll until interrupted).
    #[arg(long)]
    pub until_idle: bool,
    /// Most records per batch, 1 to 10000.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub batch_size: i32,
    /// Processing time to use instead of the clock (replays and tests).
    #[arg(long, value_parser = parse_time)]
    pub now: Option<Timestamp>,
    /// Print the handler's JSON log lines (batch summaries, EMF figures) to standard error.
    #[arg(long)]
    pub verbose: bool,
}

/// Work with AWS (or an emulator at `AWS_ENDPOINT_URL`).
#[derive(Args)]
pub struct AwsArgs {
    #[command(subcommand)]
    pub command: AwsCommand,
}

/// The `tally aws` subcommands.
#[derive(Subcommand)]
pub enum AwsCommand {
    Init(InitArgs),
}

/// Create the usage stream, the tenant data bucket and the DynamoDB tables (rollups, state,
/// invoices, tenants) unless they exist.
///
/// For emulators and sandboxes; production accounts are set up with Terraform.
#[derive(Args)]
#[command(after_help = "Examples:\n  AWS_ENDPOINT_URL=http://127.0.0.1:5000 tally aws init")]
pub struct InitArgs {
    /// The stream.
    #[arg(long, env = env::TALLY_STREAM_NAME, default_value = DEFAULT_STREAM)]
    pub stream: String,
    /// Shards of a new stream.
    #[arg(long, default_value_t = 1)]
    pub shards: i32,
    /// The bucket.
    #[arg(long, env = env::TALLY_BUCKET_NAME, default_value = tally_schemas::layout::DEFAULT_BUCKET)]
    pub bucket: String,
    /// The rollups table.
    #[arg(long, env = env::TALLY_ROLLUPS_TABLE, default_value = DEFAULT_ROLLUPS_TABLE)]
    pub rollups_table: String,
    /// The stream consumer's state table.
    #[arg(long, env = env::TALLY_STATE_TABLE, default_value = DEFAULT_STATE_TABLE)]
    pub state_table: String,
    /// The invoices table.
    #[arg(long, env = env::TALLY_INVOICES_TABLE, default_value = DEFAULT_INVOICES_TABLE)]
    pub invoices_table: String,
    /// The control plane's tenants table: the registry `tally consume` counts tenants by.
    #[arg(long, env = env::TALLY_TENANTS_TABLE, default_value = DEFAULT_TENANTS_TABLE)]
    pub tenants_table: String,
}

pub fn run_emit(global: &GlobalOptions, args: &EmitArgs) -> Result<ExitCode> {
    let catalog = context::catalog(global)?;
    let runtime = runtime()?;
    let config = runtime.block_on(sdk_config());
    let stream = KinesisStream::new(
        KinesisStream::client(&config),
        &args.stream,
        runtime.handle().clone(),
    );
    let source = args.input.display().to_string();
    let report = if args.input == Path::new("-") {
        emit(io::stdin().lock(), &source, &catalog, &stream)?
    } else {
        let file = File::open(&args.input).with_context(|| format!("opening {source}"))?;
        emit(BufReader::new(file), &source, &catalog, &stream)?
    };
    println!(
        "Sent {} of {} lines to stream {} in {} PutRecords calls",
        count(report.sent.sent),
        count(report.lines),
        args.stream,
        count(report.sent.calls)
    );
    for (line, rejection) in &report.refused {
        println!(
            "  line {line}: not sent, {}: {}",
            rejection.reason, rejection.detail
        );
    }
    for (line, error) in &report.sent.failed {
        println!("  line {line}: not sent after every retry: {error}");
    }
    let everything_sent = report.refused.is_empty() && report.sent.failed.is_empty();
    Ok(if everything_sent {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn run_aws(args: &AwsArgs) -> Result<ExitCode> {
    let AwsCommand::Init(init) = &args.command;
    let runtime = runtime()?;
    let config = runtime.block_on(sdk_config());
    let stream = KinesisStream::new(
        KinesisStream::client(&config),
        &init.stream,
        runtime.handle().clone(),
    );
    let created = stream.create_if_missing(init.shards)?;
    println!(
        "stream {}: {}",
        init.stream,
        if created { "created" } else { "already there" }
    );
    let bucket = S3Bucket::new(
        S3Bucket::client(&config),
        &init.bucket,
        runtime.handle().clone(),
    );
    let created = bucket.create_if_missing()?;
    println!(
        "bucket {}: {}",
        init.bucket,
        if created { "created" } else { "already there" }
    );
    let tables = DynamoTables::new(
        DynamoTables::client(&config),
        &init.rollups_table,
        &init.state_table,
        runtime.handle().clone(),
    );
    let invoices = DynamoInvoices::new(
        DynamoTables::client(&config),
        &init.invoices_table,
        runtime.handle().clone(),
    );
    let invoices_created = invoices.create_if_missing()?;
    let tenants_client = DynamoTables::client(&config);
    let tenants_created = runtime
        .block_on(create_tenants_table(&tenants_client, &init.tenants_table))
        .with_context(|| format!("creating the tenants table {}", init.tenants_table))?;
    let created_tables = tables.create_if_missing()?.into_iter().chain([
        (init.invoices_table.clone(), invoices_created),
        (init.tenants_table.clone(), tenants_created),
    ]);
    for (table, created) in created_tables {
        println!(
            "table {table}: {}",
            if created { "created" } else { "already there" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_consume(global: &GlobalOptions, args: &ConsumeArgs) -> Result<ExitCode> {
    let mut settings = AwsSettings::from_env()?;
    settings.max_event_age_days = global.max_event_age_days;
    settings.meters_file = global.meters.clone();
    let runtime = runtime()?;
    let config = runtime.block_on(sdk_config());
    let mut consumer = settings.consumer(&config, runtime.handle().clone())?;
    let mut registry = Registry::new(DynamoRegistry::from_env(&config, runtime.handle().clone()));
    let stream = KinesisStream::new(
        KinesisStream::client(&config),
        &settings.stream,
        runtime.handle().clone(),
    );
    let checkpoints = settings.tables(&config, runtime.handle().clone());
    let options = PollOptions {
        batch_size: args.batch_size,
        until_idle: args.until_idle,
        idle_wait: std::time::Duration::from_secs(1),
    };
    let fixed = args.now;
    let mut now = || fixed.unwrap_or_else(clock::now);
    let verbose = args.verbose;
    let mut log = |line: &str| {
        if verbose {
            eprintln!("{line}");
        }
    };
    let summary = consume(
        &mut consumer,
        &mut registry,
        &stream,
        &checkpoints,
        &options,
        &mut now,
        &mut log,
    )?;
    println!(
        "Consumed {} records of stream {} in {} batches ({} retried): {} accepted, {} duplicates, \
         {} rejected (in the quarantine), {} redelivered and skipped",
        count(summary.records),
        settings.stream,
        count(summary.batches),
        count(summary.retried),
        count(summary.accepted),
        count(summary.duplicates),
        count(summary.rejected),
        count(summary.redelivered)
    );
    Ok(ExitCode::SUCCESS)
}
