//! Tally's ports and adapters, and the pipeline that wires them to the pure core.
//!
//! The embedded default keeps the bucket in a local directory and the tables in a redb
//! database, so the whole pipeline runs in one process with no server. The in-memory adapters
//! serve tests; both are held to one contract test (`tests/contract.rs`).

pub(crate) mod batch;
pub mod clock;
pub mod contract;
pub mod control;
pub mod embedded;
pub mod env;
pub mod error;
pub mod invoice_parquet;
pub mod invoices;
pub mod invoicing;
pub mod kpl;
pub mod lines;
pub mod memory;
pub mod parquet;
pub mod pipeline;
pub mod ports;
pub mod quality;
pub mod quarantine;
pub mod quotas;
pub mod rebuild;
pub mod registry;
pub mod stream;
pub mod truth;

pub use error::{Error, Result};
