//! The AWS commands: `tally emit` (producer) and `tally aws init` (stream and bucket on the
//! configured endpoint). Built with `--features aws`.

use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use tally_aws::emit::emit;
use tally_aws::{KinesisStream, S3Bucket, runtime, sdk_config};
use tally_runtime::env;

use crate::output::count;
use crate::{GlobalOptions, context};

/// Default name of the usage stream.
pub const DEFAULT_STREAM: &str = "usage-metering";

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

/// Create the usage stream and the tenant data bucket unless they exist.
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
    Ok(ExitCode::SUCCESS)
}
