//! The producer against Kinesis on moto server (started by scripts/test): every valid line of
//! the fixtures lands on the stream once, keyed by its tenant; refused lines are reported and
//! not sent.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_kinesis::types::ShardIteratorType;
use tally_aws::emit::emit;
use tally_aws::{KinesisStream, runtime, sdk_config};
use tally_schemas::MeterCatalog;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/events")
            .join(name),
    )
    .unwrap()
}

#[test]
#[ignore = "needs moto server: run scripts/test"]
fn emitted_lines_arrive_once_with_their_tenant_as_partition_key() {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    assert!(
        std::env::var("TALLY_TEST_AWS_ENDPOINT")
            .is_ok_and(|url| url.starts_with("http://127.0.0.1:")),
        "run scripts/test"
    );
    let runtime = runtime().unwrap();
    let config = runtime.block_on(sdk_config());
    let client = KinesisStream::client(&config);
    let name = format!(
        "usage-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let stream = KinesisStream::new(client.clone(), &name, runtime.handle().clone());
    assert!(
        stream.create_if_missing(2).unwrap(),
        "a new stream is created"
    );
    assert!(
        !stream.create_if_missing(2).unwrap(),
        "an existing one is left alone"
    );

    // WHEN the first fixture run is emitted
    let text = fixture("contract-run-1.ndjson");
    let report = emit(
        text.as_slice(),
        "contract-run-1",
        &MeterCatalog::defaults(),
        &stream,
    )
    .unwrap();

    // THEN the lines the contract accepts are on the stream exactly once, and the rest reported
    let expected: Vec<&[u8]> = text
        .split(|byte| *byte == b'\n')
        .filter(|line| {
            !line.is_empty() && tally_schemas::parse_event(line, &MeterCatalog::defaults()).is_ok()
        })
        .collect();
    assert!(report.sent.failed.is_empty(), "{:?}", report.sent.failed);
    assert_eq!(report.sent.sent as usize, expected.len());
    assert!(
        report
            .refused
            .iter()
            .any(|(_, rejection)| rejection.reason == tally_schemas::RejectReason::InvalidJson)
    );
    let received = read_stream(&runtime, &client, &name);
    let mut counts: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    for (partition_key, data) in &received {
        let event = tally_schemas::parse_event(data, &MeterCatalog::defaults()).unwrap();
        assert_eq!(partition_key, event.tenant_id.as_str());
        *counts.entry(data.clone()).or_default() += 1;
    }
    let mut wanted: BTreeMap<Vec<u8>, usize> = BTreeMap::new();
    for line in expected {
        *wanted.entry(line.to_vec()).or_default() += 1;
    }
    assert_eq!(counts, wanted);
}

/// Every record on every shard, from the start.
fn read_stream(
    runtime: &tokio::runtime::Runtime,
    client: &aws_sdk_kinesis::Client,
    stream: &str,
) -> Vec<(String, Vec<u8>)> {
    let shards = runtime
        .block_on(client.list_shards().stream_name(stream).send())
        .unwrap();
    let mut records = Vec::new();
    for shard in shards.shards() {
        let iterator = runtime
            .block_on(
                client
                    .get_shard_iterator()
                    .stream_name(stream)
                    .shard_id(shard.shard_id())
                    .shard_iterator_type(ShardIteratorType::TrimHorizon)
                    .send(),
            )
            .unwrap();
        let mut next = iterator.shard_iterator().map(str::to_owned);
        while let Some(position) = next.take() {
            let page = runtime
                .block_on(
                    client
                        .get_records()
                        .shard_iterator(position)
                        .limit(1000)
                        .send(),
                )
                .unwrap();
            if page.records().is_empty() {
                break;
            }
            records.extend(page.records().iter().map(|record| {
                (
                    record.partition_key().to_owned(),
                    record.data().as_ref().to_vec(),
                )
            }));
            next = page.next_shard_iterator().map(str::to_owned);
        }
    }
    records
}
