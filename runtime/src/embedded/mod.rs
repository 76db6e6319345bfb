//! The embedded default: a local directory for the bucket and a redb file for the tables.

pub mod bucket;
pub mod invoices;
pub mod store;

pub use bucket::LocalBucket;
pub use store::RedbStore;
