//! Tally's event contract: what a usage event is, which events are refused and why, the meter
//! catalog, and the layout of what finance reads. Pure data and validation: no IO.
//!
//! Everything a producer in another language needs is mirrored in
//! `schemas/usage-event.v1.schema.json`, which a test keeps in step with these types.

pub mod catalog;
pub mod event;
pub mod layout;
pub mod limits;
pub mod reject;
pub mod table;
pub mod tenant;
pub mod time;

pub use catalog::{Aggregation, CatalogError, Meter, MeterCatalog};
pub use event::{Identity, UsageEvent, parse_event};
pub use reject::{RejectReason, Rejection};
pub use tenant::TenantId;
pub use time::Timestamp;
