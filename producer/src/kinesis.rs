//! The record sink over a Kinesis data stream: one PutRecords request per call, through the
//! official SDK. Records the service refuses come back with their error code and message, so the
//! batch driver retries only those.

use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::PutRecordsRequestEntry;

use crate::batch::{AsyncRecordSink, CallOutcome, Record};

/// A Kinesis data stream to put records on.
#[derive(Clone, Debug)]
pub struct KinesisSink {
    client: Client,
    stream: String,
}

impl KinesisSink {
    /// The stream named `stream`, reached with `client`.
    pub fn new(client: Client, stream: impl Into<String>) -> KinesisSink {
        KinesisSink {
            client,
            stream: stream.into(),
        }
    }

    /// The stream's name.
    pub fn stream(&self) -> &str {
        &self.stream
    }
}

impl AsyncRecordSink for KinesisSink {
    async fn put_records(&self, records: &[&Record]) -> CallOutcome {
        put_records(&self.client, &self.stream, records).await
    }
}

/// One PutRecords request of `records` to `stream`: one outcome per record, or the error of the
/// whole request (with its chain of causes) when it failed.
pub async fn put_records(client: &Client, stream: &str, records: &[&Record]) -> CallOutcome {
    let mut entries = Vec::with_capacity(records.len());
    for record in records {
        let entry = PutRecordsRequestEntry::builder()
            .data(Blob::new(record.data.clone()))
            .partition_key(&record.partition_key)
            .build()
            .map_err(|error| describe(&error))?;
        entries.push(entry);
    }
    let output = client
        .put_records()
        .stream_name(stream)
        .set_records(Some(entries))
        .send()
        .await
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

/// The SDK's error with its whole chain of causes, for an error message a person can act on.
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
