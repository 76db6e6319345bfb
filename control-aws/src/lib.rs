//! Tally's control plane over AWS, through the official SDK: the tenants table in DynamoDB, the
//! audit log in S3, the onboarding steps that provision storage (an S3 prefix, an IAM policy
//! and role), auth (Cognito), the app (manifests in S3 for a GitOps agent) and email (SES), and
//! the starter of the Step Functions workflows, and the credentials kept in Secrets Manager. Each adapter implements a port of
//! `tally-tenancy` and is safe to repeat; each error names the request and the resource.
//!
//! The ports are asynchronous, so the adapters call the SDK directly on the caller's Tokio
//! runtime. Every client honours `AWS_ENDPOINT_URL`, so the same code runs against AWS or an
//! emulator.

pub mod audit;
pub mod auth;
pub mod failure;
pub mod mail;
pub mod manifests;
pub mod names;
pub mod policy;
pub mod secrets;
pub mod settings;
pub mod step_functions;
pub mod storage;
pub mod tenants;

pub use audit::S3AuditLog;
pub use auth::CognitoAuth;
pub use mail::SesMailer;
pub use manifests::S3Manifests;
pub use secrets::Secrets;
pub use settings::ControlSettings;
pub use step_functions::{StepFunctionsStarter, Workflow};
pub use storage::S3Storage;
pub use tenants::{DynamoTenants, create_table};

use aws_config::{BehaviorVersion, SdkConfig};

/// The SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL`).
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// An S3 client for `config`; path-style addressing when an endpoint is configured, because an
/// emulator on loopback has no per-bucket host names.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let builder =
        aws_sdk_s3::config::Builder::from(config).force_path_style(config.endpoint_url().is_some());
    aws_sdk_s3::Client::from_conf(builder.build())
}
