//! The one error type of the runtime.

use std::path::PathBuf;

/// What can go wrong outside the pure core: files, the embedded database, encodings.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done, e.g. "writing".
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Encoding or decoding Parquet failed.
    #[error("{context}: {source}")]
    Parquet {
        /// What was being encoded or decoded.
        context: String,
        /// The Parquet or Arrow error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The embedded database failed.
    #[error("embedded database: {context}: {source}")]
    Database {
        /// What was being done.
        context: &'static str,
        /// redb's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A remote service (S3, DynamoDB, Kinesis) refused or failed a request.
    #[error("{operation}: {detail}")]
    Remote {
        /// The request, e.g. "S3 PutObject tenants/acme/...".
        operation: String,
        /// What the service or the SDK said, with its whole chain of causes.
        detail: String,
    },
    /// A bucket key that could leave the bucket (absolute, `..`, empty parts).
    #[error("refusing bucket key {key:?}: {problem}")]
    BadKey {
        /// The key.
        key: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// A meter is defined differently from when its rollups were written.
    #[error(
        "meter {meter:?} was counted as {before} in this data directory and is now defined as \
         {after}; changing a meter would mix two aggregations in its rollups (use a new name)"
    )]
    MeterChanged {
        /// The meter.
        meter: String,
        /// Its recorded definition.
        before: String,
        /// Its definition now.
        after: String,
    },
    /// Stored data that cannot be read back.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
    /// A setting or input refused before any work.
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// Wraps a redb error with what was being done.
    pub fn database(context: &'static str) -> impl FnOnce(redb::Error) -> Error {
        move |source| Error::Database {
            context,
            source: Box::new(source),
        }
    }

    /// Wraps an IO error with the action and path.
    pub fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }
}

/// The runtime's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
