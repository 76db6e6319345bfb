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
//! Connections are encrypted when the URL's `sslmode` asks for it, and then always verify the
//! server's certificate (rustls, with the aws-lc-rs provider):
//!
//! | `sslmode`                            | TLS      | roots trusted               | host checked |
//! |--------------------------------------|----------|-----------------------------|--------------|
//! | absent, `disable`, `allow`, `prefer` | no       |                             |              |
//! | `require`, `verify-ca`               | required | the CA bundle               | no           |
//! | `verify-full`                        | required | the CA bundle, the system's | yes          |
//!
//! The CA bundle is the PEM file named by `sslrootcert` in the URL, or else by
//! [`DATABASE_CA_FILE_VAR`]. Note that `require` is stricter than libpq's (it is `verify-ca`),
//! and that `prefer` does not encrypt; `src/tls/mod.rs` explains why. For RDS
//! (`rds.force_ssl=1`), set [`DATABASE_CA_FILE_VAR`] to RDS's `global-bundle.pem` and use
//! `sslmode=verify-full` (or `require`). RDS Proxy, which needs care with session settings, is
//! out of scope for now.

#![warn(missing_docs)]

mod connect;
mod error;
mod inspect;
mod login;
mod naming;
mod provision;
mod roles;
mod schema;
mod session;
mod shared;
mod tls;

pub use connect::{APPLICATION_NAME, CONNECT_TIMEOUT_SECS};
pub use error::{Error, Result};
pub use inspect::{Policy, SchemaReport, TableSecurity};
pub use login::with_login;
pub use naming::{
    MAX_IDENTIFIER_BYTES, TENANT_IDENTIFIER_PREFIX, quote_identifier, quote_literal,
    tenant_identifier,
};
pub use provision::{Login, LoginFuture, LoginSource, PostgresDatabase};
pub use roles::{
    AppRoles, DEFAULT_APP_GROUP_ROLE, DEFAULT_APP_LOGIN_ROLE, MAX_PASSWORD_BYTES, RoleName,
};
pub use schema::{POLICY_NAME, REGISTRY_TABLE, TENANT_SETTING, TENANT_TABLES};
pub use session::AppSession;
pub use shared::SharedDatabase;
pub use tls::DATABASE_CA_FILE_VAR;

/// The environment variable holding the admin URL of the PostgreSQL server the integration tests
/// (`tests/rls.rs`, run with `--include-ignored`) use, e.g.
/// `postgres://postgres@127.0.0.1:54329/postgres` as printed by `scripts/postgres.sh start`.
pub const TEST_DATABASE_URL_VAR: &str = "TALLY_TEST_DATABASE_URL";

/// The environment variable holding the path of the CA certificate that signed the test server's
/// certificate, for the TLS integration tests (`tests/tls.rs`, run with `--include-ignored`):
/// `DIR/ca.crt` after `scripts/postgres.sh start DIR`. A relative path is taken from the
/// workspace's root.
pub const TEST_DATABASE_CA_FILE_VAR: &str = "TALLY_TEST_DATABASE_CA_FILE";
