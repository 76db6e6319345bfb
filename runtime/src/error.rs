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
}

/// The runtime's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
