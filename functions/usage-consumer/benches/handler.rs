//! Benchmark of the usage-consumer handler in the shape Lambda calls it: Kinesis events of up
//! to 10,000 records within the 6 MiB payload cap (base64 JSON envelope), decoded and handled
//! with in-memory adapters and every tenant registered, on one core. Prints the envelope size, milliseconds per batch (decoding the envelope, then
//! handling) and events per second.
//!
//! `cargo bench -p usage-consumer --bench handler [-- --scale N]`

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::kinesis::KinesisEvent;
use base64::Engine;
use serde_json::json;
use tally_runtime::memory::MemoryBucket;
use tally_runtime::stream::{ConsumerConfig, MemoryTables, StreamConsumer};
use tally_sample::benchmark_plan;
use tally_schemas::{MeterCatalog, Timestamp};
use tally_tenancy::{NewTenant, Tenant};
use usage_consumer::handle;
use usage_consumer::registry::Registry;

// The allocator the `tally` binary uses; the Lambda uses the system allocator today.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Records per Kinesis event: the event source mapping's largest batch.
const RECORDS_PER_EVENT: usize = 10_000;
/// Batches measured.
const BATCHES: usize = 12;
/// Lambda's cap on an invocation's payload: a batch stops short of it.
const PAYLOAD_CAP_BYTES: usize = 6 * 1024 * 1024;
/// The bytes of `{"Records":[]}`.
const ENVELOPE_BYTES: usize = 14;

/// One record of a Kinesis event, as the event source mapping sends it.
fn kinesis_record(line: &str, sequence: u128) -> serde_json::Value {
    let tenant = serde_json::from_str::<serde_json::Value>(line)
        .ok()
        .and_then(|value| value["tenant_id"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "unattributed".to_owned());
    json!({
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": tenant,
            "sequenceNumber": sequence.to_string(),
            "data": base64::engine::general_purpose::STANDARD.encode(line),
            "approximateArrivalTimestamp": 1_759_276_800.5,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("shardId-000000000000:{sequence}"),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/usage-consumer",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/usage-metering",
    })
}

/// Every tenant the lines name, registered at `now`: the handler counts only registered tenants.
fn registered(lines: &[(String, Timestamp)], now: Timestamp) -> Vec<Tenant> {
    let mut ids = std::collections::BTreeSet::new();
    for (line, _) in lines {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(line)
            && let Some(id) = value["tenant_id"].as_str()
        {
            ids.insert(id.to_owned());
        }
    }
    ids.into_iter()
        .filter_map(|id| {
            let request: NewTenant = serde_json::from_value(json!({
                "tenant_id": id, "name": id, "tier": "standard", "admin_email": "ops@example.com"
            }))
            .ok()?;
            request.into_tenant(&MeterCatalog::defaults(), now).ok()
        })
        .collect()
}

fn main() {
    let (_, plan) = benchmark_plan(std::env::args());
    // Consecutive days' lines, in arrival order, cut into 10,000-record events; each batch is
    // handled at the processing time of the day its first line arrived.
    let mut lines = Vec::new();
    for run in &plan.runs {
        for line in &run.lines {
            if !line.trim().is_empty() {
                lines.push((line.clone(), run.now));
            }
        }
    }
    let mut events = Vec::new();
    let mut sequence: u128 = 49_656_613_895_413_590_581_431_434_937_271_936_185;
    let mut pending = lines.iter().peekable();
    while events.len() < BATCHES && pending.peek().is_some() {
        // Records until 10,000 or until the next would pass the invocation payload cap.
        let mut records = Vec::new();
        let mut bytes = ENVELOPE_BYTES;
        let first_now = pending.peek().map(|(_, now)| *now).expect("a line");
        while records.len() < RECORDS_PER_EVENT {
            let Some((line, _)) = pending.peek() else {
                break;
            };
            let record = kinesis_record(line, sequence + 1);
            let size = record.to_string().len() + 1;
            if bytes + size > PAYLOAD_CAP_BYTES {
                break;
            }
            bytes += size;
            sequence += 1;
            records.push(record);
            pending.next();
        }
        let count = records.len();
        let body = serde_json::to_vec(&json!({ "Records": records })).expect("serializes");
        assert!(body.len() <= PAYLOAD_CAP_BYTES, "{} bytes", body.len());
        events.push((body, first_now, count));
    }
    let largest = events
        .iter()
        .map(|(body, _, _)| body.len())
        .max()
        .unwrap_or(0);

    let config = ConsumerConfig {
        catalog: MeterCatalog::defaults(),
        max_event_age_days: 35,
        stream: "usage-metering".into(),
        cached_tenants: 10_000,
    };
    let mut consumer = StreamConsumer::open(
        Arc::new(MemoryBucket::default()),
        Arc::new(MemoryTables::default()),
        config,
    )
    .expect("a consumer");
    let first_now = lines
        .first()
        .map_or(Timestamp::from_millis(0), |(_, now)| *now);
    let tenants = registered(&lines, first_now);
    let mut registry = Registry::new(move || Ok::<_, tally_runtime::Error>(tenants.clone()));
    let mut decode = Vec::new();
    let mut handling = Vec::new();
    let mut records = 0;
    for (body, now, count) in &events {
        let started = Instant::now();
        let event: KinesisEvent = serde_json::from_slice(body).expect("a Kinesis event");
        let decoded = Instant::now();
        let handled =
            handle(&mut consumer, &mut registry, "usage-metering", &event, *now).expect("handled");
        let done = Instant::now();
        assert!(handled.response.batch_item_failures.is_empty());
        decode.push(decoded - started);
        handling.push(done - decoded);
        records += count;
    }
    let median = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2]
    };
    let total: Duration = decode.iter().chain(&handling).sum();
    let (decode_median, handle_median) = (median(&mut decode), median(&mut handling));
    println!("usage-consumer handler, in-memory adapters, one core");
    let counts: Vec<usize> = events.iter().map(|(_, _, count)| *count).collect();
    println!(
        "{} batches of {}–{} records (at most {RECORDS_PER_EVENT}, and under the 6 MiB payload \
         cap); largest envelope {:.2} MiB",
        events.len(),
        counts.iter().min().unwrap_or(&0),
        counts.iter().max().unwrap_or(&0),
        largest as f64 / (1024.0 * 1024.0)
    );
    println!("| stage | median ms per batch |");
    println!("|---|---|");
    println!(
        "| decode the envelope (JSON + base64) | {:.1} |",
        decode_median.as_secs_f64() * 1e3
    );
    println!(
        "| handle (KPL check, parse, core, Parquet, ledgers) | {:.1} |",
        handle_median.as_secs_f64() * 1e3
    );
    println!(
        "| both | {:.1} |",
        (decode_median + handle_median).as_secs_f64() * 1e3
    );
    println!(
        "events/s over all batches: {:.0}",
        records as f64 / total.as_secs_f64()
    );
}
