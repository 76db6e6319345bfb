//! Tally's ports and adapters, and the pipeline that wires them to the pure core.
//!
//! The embedded default keeps the bucket in a local directory and the tables in a redb
//! database, so the whole pipeline runs in one process with no server.

pub mod error;
pub mod parquet;

pub use error::{Error, Result};
