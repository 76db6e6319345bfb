//! What the Lambda functions and the AWS commands read from the environment, in one place
//! (`docs/configuration.md` lists every variable).

use std::path::PathBuf;

use tally_runtime::env;
use tally_runtime::stream::{ConsumerConfig, StreamConsumer};
use tally_runtime::{Error, Result};
use tally_schemas::layout::DEFAULT_BUCKET;
use tokio::runtime::Handle;

use crate::dynamodb::{DEFAULT_ROLLUPS_TABLE, DEFAULT_STATE_TABLE};
use crate::{DynamoTables, S3Bucket};

/// Default name of the usage stream.
pub const DEFAULT_STREAM: &str = "usage-metering";
/// Tenant ledgers a consumer keeps in memory between batches.
pub const CACHED_TENANTS: usize = 10_000;

/// Names and settings of the AWS deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsSettings {
    /// The usage stream.
    pub stream: String,
    /// The tenant data bucket.
    pub bucket: String,
    /// The rollups table.
    pub rollups_table: String,
    /// The stream consumer's state table.
    pub state_table: String,
    /// The acceptance window in days.
    pub max_event_age_days: i64,
    /// The operator's meters file, if any.
    pub meters_file: Option<PathBuf>,
}

impl AwsSettings {
    /// The settings from the environment, with the documented defaults.
    ///
    /// Fails when `TALLY_MAX_EVENT_AGE_DAYS` is not a number.
    pub fn from_env() -> Result<AwsSettings> {
        let text = |name: &str, default: &str| {
            std::env::var(name)
                .ok()
                .filter(|value| !value.is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        let max_event_age_days =
            text(env::TALLY_MAX_EVENT_AGE_DAYS, "35")
                .parse()
                .map_err(|_| {
                    Error::Invalid(format!(
                        "{} must be a number of days",
                        env::TALLY_MAX_EVENT_AGE_DAYS
                    ))
                })?;
        Ok(AwsSettings {
            stream: text(env::TALLY_STREAM_NAME, DEFAULT_STREAM),
            bucket: text(env::TALLY_BUCKET_NAME, DEFAULT_BUCKET),
            rollups_table: text(env::TALLY_ROLLUPS_TABLE, DEFAULT_ROLLUPS_TABLE),
            state_table: text(env::TALLY_STATE_TABLE, DEFAULT_STATE_TABLE),
            max_event_age_days,
            meters_file: std::env::var_os(env::TALLY_METERS_FILE)
                .filter(|path| !path.is_empty())
                .map(PathBuf::from),
        })
    }

    /// The bucket, driven on `runtime`.
    pub fn bucket(&self, config: &aws_config::SdkConfig, runtime: Handle) -> S3Bucket {
        S3Bucket::new(S3Bucket::client(config), &self.bucket, runtime)
    }

    /// The ledger tables, driven on `runtime`.
    pub fn tables(&self, config: &aws_config::SdkConfig, runtime: Handle) -> DynamoTables {
        DynamoTables::new(
            DynamoTables::client(config),
            &self.rollups_table,
            &self.state_table,
            runtime,
        )
    }

    /// The stream consumer over S3 and DynamoDB. Call it from a thread that may block.
    ///
    /// Fails when the meters file is refused or the tables cannot be read.
    pub fn consumer(
        &self,
        config: &aws_config::SdkConfig,
        runtime: Handle,
    ) -> Result<StreamConsumer<S3Bucket, DynamoTables>> {
        let consumer_config = ConsumerConfig {
            catalog: env::load_catalog(self.meters_file.as_deref())?,
            max_event_age_days: self.max_event_age_days,
            stream: self.stream.clone(),
            cached_tenants: CACHED_TENANTS,
        };
        StreamConsumer::open(
            self.bucket(config, runtime.clone()),
            self.tables(config, runtime),
            consumer_config,
        )
    }
}
