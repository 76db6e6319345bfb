//! Opening connections: every connection has a connect timeout and an application name, is
//! encrypted when its URL's `sslmode` asks for it (see the [`crate::tls`] module), and has its I/O
//! run on a spawned task that ends when the client is dropped.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_postgres::config::SslMode as ClientSslMode;
use tokio_postgres::{Client, Config, Connection, NoTls, Transaction};

use crate::error::{Error, Result, failed, is_certificate_rejection};
use crate::tls::{self, DATABASE_CA_FILE_VAR, RustlsConnector, SslMode, take_tls_parameters};

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

/// Where to connect and how: the parsed URL, and the TLS connector when it asks for TLS.
#[derive(Clone)]
pub(crate) struct Endpoint {
    pub(crate) config: Config,
    tls: Option<RustlsConnector>,
}

impl Endpoint {
    /// The same server and settings, for database `dbname`.
    pub(crate) fn with_dbname(&self, dbname: &str) -> Endpoint {
        let mut endpoint = self.clone();
        endpoint.config.dbname(dbname);
        endpoint
    }
}

/// Parses a `postgres://` URL (or a `key=value` connection string), fills in our defaults, and
/// sets up TLS as its `sslmode` asks, with the CA bundle of `sslrootcert` or
/// [`DATABASE_CA_FILE_VAR`].
///
/// Fails when the URL does not parse, its `sslmode` is unknown, or TLS cannot be set up; no
/// connection is attempted.
pub(crate) fn parse_url(
    url: &str,
    operation: &'static str,
    purpose: &'static str,
) -> Result<Endpoint> {
    let parameters = take_tls_parameters(url);
    let mode =
        SslMode::parse(parameters.ssl_mode.as_deref()).ok_or_else(|| Error::InvalidSslMode {
            operation,
            purpose,
            value: parameters.ssl_mode.clone().unwrap_or_default(),
        })?;
    let mut config: Config = parameters
        .remainder
        .parse()
        .map_err(|source| Error::InvalidUrl {
            operation,
            purpose,
            source,
        })?;
    // tokio-postgres's default: had an `sslmode` slipped past take_tls_parameters, it would
    // show here.
    assert!(
        config.get_ssl_mode() == ClientSslMode::Prefer,
        "every sslmode is taken out of the URL before tokio-postgres parses it"
    );
    // Require makes tokio-postgres fail when the server declines TLS, instead of going on
    // unencrypted.
    config.ssl_mode(match mode {
        SslMode::Disable => ClientSslMode::Disable,
        SslMode::VerifyCa | SslMode::VerifyFull => ClientSslMode::Require,
    });
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(CONNECT_TIMEOUT_SECS));
    }
    if config.get_application_name().is_none() {
        config.application_name(APPLICATION_NAME);
    }
    let ca_file = tls::ca_file(
        parameters.root_cert.as_deref(),
        std::env::var_os(DATABASE_CA_FILE_VAR),
    );
    let tls = tls::connector(mode, ca_file.as_deref()).map_err(|reason| Error::TlsSetup {
        operation,
        purpose,
        reason,
    })?;
    Ok(Endpoint { config, tls })
}

/// Opens a connection, encrypted if the endpoint says so, and drives it on a spawned task.
///
/// Errors of the connection itself surface on the client as "connection closed", which
/// [`Error::is_transient`] treats as transient. A server certificate that is not trusted is
/// [`Error::CertificateRejected`].
pub(crate) async fn open(endpoint: &Endpoint, operation: &str) -> Result<Client> {
    let connected = match &endpoint.tls {
        None => endpoint.config.connect(NoTls).await.map(drive),
        Some(connector) => endpoint.config.connect(connector.clone()).await.map(drive),
    };
    connected.map_err(|source| {
        let operation = operation.to_owned();
        if is_certificate_rejection(&source) {
            Error::CertificateRejected { operation, source }
        } else {
            Error::Connect { operation, source }
        }
    })
}

/// Spawns the task that runs the connection's I/O, and returns its client.
fn drive<S, T>((client, connection): (Client, Connection<S, T>)) -> Client
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        // The error, if any, is reported to the client's next request; nothing else to do here.
        let _ = connection.await;
    });
    client
}

/// Opens an administrative connection with lock and statement timeouts set.
pub(crate) async fn open_admin(endpoint: &Endpoint, operation: &str) -> Result<Client> {
    let client = open(endpoint, operation).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    const OPERATION: &str = "SharedDatabase::connect";

    fn fixture_ca() -> String {
        format!("{}/tests/data/unrelated-ca.crt", env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn given_no_sslmode_then_the_connection_is_plaintext_as_before() {
        let endpoint = parse_url(
            "postgres://postgres@127.0.0.1:5432/postgres",
            OPERATION,
            "admin",
        )
        .unwrap();
        assert!(endpoint.tls.is_none());
        assert_eq!(endpoint.config.get_ssl_mode(), ClientSslMode::Disable);
        assert_eq!(
            endpoint.config.get_application_name(),
            Some(APPLICATION_NAME)
        );
    }

    #[test]
    fn given_verify_full_and_a_bundle_then_tls_is_required() {
        let url = format!(
            "host=db.example user=owner dbname=tally sslmode=verify-full sslrootcert='{}'",
            fixture_ca()
        );
        let endpoint = parse_url(&url, OPERATION, "admin").unwrap();
        assert!(endpoint.tls.is_some());
        assert_eq!(endpoint.config.get_ssl_mode(), ClientSslMode::Require);
        let dedicated = endpoint.with_dbname("tenant_db");
        assert!(dedicated.tls.is_some());
        assert_eq!(dedicated.config.get_dbname(), Some("tenant_db"));
    }

    #[test]
    fn given_an_unknown_sslmode_then_the_error_is_permanent_and_keeps_the_password_out() {
        let error = parse_url(
            "postgres://owner:hunter2@db.example/tally?sslmode=verify",
            OPERATION,
            "admin",
        )
        .err()
        .expect("verify is no sslmode");
        assert!(matches!(error, Error::InvalidSslMode { .. }), "{error:?}");
        assert!(!error.is_transient());
        let message = error.to_string();
        assert!(message.contains("sslmode=\"verify\""), "{message}");
        assert!(message.contains("verify-full"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }

    #[test]
    fn given_an_unreadable_bundle_then_tls_setup_fails_before_connecting() {
        let error = parse_url(
            "postgres://owner@db.example/tally?sslmode=require&sslrootcert=/nonexistent/ca.pem",
            OPERATION,
            "app",
        )
        .err()
        .expect("the bundle does not exist");
        assert!(matches!(error, Error::TlsSetup { .. }), "{error:?}");
        assert!(!error.is_transient());
        assert!(
            error.to_string().starts_with(
                "SharedDatabase::connect: cannot set up TLS for the app connection: cannot read \
                 the CA bundle /nonexistent/ca.pem"
            ),
            "{error}"
        );
    }

    #[test]
    fn connecting_over_tls_can_run_on_any_thread() {
        fn assert_send<T: Send>(_: &T) {}
        let url = format!(
            "host=db.example sslmode=verify-full sslrootcert='{}'",
            fixture_ca()
        );
        let endpoint = parse_url(&url, OPERATION, "admin").unwrap();
        // Futures are inert until polled: these only check the types.
        assert_send(&open(&endpoint, OPERATION));
        assert_send(&open_admin(&endpoint, OPERATION));
    }

    #[test]
    fn given_client_certificate_keywords_then_the_url_is_refused() {
        let error = parse_url(
            "host=h sslmode=disable sslcert=/client.pem",
            OPERATION,
            "admin",
        )
        .err()
        .expect("sslcert is not supported");
        assert!(matches!(error, Error::InvalidUrl { .. }), "{error:?}");
    }
}
