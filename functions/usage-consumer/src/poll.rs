//! `tally consume`: the same handler (and tenant registry) driven by polling every shard of the
//! stream, the way Lambda's event source mapping does: batches of up to `batch_size` records per
//! shard, a checkpoint per shard (in the state table), the partial batch response honoured (the
//! checkpoint stops before the record it names, which is read again), and a child shard read
//! only once its parents are read to their end.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_lambda_events::event::kinesis::KinesisEvent;
use base64::Engine;
use serde_json::json;
use tally_aws::DynamoTables;
use tally_aws::kinesis::{KinesisStream, ReadRecord};
use tally_runtime::ports::Bucket;
use tally_runtime::stream::{LedgerTables, StreamConsumer};
use tally_runtime::{Error, Result};
use tally_schemas::Timestamp;

use crate::handle;
use crate::registry::{Registry, TenantRegistry};

/// Attempts at one batch before `consume` gives up on a shard and fails.
pub const MAX_ATTEMPTS: u32 = 8;

/// How to poll.
#[derive(Clone, Debug)]
pub struct PollOptions {
    /// Most records per batch (the mapping's BatchSize; Kinesis returns at most 10,000).
    pub batch_size: i32,
    /// Stop once a pass over every shard finds nothing new; poll forever otherwise.
    pub until_idle: bool,
    /// Pause between passes that found nothing.
    pub idle_wait: Duration,
}

/// What a run of `consume` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PollSummary {
    /// Batches handed to the handler, retries included.
    pub batches: u64,
    /// Kinesis records read, counting each delivery.
    pub records: u64,
    /// Batches whose response named a record to retry.
    pub retried: u64,
    /// Shards read to their end.
    pub ended_shards: u64,
    /// Events counted.
    pub accepted: u64,
    /// Deliveries dropped as already counted.
    pub duplicates: u64,
    /// Records refused and quarantined.
    pub rejected: u64,
    /// Records skipped as delivered and committed before.
    pub redelivered: u64,
}

/// Polls `stream` with the handler until idle (or forever), counting only the tenants of
/// `registry`, checkpointing in `checkpoints`; `now` gives each batch's processing time and
/// `log` receives the handler's log lines.
///
/// Fails when the stream or the checkpoints cannot be read or written, or a batch still fails
/// after [`MAX_ATTEMPTS`] (a registry that cannot be read fails every batch).
pub fn consume<B: Bucket, T: LedgerTables, R: TenantRegistry>(
    consumer: &mut StreamConsumer<B, T>,
    registry: &mut Registry<R>,
    stream: &KinesisStream,
    checkpoints: &DynamoTables,
    options: &PollOptions,
    now: &mut dyn FnMut() -> Timestamp,
    log: &mut dyn FnMut(&str),
) -> Result<PollSummary> {
    let mut summary = PollSummary::default();
    loop {
        let shards = stream.shards()?;
        let mut ended: BTreeSet<String> = BTreeSet::new();
        for shard in &shards {
            if checkpoints.checkpoint(stream.name(), &shard.id)?.1 {
                ended.insert(shard.id.clone());
            }
        }
        let listed: BTreeSet<&str> = shards.iter().map(|shard| shard.id.as_str()).collect();
        let mut progressed = false;
        for shard in &shards {
            // Parents first; a parent no longer listed has aged out of the stream.
            let ready = shard
                .parents
                .iter()
                .all(|parent| ended.contains(parent) || !listed.contains(parent.as_str()));
            if ended.contains(&shard.id) || !ready {
                continue;
            }
            let (mut after, _) = checkpoints.checkpoint(stream.name(), &shard.id)?;
            let read = stream.read(&shard.id, after.as_deref(), options.batch_size)?;
            if read.records.is_empty() {
                if read.ended {
                    checkpoints.set_checkpoint(stream.name(), &shard.id, after.as_deref(), true)?;
                    ended.insert(shard.id.clone());
                    summary.ended_shards += 1;
                    progressed = true;
                }
                continue;
            }
            progressed = true;
            let mut records = read.records;
            let mut attempt = 0;
            while !records.is_empty() {
                attempt += 1;
                summary.batches += 1;
                summary.records += records.len() as u64;
                let event = kinesis_event(stream.name(), &shard.id, &records)?;
                let handled = handle(consumer, registry, stream.name(), &event, now())?;
                for line in &handled.log_lines {
                    log(line);
                }
                for report in &handled.reports {
                    let totals = report.totals();
                    summary.accepted += totals.accepted;
                    summary.duplicates += totals.duplicates;
                    summary.redelivered += totals.redelivered;
                    summary.rejected += report.rejected.values().sum::<u64>();
                }
                let retry = handled
                    .response
                    .batch_item_failures
                    .first()
                    .and_then(|failure| failure.item_identifier.clone());
                let Some(retry) = retry else {
                    after = records.last().map(|record| record.sequence.clone());
                    break;
                };
                summary.retried += 1;
                if attempt >= MAX_ATTEMPTS {
                    return Err(Error::Invalid(format!(
                        "shard {} of {}: record {retry} still fails after {MAX_ATTEMPTS} attempts",
                        shard.id,
                        stream.name()
                    )));
                }
                // Everything before the named record is done: checkpoint there, retry the rest.
                let failed = records
                    .iter()
                    .position(|record| record.sequence == retry)
                    .ok_or_else(|| {
                        Error::Invalid(format!(
                            "the handler named record {retry}, not in its batch"
                        ))
                    })?;
                if failed > 0 {
                    after = Some(records[failed - 1].sequence.clone());
                    checkpoints.set_checkpoint(
                        stream.name(),
                        &shard.id,
                        after.as_deref(),
                        false,
                    )?;
                }
                records.drain(..failed);
                std::thread::sleep(Duration::from_millis(50 << attempt.min(6)));
            }
            checkpoints.set_checkpoint(stream.name(), &shard.id, after.as_deref(), false)?;
        }
        if !progressed {
            if options.until_idle {
                return Ok(summary);
            }
            std::thread::sleep(options.idle_wait);
        }
    }
}

/// The records as the event source mapping would hand them to the function: a Kinesis event
/// with base64 data.
fn kinesis_event(stream: &str, shard: &str, records: &[ReadRecord]) -> Result<KinesisEvent> {
    let records: Vec<serde_json::Value> = records
        .iter()
        .map(|record| {
            json!({
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": format!("{shard}:{}", record.sequence),
                "eventName": "aws:kinesis:record",
                "eventSourceARN": format!("arn:aws:kinesis:local:000000000000:stream/{stream}"),
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": record.partition_key,
                    "sequenceNumber": record.sequence,
                    "data": base64::engine::general_purpose::STANDARD.encode(&record.data),
                    "approximateArrivalTimestamp":
                        record.arrival_millis.unwrap_or_default() as f64 / 1000.0,
                },
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records }))
        .map_err(|error| Error::Invalid(format!("building a Kinesis event: {error}")))
}
