//! Tally's pure metering core: validate against time, deduplicate, window and aggregate.
//!
//! At-least-once deliveries in, exactly-once rollup deltas out. The core is synchronous and
//! deterministic: a batch, the state and an explicit `now` go in; accepted events, refusals,
//! rollup deltas and state changes come out. It never touches a clock, a file, the network or
//! the environment; the runtime persists what it returns.

pub mod config;
pub mod dedup;
pub mod distinct;
pub mod engine;
pub mod gauge;
pub mod rollup;
pub mod state;
pub mod window;

pub use config::AggregatorConfig;
pub use dedup::{DedupKey, Origin};
pub use engine::{Accepted, Aggregator, BatchOutput, Delivery, Refused};
pub use gauge::{GaugeSeries, SeriesKey};
pub use rollup::{Rollup, RollupDelta, RollupKey};
pub use state::{StateChanges, StateSnapshot};
pub use window::Granularity;
