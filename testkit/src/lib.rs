//! Test support shared by Tally's crates: the naive reference that the streaming core and the
//! whole pipeline are held against.
//!
//! The reference is written for obviousness, not speed: it keeps every accepted event, finds
//! windows with `chrono` rather than Tally's own calendar code, and integrates gauges window by
//! window over all samples. It shares only the event parser with the code under test.

pub mod reference;

pub use reference::{ReferenceOutcome, ReferenceRun, RollupRow, reference};
