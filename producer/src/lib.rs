//! Tally's producer for Rust services: usage events checked against the event contract, then put
//! on the Kinesis usage stream with PutRecords, keyed by tenant, retried, and never dropped
//! silently. It needs only the event contract (`tally-schemas`) and the Kinesis SDK, not Tally's
//! runtime.
//!
//! [`Producer::send`] takes encoded events (one JSON object each, v1 or CloudEvents) and
//! [`Producer::send_json`] JSON values. Each event is checked with
//! [`tally_schemas::parse_event`] first: what the contract refuses is not sent (the consumer
//! would only quarantine it) and comes back with its reason. The valid ones go unchanged, with
//! their tenant id as partition key, in PutRecords calls of at most 500 records and 5 MiB;
//! records the stream refuses are retried alone, with exponential backoff and full jitter, up to
//! [`batch::MAX_ATTEMPTS`] attempts. The [`SendReport`] has one [`EventOutcome`] per event, by
//! its index in the input: sent, refused (with the contract's reason) or failed (with the
//! stream's last error; safe to send again when the event has an `event_id`).
//!
//! ```no_run
//! use serde_json::json;
//! use tally_producer::Producer;
//!
//! async fn record_usage(client: aws_sdk_kinesis::Client) {
//!     // Build once and share: it holds the client and the meter catalog.
//!     let producer = Producer::new(client, "usage-metering");
//!     let report = producer
//!         .send_json(&[json!({
//!             "tenant_id": "tenant_123",
//!             "metric": "api_calls",
//!             "timestamp": "2026-11-26T14:02:03.123456",
//!             "event_id": "req-7f3a",
//!             "dimensions": {"user_id": "u-42"},
//!         })])
//!         .await;
//!     for (index, rejection) in report.refused() {
//!         eprintln!("event {index} refused, {}: {}", rejection.reason, rejection.detail);
//!     }
//!     for (index, error) in report.failed() {
//!         eprintln!("event {index} not sent, retry it later: {error}");
//!     }
//! }
//! ```
//!
//! Events that name an operator's meters need that catalog:
//! `Producer::new(..).with_catalog(MeterCatalog::with_operator_meters(..)?)`.
//! Blocking callers (such as `tally emit`) use [`batch::send_all`] with a [`batch::RecordSink`].

pub mod batch;
pub mod kinesis;
pub mod producer;

pub use aws_sdk_kinesis;
pub use batch::{AsyncRecordSink, CallOutcome, PutReport, Record, RecordSink};
pub use kinesis::KinesisSink;
pub use producer::{EventOutcome, Producer, SendReport};
pub use tally_schemas::{MeterCatalog, RejectReason, Rejection};
