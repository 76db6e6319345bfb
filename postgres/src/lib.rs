//! The PostgreSQL adapter of the CreateDatabase onboarding step: standard-tier tenants share one
//! database whose tenant tables enforce row-level security on `app.tenant_id`; each premium
//! tenant gets a dedicated database with the same schema, owned by a role of its own. Every
//! operation is idempotent, and every error says whether a retry can help.
//!
//! - [`SharedDatabase`]: the admin side (bootstrap, register and remove tenants, create and drop
//!   dedicated databases, inspect row-level security).
//! - [`AppSession`]: the application's connection for one tenant.
//! - [`tenant_identifier`] and [`quote_identifier`]: how tenant ids become SQL names.
//!
//! Tenant ids reach SQL only as bind parameters; names derived from them are injective, at most
//! 63 bytes and always quoted.
//!
//! Connections are unencrypted (no TLS connector is built in): this adapter is for a PostgreSQL
//! on loopback, as in local runs and tests. RDS, and RDS Proxy in front of it, which need TLS
//! (and, for the proxy, care with session settings), are out of scope for now.

#![warn(missing_docs)]

mod connect;
mod error;
mod inspect;
mod naming;
mod provision;
mod roles;
mod schema;
mod session;
mod shared;

pub use connect::{APPLICATION_NAME, CONNECT_TIMEOUT_SECS};
pub use error::{Error, Result};
pub use inspect::{Policy, SchemaReport, TableSecurity};
pub use naming::{
    MAX_IDENTIFIER_BYTES, TENANT_IDENTIFIER_PREFIX, quote_identifier, quote_literal,
    tenant_identifier,
};
pub use roles::{
    AppRoles, DEFAULT_APP_GROUP_ROLE, DEFAULT_APP_LOGIN_ROLE, MAX_PASSWORD_BYTES, RoleName,
};
pub use schema::{POLICY_NAME, REGISTRY_TABLE, TENANT_SETTING, TENANT_TABLES};
pub use provision::PostgresDatabase;
pub use session::AppSession;
pub use shared::SharedDatabase;

/// The environment variable holding the admin URL of the PostgreSQL server the integration tests
/// (`tests/rls.rs`, run with `--include-ignored`) use, e.g.
/// `postgres://postgres@127.0.0.1:54329/postgres` as printed by `scripts/postgres.sh start`.
pub const TEST_DATABASE_URL_VAR: &str = "TALLY_TEST_DATABASE_URL";
