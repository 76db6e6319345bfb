//! Benchmark of the usage-consumer handler in the shape Lambda calls it: Kinesis events of up
//! to 10,000 records within the 6 MiB payload cap (base64 JSON envelope), decoded and handled
//! with in-memory adapters and every tenant registered, on one core. Prints the envelope size,
//! milliseconds per batch (decoding the envelope, then handling; the CPU time of the thread)
//! and events per second.
//!
//! `cargo bench -p usage-consumer --bench handler [-- --events N | --input FILE --now T]
//! [--json]`; `scripts/bench` runs it on its dataset.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::kinesis::KinesisEvent;
use base64::Engine;
use serde_json::json;
use tally_runtime::memory::MemoryBucket;
use tally_runtime::stream::{ConsumerConfig, MemoryTables, StreamConsumer};
use tally_sample::bench::BenchInput;
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
fn registered(lines: &[&str], now: Timestamp) -> Vec<Tenant> {
    let mut ids = std::collections::BTreeSet::new();
    for line in lines {
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
    let input = BenchInput::from_args(std::env::args());
    let now = input.now;
    // The first lines, in arrival order, cut into 10,000-record events.
    let lines: Vec<&str> = input
        .lines()
        .take(BATCHES * RECORDS_PER_EVENT)
        .map(|line| std::str::from_utf8(line).expect("the dataset is UTF-8"))
        .collect();
    let mut events = Vec::new();
    let mut sequence: u128 = 49_656_613_895_413_590_581_431_434_937_271_936_185;
    let mut pending = lines.iter().peekable();
    while events.len() < BATCHES && pending.peek().is_some() {
        // Records until 10,000 or until the next would pass the invocation payload cap.
        let mut records = Vec::new();
        let mut bytes = ENVELOPE_BYTES;
        while records.len() < RECORDS_PER_EVENT {
            let Some(line) = pending.peek() else {
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
        events.push((body, count));
    }
    let largest = events.iter().map(|(body, _)| body.len()).max().unwrap_or(0);

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
    let tenants = registered(&lines, now);
    let mut registry = Registry::new(move || Ok::<_, tally_runtime::Error>(tenants.clone()));
    let mut decode = Vec::new();
    let mut handling = Vec::new();
    let mut records = 0;
    for (body, count) in &events {
        let started = thread_cpu_time();
        let event: KinesisEvent = serde_json::from_slice(body).expect("a Kinesis event");
        let decoded = thread_cpu_time();
        let handled =
            handle(&mut consumer, &mut registry, "usage-metering", &event, now).expect("handled");
        let done = thread_cpu_time();
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
    let counts: Vec<usize> = events.iter().map(|(_, count)| *count).collect();
    let milliseconds = |duration: Duration| duration.as_secs_f64() * 1e3;
    if input.json {
        println!(
            "{}",
            json!({
                "batches": events.len(),
                "records_min": counts.iter().min().unwrap_or(&0),
                "records_max": counts.iter().max().unwrap_or(&0),
                "largest_envelope_bytes": largest,
                "decode_ms": milliseconds(decode_median),
                "handle_ms": milliseconds(handle_median),
                "batch_ms": milliseconds(decode_median + handle_median),
                "events_per_s": records as f64 / total.as_secs_f64(),
            })
        );
        return;
    }
    println!(
        "usage-consumer handler, in-memory adapters, one core ({})",
        input.source
    );
    println!(
        "{} batches of {}–{} records (at most {RECORDS_PER_EVENT}, and under the 6 MiB payload \
         cap); largest envelope {:.2} MiB",
        events.len(),
        counts.iter().min().unwrap_or(&0),
        counts.iter().max().unwrap_or(&0),
        largest as f64 / (1024.0 * 1024.0)
    );
    println!("| stage | median ms of CPU per batch |");
    println!("|---|---|");
    println!(
        "| decode the envelope (JSON + base64) | {:.1} |",
        milliseconds(decode_median)
    );
    println!(
        "| handle (KPL check, parse, core, Parquet, ledgers) | {:.1} |",
        milliseconds(handle_median)
    );
    println!(
        "| both | {:.1} |",
        milliseconds(decode_median + handle_median)
    );
    println!(
        "events/s over all batches: {:.0}",
        records as f64 / total.as_secs_f64()
    );
}

/// The CPU time this thread has used: what a Lambda is billed for while it computes, and
/// unaffected by another process taking the core.
fn thread_cpu_time() -> Duration {
    let mut spec = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec to the valid pointer given.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut spec) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(spec.tv_sec as u64, spec.tv_nsec as u32)
}
