//! The usage stream over Kinesis: where producers put events (PutRecords), what `tally consume`
//! reads shard by shard (ListShards, GetShardIterator, GetRecords) and what `tally aws init`
//! creates.

use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::types::{ShardIteratorType, StreamStatus};
use tally_producer::batch::{CallOutcome, Record, RecordSink};
use tally_runtime::{Error, Result};
use tokio::runtime::Handle;

use crate::describe;

/// How long `create_if_missing` waits for a new stream to become active.
const ACTIVE_WAIT: Duration = Duration::from_secs(60);

/// Empty pages `read` follows before it reports an empty read.
const EMPTY_PAGES: usize = 5;

/// A shard and the shards it was split or merged from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardInfo {
    /// The shard id, e.g. `shardId-000000000000`.
    pub id: String,
    /// The parent shard and, after a merge, the adjacent parent.
    pub parents: Vec<String>,
}

/// What one read of a shard returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardRead {
    /// The records, in shard order.
    pub records: Vec<ReadRecord>,
    /// True when the shard is closed and every record was read.
    pub ended: bool,
}

/// One record read from a shard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadRecord {
    /// The sequence number.
    pub sequence: String,
    /// The partition key.
    pub partition_key: String,
    /// The bytes.
    pub data: Vec<u8>,
    /// When Kinesis received it, in milliseconds since the epoch.
    pub arrival_millis: Option<i64>,
}

/// A Kinesis data stream.
#[derive(Clone, Debug)]
pub struct KinesisStream {
    client: Client,
    stream: String,
    runtime: Handle,
}

impl KinesisStream {
    /// The stream `stream`, reached with `client`, driven on `runtime`.
    pub fn new(client: Client, stream: impl Into<String>, runtime: Handle) -> KinesisStream {
        KinesisStream {
            client,
            stream: stream.into(),
            runtime,
        }
    }

    /// A client for `config`.
    pub fn client(config: &aws_config::SdkConfig) -> Client {
        Client::new(config)
    }

    /// The stream's name.
    pub fn name(&self) -> &str {
        &self.stream
    }

    /// Creates the stream with `shards` shards unless it exists, and waits until it is active;
    /// true if it was created.
    ///
    /// Fails when the service refuses, or the stream is not active within a minute.
    pub fn create_if_missing(&self, shards: i32) -> Result<bool> {
        let request = self
            .client
            .create_stream()
            .stream_name(&self.stream)
            .shard_count(shards)
            .send();
        let created = match self.runtime.block_on(request) {
            Ok(_) => true,
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|service| service.is_resource_in_use_exception()) =>
            {
                false
            }
            Err(error) => return Err(self.failed("CreateStream", &error)),
        };
        let started = std::time::Instant::now();
        loop {
            let request = self
                .client
                .describe_stream_summary()
                .stream_name(&self.stream)
                .send();
            let summary = self
                .runtime
                .block_on(request)
                .map_err(|error| self.failed("DescribeStreamSummary", &error))?;
            let status = summary
                .stream_description_summary()
                .map(|summary| summary.stream_status().clone());
            if status == Some(StreamStatus::Active) {
                return Ok(created);
            }
            if started.elapsed() > ACTIVE_WAIT {
                return Err(Error::Remote {
                    operation: format!("Kinesis stream {}", self.stream),
                    detail: format!("not active after {ACTIVE_WAIT:?} ({status:?})"),
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Every shard of the stream, open or closed, with its parents.
    ///
    /// Fails when the service refuses.
    pub fn shards(&self) -> Result<Vec<ShardInfo>> {
        let mut shards = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut request = self.client.list_shards();
            request = match token.take() {
                Some(token) => request.next_token(token),
                None => request.stream_name(&self.stream),
            };
            let page = self
                .runtime
                .block_on(request.send())
                .map_err(|error| self.failed("ListShards", &error))?;
            shards.extend(page.shards().iter().map(|shard| {
                ShardInfo {
                    id: shard.shard_id().to_owned(),
                    parents: shard
                        .parent_shard_id()
                        .into_iter()
                        .chain(shard.adjacent_parent_shard_id())
                        .map(str::to_owned)
                        .collect(),
                }
            }));
            match page.next_token() {
                Some(next) => token = Some(next.to_owned()),
                None => return Ok(shards),
            }
        }
    }

    /// Up to `limit` records of `shard` after sequence number `after` (from the oldest record
    /// kept when `None`).
    ///
    /// Fails when the service refuses (a throttle included; the caller retries).
    pub fn read(&self, shard: &str, after: Option<&str>, limit: i32) -> Result<ShardRead> {
        let mut request = self
            .client
            .get_shard_iterator()
            .stream_name(&self.stream)
            .shard_id(shard);
        request = match after {
            Some(sequence) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .starting_sequence_number(sequence),
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let mut iterator = self
            .runtime
            .block_on(request.send())
            .map_err(|error| self.failed("GetShardIterator", &error))?
            .shard_iterator;
        // An empty page does not mean the end: follow the iterator while the shard is behind.
        for _ in 0..EMPTY_PAGES {
            let Some(current) = iterator.take() else {
                break;
            };
            let request = self
                .client
                .get_records()
                .shard_iterator(current)
                .limit(limit)
                .send();
            let page = self
                .runtime
                .block_on(request)
                .map_err(|error| self.failed("GetRecords", &error))?;
            let records: Vec<ReadRecord> = page
                .records()
                .iter()
                .map(|record| ReadRecord {
                    sequence: record.sequence_number().to_owned(),
                    partition_key: record.partition_key().to_owned(),
                    data: record.data().as_ref().to_vec(),
                    arrival_millis: record
                        .approximate_arrival_timestamp()
                        .and_then(|time| time.to_millis().ok()),
                })
                .collect();
            let behind = page.millis_behind_latest().unwrap_or(0);
            iterator = page.next_shard_iterator;
            if !records.is_empty() || behind == 0 {
                return Ok(ShardRead {
                    records,
                    ended: iterator.is_none(),
                });
            }
        }
        Ok(ShardRead {
            records: Vec::new(),
            ended: iterator.is_none(),
        })
    }

    fn failed(&self, operation: &str, error: &(dyn std::error::Error + 'static)) -> Error {
        Error::Remote {
            operation: format!("Kinesis {operation} {}", self.stream),
            detail: describe(error),
        }
    }
}

impl RecordSink for KinesisStream {
    fn put_records(&self, records: &[&Record]) -> CallOutcome {
        let request = tally_producer::kinesis::put_records(&self.client, &self.stream, records);
        self.runtime.block_on(request)
    }
}
