//! Every environment variable Tally reads, in one place. `docs/configuration.md` lists them.

/// The data directory of the embedded default (default `./tally-data`).
pub const TALLY_DATA_DIR: &str = "TALLY_DATA_DIR";
/// A TOML file of operator-defined meters, added to the default catalog.
pub const TALLY_METERS_FILE: &str = "TALLY_METERS_FILE";
/// The Kinesis usage stream (default `usage-metering`).
pub const TALLY_STREAM_NAME: &str = "TALLY_STREAM_NAME";
/// The tenant data bucket in S3 (default `tenant-data`).
pub const TALLY_BUCKET_NAME: &str = "TALLY_BUCKET_NAME";
/// The DynamoDB table of rollups written by the stream consumer (default `usage-rollups`).
pub const TALLY_ROLLUPS_TABLE: &str = "TALLY_ROLLUPS_TABLE";
/// The DynamoDB table of the stream consumer's ledgers, quality counts and settings (default
/// `metering-state`).
pub const TALLY_STATE_TABLE: &str = "TALLY_STATE_TABLE";
/// The DynamoDB table of invoices written by the invoice-generator Lambda (default `invoices`).
pub const TALLY_INVOICES_TABLE: &str = "TALLY_INVOICES_TABLE";
/// Hours after a billing period ends before its invoices may be finalized (default 24).
pub const TALLY_INVOICE_GRACE_HOURS: &str = "TALLY_INVOICE_GRACE_HOURS";
/// A TOML file of price plans and tenant plan assignments (see billing/PLANS.md).
pub const TALLY_PLANS_FILE: &str = "TALLY_PLANS_FILE";
/// The acceptance window in days (default 35).
pub const TALLY_MAX_EVENT_AGE_DAYS: &str = "TALLY_MAX_EVENT_AGE_DAYS";
/// The control plane's DynamoDB table of tenants and idempotency keys (default `tenants`).
pub const TALLY_TENANTS_TABLE: &str = "TALLY_TENANTS_TABLE";
/// The Cognito user pool standard tenants share, whose tokens the admin API accepts (no
/// default: required by the control plane in AWS).
pub const TALLY_USER_POOL_ID: &str = "TALLY_USER_POOL_ID";
/// The Cognito app client admin tokens are issued for: their audience.
pub const TALLY_APP_CLIENT_ID: &str = "TALLY_APP_CLIENT_ID";
/// The SES-verified address the control plane's email comes from (no default: required to
/// send).
pub const TALLY_EMAIL_FROM: &str = "TALLY_EMAIL_FROM";
/// The principal (an IAM ARN or account id) that tenant storage roles trust (default: the
/// account's root, so the account's own IAM policies decide who may assume them).
pub const TALLY_TENANT_ROLE_PRINCIPAL: &str = "TALLY_TENANT_ROLE_PRINCIPAL";
/// The ARN of the managed policy every tenant role gets as its permissions boundary (infra's
/// `tally-tenant-boundary`); unset, tenant roles have none.
pub const TALLY_TENANT_PERMISSIONS_BOUNDARY_ARN: &str = "TALLY_TENANT_PERMISSIONS_BOUNDARY_ARN";
/// The ARN of the onboarding state machine the admin API starts.
pub const TALLY_ONBOARDING_STATE_MACHINE_ARN: &str = "TALLY_ONBOARDING_STATE_MACHINE_ARN";
/// The ARN of the offboarding state machine the admin API starts.
pub const TALLY_OFFBOARDING_STATE_MACHINE_ARN: &str = "TALLY_OFFBOARDING_STATE_MACHINE_ARN";
/// The owner URL of the shared PostgreSQL database (`postgres://user:password@host:port/db`);
/// unset on the embedded default, where CreateDatabase provisions nothing.
pub const TALLY_DATABASE_URL: &str = "TALLY_DATABASE_URL";
/// A PEM bundle of the CAs the shared database's certificate must chain to (for RDS, its
/// `global-bundle.pem`); read by `tally-postgres` when the URL asks for TLS (`sslmode=require`,
/// `verify-ca`, `verify-full`), as `tally_postgres::DATABASE_CA_FILE_VAR`.
pub const TALLY_DATABASE_CA_FILE: &str = "TALLY_DATABASE_CA_FILE";
/// The password of the application's login role in the shared database (role
/// `tally_app_login`), set by the CreateDatabase step's bootstrap.
pub const TALLY_APP_DATABASE_PASSWORD: &str = "TALLY_APP_DATABASE_PASSWORD";
/// The ARN of the Secrets Manager secret holding the shared database owner's
/// `{"username", "password"}` (kept and rotated by RDS); when set, the onboarding function signs
/// `TALLY_DATABASE_URL` in with it, read afresh after any failed attempt.
pub const TALLY_DATABASE_SECRET_ARN: &str = "TALLY_DATABASE_SECRET_ARN";
/// The ARN of the Secrets Manager secret holding the application login's password; when set, it
/// stands in for `TALLY_APP_DATABASE_PASSWORD`.
pub const TALLY_APP_DATABASE_PASSWORD_SECRET_ARN: &str = "TALLY_APP_DATABASE_PASSWORD_SECRET_ARN";
/// Test hook: abort the process at a named point of an ingest (`after-stage:N`,
/// `after-commit:N`, `after-publish:N`, counting commits from 1), to prove recovery.
pub const TALLY_CRASH_AT: &str = "TALLY_CRASH_AT";

/// The meter catalog: the defaults plus the operator's meters in `path`, if given.
///
/// Fails when the file cannot be read or a meter in it is refused (the file and meter named).
pub fn load_catalog(path: Option<&std::path::Path>) -> crate::Result<tally_schemas::MeterCatalog> {
    let Some(path) = path else {
        return Ok(tally_schemas::MeterCatalog::defaults());
    };
    let text =
        std::fs::read_to_string(path).map_err(crate::Error::io("reading meters file", path))?;
    tally_schemas::MeterCatalog::with_operator_meters(&text, &path.display().to_string())
        .map_err(|error| crate::Error::Invalid(error.to_string()))
}
