//! The usage stream over Kinesis: where producers put events (PutRecords) and what `tally aws
//! init` creates.

use std::time::Duration;

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{PutRecordsRequestEntry, StreamStatus};
use tally_runtime::{Error, Result};
use tokio::runtime::Handle;

use crate::describe;
use crate::producer::{Record, RecordSink};

/// How long `create_if_missing` waits for a new stream to become active.
const ACTIVE_WAIT: Duration = Duration::from_secs(60);

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

    fn failed(&self, operation: &str, error: &(dyn std::error::Error + 'static)) -> Error {
        Error::Remote {
            operation: format!("Kinesis {operation} {}", self.stream),
            detail: describe(error),
        }
    }
}

impl RecordSink for KinesisStream {
    fn put_records(
        &self,
        records: &[&Record],
    ) -> std::result::Result<Vec<std::result::Result<(), String>>, String> {
        let mut entries = Vec::with_capacity(records.len());
        for record in records {
            let entry = PutRecordsRequestEntry::builder()
                .data(Blob::new(record.data.clone()))
                .partition_key(&record.partition_key)
                .build()
                .map_err(|error| describe(&error))?;
            entries.push(entry);
        }
        let request = self
            .client
            .put_records()
            .stream_name(&self.stream)
            .set_records(Some(entries))
            .send();
        let output = self
            .runtime
            .block_on(request)
            .map_err(|error| describe(&error))?;
        Ok(output
            .records()
            .iter()
            .map(|result| match result.error_code() {
                None => Ok(()),
                Some(code) => Err(format!(
                    "{code}: {}",
                    result.error_message().unwrap_or("no message")
                )),
            })
            .collect())
    }
}
