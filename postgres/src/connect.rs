//! Opening connections: every connection has a connect timeout and an application name, and its
//! I/O runs on a spawned task that ends when the client is dropped.

use std::time::Duration;

use tokio_postgres::{Client, Config, NoTls, Transaction};

use crate::error::{Error, Result, failed};

/// How long to wait for a TCP connection when the URL sets no `connect_timeout`.
pub const CONNECT_TIMEOUT_SECS: u64 = 10;

/// The `application_name` set when the URL sets none, so operators can find our sessions in
/// `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "tally-postgres";

/// How long an administrative statement may wait for a lock before failing with 55P03 (transient),
/// so that a long application transaction delays a bootstrap instead of queueing every other
/// query of the table behind the bootstrap's lock.
pub(crate) const ADMIN_LOCK_TIMEOUT_SECS: u64 = 5;

/// How long one administrative statement may run.
pub(crate) const ADMIN_STATEMENT_TIMEOUT_SECS: u64 = 120;

/// Parses a `postgres://` URL (or a `key=value` connection string) and fills in our defaults.
pub(crate) fn parse_url(
    url: &str,
    operation: &'static str,
    purpose: &'static str,
) -> Result<Config> {
    let mut config: Config = url.parse().map_err(|source| Error::InvalidUrl {
        operation,
        purpose,
        source,
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(CONNECT_TIMEOUT_SECS));
    }
    if config.get_application_name().is_none() {
        config.application_name(APPLICATION_NAME);
    }
    Ok(config)
}

/// Opens an unencrypted connection and drives it on a spawned task.
///
/// Errors of the connection itself surface on the client as "connection closed", which
/// [`Error::is_transient`] treats as transient.
pub(crate) async fn open(config: &Config, operation: &str) -> Result<Client> {
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(|source| Error::Connect {
            operation: operation.to_owned(),
            source,
        })?;
    tokio::spawn(async move {
        // The error, if any, is reported to the client's next request; nothing else to do here.
        let _ = connection.await;
    });
    Ok(client)
}

/// Opens an administrative connection with lock and statement timeouts set.
pub(crate) async fn open_admin(config: &Config, operation: &str) -> Result<Client> {
    let client = open(config, operation).await?;
    let limits = format!(
        "SET lock_timeout = '{ADMIN_LOCK_TIMEOUT_SECS}s'; \
         SET statement_timeout = '{ADMIN_STATEMENT_TIMEOUT_SECS}s'"
    );
    client
        .batch_execute(&limits)
        .await
        .map_err(failed(operation, "set session timeouts"))?;
    Ok(client)
}

/// The advisory lock every administrative transaction of this crate takes first. Advisory locks
/// are per database; all our admin work runs over connections to the shared database (roles) or
/// to one dedicated database (its schema), so this serialises the changes that could race: role
/// creation and alteration ("tuple concurrently updated"), and `CREATE TABLE IF NOT EXISTS`.
const ADMIN_LOCK_KEY: i64 = 0x7461_6c6c_795f_7067; // "tally_pg"

/// Begins a transaction holding the admin lock until it ends.
pub(crate) async fn begin_locked<'a>(
    client: &'a mut Client,
    operation: &str,
) -> Result<Transaction<'a>> {
    let transaction = client
        .transaction()
        .await
        .map_err(failed(operation, "begin"))?;
    transaction
        .execute(
            "SELECT pg_catalog.pg_advisory_xact_lock($1)",
            &[&ADMIN_LOCK_KEY],
        )
        .await
        .map_err(failed(operation, "take the admin lock"))?;
    Ok(transaction)
}
