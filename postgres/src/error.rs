//! The one error type of this crate: each error names the operation that failed, and says whether
//! retrying the operation can help ([`Error::is_transient`]).

use std::error::Error as _;
use std::io;

use tokio_postgres::error::SqlState;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an operation on PostgreSQL failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The connection URL could not be parsed. The URL is not repeated: it may hold a password.
    #[error("{operation}: the {purpose} connection URL is invalid: {}", describe(.source))]
    InvalidUrl {
        /// The operation that was given the URL.
        operation: &'static str,
        /// Whose URL it is: `admin` or `app`.
        purpose: &'static str,
        /// What the parser said.
        #[source]
        source: tokio_postgres::Error,
    },

    /// The connection URL's `sslmode` is none of libpq's: `disable`, `allow`, `prefer`,
    /// `require`, `verify-ca`, `verify-full`.
    #[error(
        "{operation}: the {purpose} connection URL has sslmode={value:?}; use disable, allow, \
         prefer, require, verify-ca or verify-full"
    )]
    InvalidSslMode {
        /// The operation that was given the URL.
        operation: &'static str,
        /// Whose URL it is: `admin` or `app`.
        purpose: &'static str,
        /// The value given.
        value: String,
    },

    /// TLS cannot be set up as the URL asks: `require` or `verify-ca` without a CA bundle, a CA
    /// bundle that cannot be read, or no trust root at all. Nothing was sent to the server.
    #[error("{operation}: cannot set up TLS for the {purpose} connection: {reason}")]
    TlsSetup {
        /// The operation that was given the URL.
        operation: &'static str,
        /// Whose URL it is: `admin` or `app`.
        purpose: &'static str,
        /// What is missing or wrong, naming the file or variable to fix.
        reason: String,
    },

    /// The server's TLS certificate was not trusted: it does not lead to a root of the CA bundle
    /// (or, with `verify-full`, of the system), it has expired, or with `verify-full` it does
    /// not name the URL's host.
    #[error(
        "{operation}: the server's TLS certificate was rejected: {}; the CA bundle \
         ({ca_file_var} or sslrootcert in the URL) must hold the CA that signed it, and with \
         sslmode=verify-full the URL's host must be one of its names",
        describe(.source),
        ca_file_var = crate::DATABASE_CA_FILE_VAR
    )]
    CertificateRejected {
        /// The operation that needed the connection, with the tenant it was for.
        operation: String,
        /// The handshake error, which says what rustls found wrong.
        #[source]
        source: tokio_postgres::Error,
    },

    /// No connection could be opened.
    #[error("{operation}: could not connect to PostgreSQL: {}", describe(.source))]
    Connect {
        /// The operation that needed the connection, with the tenant it was for.
        operation: String,
        /// What the client or server said.
        #[source]
        source: tokio_postgres::Error,
    },

    /// A statement failed.
    #[error("{operation}: {step} failed: {}", describe(.source))]
    Statement {
        /// The operation that ran the statement, with the tenant it was for.
        operation: String,
        /// Which statement of the operation failed, e.g. `create database`.
        step: &'static str,
        /// What the client or server said.
        #[source]
        source: tokio_postgres::Error,
    },

    /// A role name given by the caller breaks the rule of [`crate::RoleName::parse`].
    #[error("role name {name:?} is invalid: {reason}")]
    InvalidRoleName {
        /// The name given.
        name: String,
        /// Which part of the rule it breaks.
        reason: &'static str,
    },

    /// A login from elsewhere (a secret) cannot be put into the admin URL.
    #[error("cannot sign the database URL in with the secret's login: {reason}")]
    Login {
        /// What is wrong with the URL or the login; never the password.
        reason: &'static str,
    },

    /// The admin login kept outside the URL (a secret) could not be read.
    #[error("cannot read the database login: {reason}")]
    LoginUnreadable {
        /// What the source said.
        reason: String,
    },

    /// The application role's password cannot be used.
    #[error("the password of role {role} is invalid: {reason}")]
    InvalidPassword {
        /// The login role the password is for.
        role: String,
        /// Which part of the rule it breaks.
        reason: &'static str,
    },

    /// A role the application connects as would bypass row-level security, or the tenant tables
    /// are set up in a way that defeats it. Nothing is changed; an operator has to look.
    #[error("{operation}: refusing an unsafe setup: {reason}")]
    UnsafeSetup {
        /// The operation that found it, with the tenant it was for.
        operation: String,
        /// What is unsafe and how to fix it.
        reason: String,
    },
}

impl Error {
    /// Whether retrying the same operation later can succeed: the connection was refused,
    /// reset, closed or timed out, or the server reported a serialization failure (40001), a
    /// deadlock (40P01), too many connections (53300), a lock it could not get within the lock
    /// timeout (55P03), or that it is starting up or shutting down (57P03, 57P01).
    ///
    /// Every operation of this crate is idempotent, so a transient error can always be retried.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Connect { source, .. } | Error::Statement { source, .. } => {
                is_transient_postgres_error(source)
            }
            Error::InvalidUrl { .. }
            | Error::InvalidSslMode { .. }
            | Error::TlsSetup { .. }
            | Error::CertificateRejected { .. }
            | Error::InvalidRoleName { .. }
            | Error::InvalidPassword { .. }
            | Error::Login { .. }
            | Error::UnsafeSetup { .. } => false,
            // The secret store throttled, or could not be reached: the next attempt reads again.
            Error::LoginUnreadable { .. } => true,
        }
    }

    /// Whether the server refused the login itself (SQLSTATE 28P01 or 28000): a wrong password,
    /// or one rotated since it was read.
    pub fn is_login_refused(&self) -> bool {
        self.sql_state().is_some_and(|state| {
            *state == SqlState::INVALID_PASSWORD
                || *state == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        })
    }

    /// The SQLSTATE code the server answered with, if the server answered.
    pub fn sql_state(&self) -> Option<&SqlState> {
        match self {
            Error::Connect { source, .. } | Error::Statement { source, .. } => source.code(),
            _ => None,
        }
    }
}

/// A `map_err` adapter for the failure of `step` of `operation`.
pub(crate) fn failed<'a>(
    operation: &'a str,
    step: &'static str,
) -> impl FnOnce(tokio_postgres::Error) -> Error + 'a {
    move |source| Error::Statement {
        operation: operation.to_owned(),
        step,
        source,
    }
}

/// SQLSTATEs after which the same statement can succeed when tried again.
const TRANSIENT_SQL_STATES: [SqlState; 6] = [
    SqlState::T_R_SERIALIZATION_FAILURE,
    SqlState::T_R_DEADLOCK_DETECTED,
    SqlState::TOO_MANY_CONNECTIONS,
    SqlState::LOCK_NOT_AVAILABLE,
    SqlState::CANNOT_CONNECT_NOW,
    SqlState::ADMIN_SHUTDOWN,
];

/// Socket errors that say the server was unreachable or went away, not that the request was bad.
const TRANSIENT_IO_ERRORS: [io::ErrorKind; 7] = [
    io::ErrorKind::ConnectionRefused,
    io::ErrorKind::ConnectionReset,
    io::ErrorKind::ConnectionAborted,
    io::ErrorKind::BrokenPipe,
    io::ErrorKind::NotConnected,
    io::ErrorKind::TimedOut,
    io::ErrorKind::UnexpectedEof,
];

fn is_transient_postgres_error(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    if let Some(code) = error.code() {
        return TRANSIENT_SQL_STATES.contains(code);
    }
    let mut cause = error.source();
    while let Some(current) = cause {
        if let Some(io_error) = current.downcast_ref::<io::Error>() {
            return TRANSIENT_IO_ERRORS.contains(&io_error.kind());
        }
        cause = current.source();
    }
    false
}

/// Whether `error` is a TLS handshake that failed because rustls did not trust the server's
/// certificate. tokio-rustls reports rustls's error inside an `io::Error`, whose `source()` skips
/// it, so each `io::Error` of the chain is looked into.
pub(crate) fn is_certificate_rejection(error: &tokio_postgres::Error) -> bool {
    let mut cause = error.source();
    while let Some(current) = cause {
        let rustls_error = current.downcast_ref::<rustls::Error>().or_else(|| {
            current
                .downcast_ref::<io::Error>()
                .and_then(io::Error::get_ref)
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(rustls::Error::InvalidCertificate(_)) = rustls_error {
            return true;
        }
        cause = current.source();
    }
    false
}

/// The client's own message, which for server errors is only "db error", followed by the server's
/// message and SQLSTATE, or the underlying socket error.
fn describe(error: &tokio_postgres::Error) -> String {
    if let Some(database_error) = error.as_db_error() {
        return format!(
            "{database_error} (SQLSTATE {})",
            database_error.code().code()
        );
    }
    match error.source() {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_bad_url_when_parsed_then_the_error_is_permanent_and_names_the_operation() {
        let source = "postgres://host:notaport/db"
            .parse::<tokio_postgres::Config>()
            .unwrap_err();
        let error = Error::InvalidUrl {
            operation: "SharedDatabase::connect",
            purpose: "admin",
            source,
        };
        assert!(!error.is_transient());
        assert!(error.sql_state().is_none());
        let message = error.to_string();
        assert!(message.starts_with("SharedDatabase::connect: the admin connection URL"));
        assert!(!message.contains("notaport"), "{message}");
    }

    #[test]
    fn input_errors_are_permanent() {
        let error = Error::InvalidRoleName {
            name: "Bad".into(),
            reason: "upper case",
        };
        assert!(!error.is_transient());
        let error = Error::UnsafeSetup {
            operation: "bootstrap".into(),
            reason: "role is a superuser".into(),
        };
        assert!(!error.is_transient());
        assert_eq!(
            error.to_string(),
            "bootstrap: refusing an unsafe setup: role is a superuser"
        );
    }

    #[tokio::test]
    async fn given_nothing_listens_when_connecting_then_the_error_is_transient() {
        // Port 1 on loopback: nothing listens there on any machine this runs on.
        let source = "postgres://nobody@127.0.0.1:1/none"
            .parse::<tokio_postgres::Config>()
            .unwrap()
            .connect(tokio_postgres::NoTls)
            .await
            .err()
            .expect("nothing listens on port 1");
        let error = Error::Connect {
            operation: "AppSession::connect(acme)".into(),
            source,
        };
        assert!(error.is_transient(), "{error}");
        assert!(
            error
                .to_string()
                .starts_with("AppSession::connect(acme): could not connect"),
            "{error}"
        );
    }
}
