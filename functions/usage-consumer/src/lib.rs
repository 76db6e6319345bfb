//! The usage-consumer Lambda's handler: a Kinesis event in, the stream consumer's batch, a
//! partial batch response out.
//!
//! Before each batch the handler makes sure the consumer counts only registered tenants: the
//! tenant registry ([`registry`]) is read again when its snapshot is a minute old. When it cannot
//! be read, nothing is processed and the response names every shard's first record, so the
//! whole batch comes again.
//!
//! Records packed by the Kinesis Producer Library are unpacked first. A record that can never
//! succeed (not JSON, an unknown meter, a bad tenant id, a malformed KPL aggregate) goes to
//! the quarantine with its reason, shard and sequence number, and the batch goes on; only a
//! failure worth retrying (a throttle, a 5xx, a timeout) names a record in the response, the
//! first one not committed. The handler prints one JSON log line per batch and, per tenant,
//! one CloudWatch Embedded Metric Format line whose tenant id is a property, not a dimension
//! (so a thousand tenants do not make a thousand metrics).

pub mod poll;
pub mod registry;

use std::collections::BTreeMap;

use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisEventRecord};
use aws_lambda_events::event::streams::{KinesisBatchItemFailure, KinesisEventResponse};
use registry::{Registry, TenantRegistry};
use serde_json::json;
use tally_runtime::kpl::deaggregate;
use tally_runtime::ports::Bucket;
use tally_runtime::stream::{BatchReport, LedgerTables, Position, StreamConsumer, StreamRecord};
use tally_runtime::{Error, Result};
use tally_schemas::Timestamp;

/// The CloudWatch namespace of the per-tenant figures.
pub const METRICS_NAMESPACE: &str = "Tally";

/// What one invocation returns and prints.
#[derive(Clone, Debug, PartialEq)]
pub struct Handled {
    /// The partial batch response: empty when every record is committed.
    pub response: KinesisEventResponse,
    /// The JSON lines to print: the batch summary, then one EMF line per tenant.
    pub log_lines: Vec<String>,
    /// What each shard's batch did.
    pub reports: Vec<BatchReport>,
}

/// The user records of `event`, by shard, in shard order; KPL aggregates unpacked.
///
/// Fails when a record has no shard id or no valid sequence number, which Kinesis never sends.
pub fn user_records(event: &KinesisEvent) -> Result<BTreeMap<String, Vec<StreamRecord>>> {
    let mut shards: BTreeMap<String, Vec<StreamRecord>> = BTreeMap::new();
    for record in &event.records {
        let shard = shard_of(record)?;
        let kinesis = &record.kinesis;
        let sequence = kinesis.sequence_number.as_str();
        let partition_key = kinesis.partition_key.as_str();
        let data = kinesis.data.0.as_slice();
        let records = shards.entry(shard).or_default();
        match deaggregate(partition_key, data) {
            Ok(user_records) => {
                for user_record in user_records {
                    records.push(StreamRecord {
                        position: Position::new(sequence, user_record.sub_sequence)?,
                        data: user_record.data.to_vec(),
                    });
                }
            }
            // A damaged aggregate is kept whole; the contract refuses it and the quarantine
            // keeps its bytes.
            Err(_) => records.push(StreamRecord {
                position: Position::new(sequence, 0)?,
                data: data.to_vec(),
            }),
        }
    }
    Ok(shards)
}

/// The shard of a record, from its event id `shardId-…:sequence`.
fn shard_of(record: &KinesisEventRecord) -> Result<String> {
    record
        .event_id
        .as_deref()
        .and_then(|id| id.split_once(':'))
        .map(|(shard, _)| shard.to_owned())
        .filter(|shard| !shard.is_empty())
        .ok_or_else(|| {
            Error::Invalid(format!(
                "Kinesis record {} has no shard in its event id",
                record.kinesis.sequence_number
            ))
        })
}

/// Handles one Kinesis event at processing time `now`, counting only the tenants of
/// `registry`.
///
/// Fails (the whole batch is retried, bisected if so configured) only when the event itself
/// is malformed.
pub fn handle<B: Bucket, T: LedgerTables, R: TenantRegistry>(
    consumer: &mut StreamConsumer<B, T>,
    registry: &mut Registry<R>,
    stream: &str,
    event: &KinesisEvent,
    now: Timestamp,
) -> Result<Handled> {
    let shards = user_records(event)?;
    if let Err(error) = registry.refresh(consumer, now) {
        return Ok(registry_unavailable(&shards, event.records.len(), &error));
    }
    let mut response = KinesisEventResponse::default();
    let mut log_lines = Vec::new();
    let mut reports = Vec::new();
    for (shard, records) in shards {
        let report = consumer.process(&shard, &records, now);
        if let Some(retry) = &report.retry_from {
            let mut failure = KinesisBatchItemFailure::default();
            failure.item_identifier = Some(retry.sequence().to_owned());
            response.batch_item_failures.push(failure);
        }
        log_lines.push(summary_line(&shard, event.records.len(), &report));
        log_lines.extend(metric_lines(stream, now, &report));
        reports.push(report);
    }
    Ok(Handled {
        response,
        log_lines,
        reports,
    })
}

/// The answer when the registry cannot be read: every shard's batch again from its first
/// record, and an error line.
fn registry_unavailable(
    shards: &BTreeMap<String, Vec<StreamRecord>>,
    kinesis_records: usize,
    error: &Error,
) -> Handled {
    let mut response = KinesisEventResponse::default();
    let mut log_lines = Vec::new();
    for (shard, records) in shards {
        let Some(first) = records.first() else {
            continue;
        };
        let mut failure = KinesisBatchItemFailure::default();
        failure.item_identifier = Some(first.position.sequence().to_owned());
        response.batch_item_failures.push(failure);
        log_lines.push(
            json!({
                "level": "error",
                "message": "tenant registry unavailable; the batch is retried",
                "shard": shard,
                "kinesis_records": kinesis_records,
                "retry_from": first.position.sequence(),
                "error": error.to_string(),
            })
            .to_string(),
        );
    }
    Handled {
        response,
        log_lines,
        reports: Vec::new(),
    }
}

/// The batch's structured log line.
fn summary_line(shard: &str, kinesis_records: usize, report: &BatchReport) -> String {
    let totals = report.totals();
    let level = if report.retry_from.is_some() {
        "warn"
    } else {
        "info"
    };
    json!({
        "level": level,
        "message": "usage batch",
        "shard": shard,
        "kinesis_records": kinesis_records,
        "user_records": report.records,
        "accepted": totals.accepted,
        "late": totals.late,
        "duplicates": totals.duplicates,
        "redelivered": totals.redelivered,
        "rejected": report.rejected,
        "tenants": report.tenants.len(),
        "objects": report.objects.len(),
        "retry_from": report.retry_from,
        "errors": report.errors,
    })
    .to_string()
}

/// One EMF line per tenant of the batch.
fn metric_lines<'a>(
    stream: &'a str,
    now: Timestamp,
    report: &'a BatchReport,
) -> impl Iterator<Item = String> + 'a {
    report.tenants.iter().map(move |(tenant, figures)| {
        json!({
            "_aws": {
                "Timestamp": now.as_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": METRICS_NAMESPACE,
                    "Dimensions": [["stream"]],
                    "Metrics": [
                        {"Name": "Accepted", "Unit": "Count"},
                        {"Name": "Duplicates", "Unit": "Count"},
                        {"Name": "Rejected", "Unit": "Count"},
                        {"Name": "Late", "Unit": "Count"},
                    ],
                }],
            },
            "stream": stream,
            "tenant_id": tenant,
            "Accepted": figures.accepted,
            "Duplicates": figures.duplicates,
            "Rejected": figures.rejected,
            "Late": figures.late,
        })
        .to_string()
    })
}
