//! What the control plane's AWS adapters read from the environment, and the adapters built from
//! it. The variables are documented in `tally_runtime::env`.

use aws_config::SdkConfig;
use tally_runtime::env::TALLY_BUCKET_NAME;
use tally_schemas::layout::DEFAULT_BUCKET;

use crate::tenants::DEFAULT_TENANTS_TABLE;
use crate::{CognitoAuth, DynamoTenants, S3AuditLog, S3Storage, SesMailer, s3_client};

pub use tally_runtime::env::{
    TALLY_EMAIL_FROM, TALLY_TENANT_PERMISSIONS_BOUNDARY_ARN, TALLY_TENANT_ROLE_PRINCIPAL,
    TALLY_TENANTS_TABLE, TALLY_USER_POOL_ID,
};

/// Names and settings of the control plane in AWS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlSettings {
    /// The tenants table.
    pub tenants_table: String,
    /// The tenant data bucket (the audit log and tenant prefixes).
    pub bucket: String,
    /// The shared user pool of standard tenants.
    pub user_pool_id: Option<String>,
    /// The sender of the control plane's email.
    pub email_from: Option<String>,
    /// The principal tenant roles trust, instead of the account root.
    pub tenant_role_principal: Option<String>,
    /// The managed policy every tenant role gets as its permissions boundary.
    pub tenant_permissions_boundary: Option<String>,
}

impl ControlSettings {
    /// The settings from the environment, with the documented defaults; an empty variable counts
    /// as unset.
    pub fn from_env() -> ControlSettings {
        let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        ControlSettings {
            tenants_table: variable(TALLY_TENANTS_TABLE)
                .unwrap_or_else(|| DEFAULT_TENANTS_TABLE.to_owned()),
            bucket: variable(TALLY_BUCKET_NAME).unwrap_or_else(|| DEFAULT_BUCKET.to_owned()),
            user_pool_id: variable(TALLY_USER_POOL_ID),
            email_from: variable(TALLY_EMAIL_FROM),
            tenant_role_principal: variable(TALLY_TENANT_ROLE_PRINCIPAL),
            tenant_permissions_boundary: variable(TALLY_TENANT_PERMISSIONS_BOUNDARY_ARN),
        }
    }

    /// The tenants table.
    pub fn tenants(&self, config: &SdkConfig) -> DynamoTenants {
        DynamoTenants::new(aws_sdk_dynamodb::Client::new(config), &self.tenants_table)
    }

    /// The audit log.
    pub fn audit(&self, config: &SdkConfig) -> S3AuditLog {
        S3AuditLog::new(s3_client(config), &self.bucket)
    }

    /// The ProvisionStorage step.
    pub fn storage(&self, config: &SdkConfig) -> S3Storage {
        let storage = S3Storage::new(
            s3_client(config),
            aws_sdk_iam::Client::new(config),
            &self.bucket,
        );
        let storage = match &self.tenant_role_principal {
            Some(principal) => storage.trusting(principal),
            None => storage,
        };
        match &self.tenant_permissions_boundary {
            Some(boundary) => storage.bounded_by(boundary),
            None => storage,
        }
    }

    /// The ConfigureAuth step.
    pub fn auth(&self, config: &SdkConfig) -> CognitoAuth {
        let auth = CognitoAuth::new(aws_sdk_cognitoidentityprovider::Client::new(config));
        match &self.user_pool_id {
            Some(pool_id) => auth.sharing(pool_id),
            None => auth,
        }
    }

    /// The mailer.
    ///
    /// Fails when no sender is configured.
    pub fn mailer(&self, config: &SdkConfig) -> tally_tenancy::Result<SesMailer> {
        let from = self.email_from.as_ref().ok_or_else(|| {
            tally_tenancy::Error::invalid(
                TALLY_EMAIL_FROM,
                "set it to the SES-verified sender address",
            )
        })?;
        Ok(SesMailer::new(aws_sdk_sesv2::Client::new(config), from))
    }
}
