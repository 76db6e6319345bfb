//! Tally's ports over AWS, through the official SDK: the bucket over S3, the stream consumer's
//! tables over DynamoDB, and the Kinesis usage stream.
//!
//! The ports are synchronous, like the core and the pipeline that call them. Each adapter
//! drives the asynchronous SDK on a Tokio runtime handle it is given, so it must be called from
//! a thread that may block: a command's main thread, or a `spawn_blocking` task in a Lambda.
//! Every client honours `AWS_ENDPOINT_URL`, so the same code runs against AWS or an emulator.

pub mod dynamodb;
pub mod emit;
pub mod invoices;
pub mod kinesis;
pub mod s3;
pub mod settings;

pub use dynamodb::DynamoTables;
pub use invoices::DynamoInvoices;
pub use kinesis::KinesisStream;
pub use s3::S3Bucket;
pub use settings::AwsSettings;

use aws_config::{BehaviorVersion, SdkConfig};
use tally_producer::kinesis::describe;

/// The SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL`).
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// A runtime for commands that call the adapters from their main thread. It has one worker
/// thread of its own, which drives the network while the calling thread blocks on a request
/// (`Handle::block_on` cannot drive a current-thread runtime's IO).
///
/// Fails only when the operating system refuses a thread or a timer.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
}
