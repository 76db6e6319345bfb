//! TLS against the real server `scripts/postgres.sh start DIR` runs: TLS on, with a certificate
//! for 127.0.0.1 and localhost signed by a throwaway CA (`DIR/ca.crt`), and connections without
//! TLS still accepted. The tests that need the server are `#[ignore]`d; run them with
//! `TALLY_TEST_DATABASE_URL=<superuser URL> TALLY_TEST_DATABASE_CA_FILE=DIR/ca.crt
//! cargo test -p tally-postgres -- --include-ignored`.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use tally_postgres::{
    AppRoles, AppSession, DATABASE_CA_FILE_VAR, Error, RoleName, SharedDatabase,
    TEST_DATABASE_CA_FILE_VAR, TEST_DATABASE_URL_VAR,
};
use tally_schemas::TenantId;
use tokio_postgres::{Client, Config, NoTls};

/// A CA certificate that signed nothing (its key was thrown away): the wrong CA bundle.
const UNRELATED_CA_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/unrelated-ca.crt");

/// A host name in no certificate, which resolves nowhere (RFC 2606); the tests connect to it
/// through `hostaddr`.
const HOST_NOT_IN_CERTIFICATE: &str = "tally-test.invalid";

/// Distinguishes the roles of one test process; the process id distinguishes processes.
static NEXT_ROLE: AtomicU32 = AtomicU32::new(0);

fn server_url() -> String {
    std::env::var(TEST_DATABASE_URL_VAR).unwrap_or_else(|_| {
        panic!(
            "{TEST_DATABASE_URL_VAR} is not set: run `scripts/postgres.sh start DIR` and set it \
             to the URL printed"
        )
    })
}

fn server() -> Config {
    server_url().parse().expect("the test URL parses")
}

/// The CA that signed the test server's certificate. A relative path is taken from the
/// workspace's root, where `scripts/postgres.sh` runs, since cargo runs tests in the package's
/// directory.
fn server_ca_file() -> String {
    let value = std::env::var(TEST_DATABASE_CA_FILE_VAR).unwrap_or_else(|_| {
        panic!(
            "{TEST_DATABASE_CA_FILE_VAR} is not set: set it to DIR/ca.crt of \
             `scripts/postgres.sh start DIR` (which needs openssl to make it)"
        )
    });
    let workspace_root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the package is in the workspace");
    let path = workspace_root.join(&value);
    assert!(
        path.is_file(),
        "{TEST_DATABASE_CA_FILE_VAR}={value} is no file: did scripts/postgres.sh find openssl?"
    );
    path.into_os_string()
        .into_string()
        .expect("the CA path is UTF-8")
}

/// A `key=value` connection string to the test server as `user`, addressed as `host` (and, when
/// `address` is given, reached at that IP address), with `tls` appended verbatim.
fn connection_string(host: &str, address: Option<&str>, user: &str, tls: &str) -> String {
    let server = server();
    let quote = |value: &str| format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"));
    let port = server.get_ports().first().copied().unwrap_or(5432);
    let dbname = server.get_dbname().unwrap_or("postgres");
    let mut text = format!(
        "host={} port={port} user={} dbname={}",
        quote(host),
        quote(user),
        quote(dbname)
    );
    if let Some(address) = address {
        text.push_str(&format!(" hostaddr={address}"));
    }
    text.push(' ');
    text.push_str(tls);
    text
}

/// `sslmode=MODE` and `sslrootcert=CA_FILE` in `key=value` form.
fn tls(mode: &str, ca_file: &str) -> String {
    format!(
        "sslmode={mode} sslrootcert='{}'",
        ca_file.replace('\\', "\\\\").replace('\'', "\\'")
    )
}

/// Application roles for [`SharedDatabase::connect`], which only keeps them: nothing is created.
fn unused_roles() -> AppRoles {
    AppRoles::new(
        RoleName::parse("tally_tls_test_app").unwrap(),
        RoleName::parse("tally_tls_test_login").unwrap(),
        "unused",
    )
    .unwrap()
}

async fn raw_admin() -> Client {
    let (client, connection) = server().connect(NoTls).await.expect("connect as admin");
    tokio::spawn(connection);
    client
}

/// A LOGIN role without privileges, for [`AppSession`] (which refuses superusers); dropped on
/// drop, even when the test fails.
struct LoginRole {
    name: String,
}

impl LoginRole {
    async fn create() -> LoginRole {
        let number = NEXT_ROLE.fetch_add(1, Ordering::Relaxed);
        let name = format!("tally_tls_test_{}_{number}", std::process::id());
        raw_admin()
            .await
            .batch_execute(&format!("CREATE ROLE \"{name}\" LOGIN"))
            .await
            .expect("create the login role");
        LoginRole { name }
    }

    /// Opens an [`AppSession`] as this role with `tls` settings, reaching the server as `host`.
    async fn session(&self, host: &str, address: Option<&str>, tls: &str) -> AppSession {
        let url = connection_string(host, address, &self.name, tls);
        AppSession::connect(&url, &TenantId::parse("acme").unwrap())
            .await
            .unwrap_or_else(|error| panic!("connect with {tls}: {error}"))
    }
}

impl Drop for LoginRole {
    fn drop(&mut self) {
        // Drop cannot await, and the test's runtime cannot be blocked on from inside: drop the
        // role on a thread with a runtime of its own.
        let statement = format!("DROP ROLE IF EXISTS \"{}\"", self.name);
        let cleaner = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async move {
                    if let Err(error) = raw_admin().await.batch_execute(&statement).await {
                        eprintln!("cleanup: {statement}: {error:?}");
                    }
                });
        });
        cleaner.join().expect("cleanup thread");
    }
}

/// Whether the session's own connection is encrypted, as the server sees it.
async fn is_encrypted(session: &AppSession) -> bool {
    session
        .client()
        .query_one(
            "SELECT ssl FROM pg_catalog.pg_stat_ssl WHERE pid = pg_catalog.pg_backend_pid()",
            &[],
        )
        .await
        .expect("read pg_stat_ssl")
        .get(0)
}

/// Asserts that connecting as admin with `url` fails because the certificate is not trusted,
/// with a message that says what rustls found (`reason`) and where to fix it.
async fn assert_certificate_rejected(url: &str, reason: &str) {
    let error = SharedDatabase::connect(url, unused_roles())
        .await
        .err()
        .expect("the server's certificate should be rejected");
    assert!(
        matches!(error, Error::CertificateRejected { .. }),
        "{error:?}"
    );
    assert!(!error.is_transient(), "{error}");
    let message = error.to_string();
    assert!(
        message.starts_with(
            "SharedDatabase::connect: the server's TLS certificate was rejected: error performing \
             TLS handshake: invalid peer certificate"
        ),
        "{message}"
    );
    assert!(message.contains(reason), "{message}");
    assert!(message.contains(DATABASE_CA_FILE_VAR), "{message}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL with TLS: set TALLY_TEST_DATABASE_URL and TALLY_TEST_DATABASE_CA_FILE"]
async fn given_verify_full_and_the_servers_ca_then_connections_are_encrypted() {
    let ca_file = server_ca_file();
    // The URL form, as the infrastructure writes it, addressed by IP (the certificate's IP name).
    let encoded_ca_file = utf8_percent_encode(&ca_file, NON_ALPHANUMERIC);
    let admin_url = format!(
        "{}?sslmode=verify-full&sslrootcert={encoded_ca_file}",
        server_url()
    );
    SharedDatabase::connect(&admin_url, unused_roles())
        .await
        .expect("the admin connects with verify-full");

    // The key=value form, addressed by DNS name (the certificate's other name).
    let role = LoginRole::create().await;
    let session = role
        .session("localhost", None, &tls("verify-full", &ca_file))
        .await;
    assert!(is_encrypted(&session).await);
    let session = role
        .session("127.0.0.1", None, &tls("verify-ca", &ca_file))
        .await;
    assert!(is_encrypted(&session).await);
}

#[tokio::test]
#[ignore = "needs PostgreSQL with TLS: set TALLY_TEST_DATABASE_URL and TALLY_TEST_DATABASE_CA_FILE"]
async fn given_a_ca_that_did_not_sign_the_servers_certificate_then_the_connection_is_refused() {
    server_ca_file();
    for mode in ["verify-full", "verify-ca", "require"] {
        let url = connection_string(
            "127.0.0.1",
            None,
            server().get_user().unwrap_or("postgres"),
            &tls(mode, UNRELATED_CA_FILE),
        );
        assert_certificate_rejected(&url, "UnknownIssuer").await;
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL with TLS: set TALLY_TEST_DATABASE_URL and TALLY_TEST_DATABASE_CA_FILE"]
async fn given_a_host_name_not_in_the_certificate_then_verify_full_refuses_and_require_accepts() {
    let ca_file = server_ca_file();
    let admin = server().get_user().unwrap_or("postgres").to_owned();
    let url = connection_string(
        HOST_NOT_IN_CERTIFICATE,
        Some("127.0.0.1"),
        &admin,
        &tls("verify-full", &ca_file),
    );
    assert_certificate_rejected(
        &url,
        "certificate not valid for name \"tally-test.invalid\"",
    )
    .await;

    // require is verify-ca: the chain is checked, the name is not.
    let role = LoginRole::create().await;
    let session = role
        .session(
            HOST_NOT_IN_CERTIFICATE,
            Some("127.0.0.1"),
            &tls("require", &ca_file),
        )
        .await;
    assert!(is_encrypted(&session).await);
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TALLY_TEST_DATABASE_URL (scripts/postgres.sh start DIR)"]
async fn given_no_sslmode_or_prefer_then_the_connection_stays_unencrypted() {
    let role = LoginRole::create().await;
    for settings in ["", "sslmode=prefer", "sslmode=disable"] {
        let session = role.session("127.0.0.1", None, settings).await;
        assert!(!is_encrypted(&session).await, "{settings:?}");
    }
}
