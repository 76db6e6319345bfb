//! The stream consumer: batches of Kinesis records in, exactly-once rollups and events files
//! out, for the `usage-consumer` Lambda and `tally consume`.
//!
//! DynamoDB cannot commit a batch's thousands of rollups in one transaction, so each tenant
//! has a ledger instead: a head item whose version one conditional write advances per commit,
//! and commit records in the bucket from which anyone can finish a commit. `docs/exactly-once.md`
//! gives the order of writes and why each is safe to repeat.

pub mod codec;
pub mod consumer;
pub mod faults;
pub mod tables;

use std::cmp::Ordering;
use std::fmt;

pub use consumer::{BatchReport, ConsumerConfig, StreamConsumer, TenantFigures};
pub use tables::{LedgerTables, MemoryTables, TenantHead};

use crate::{Error, Result};

/// Where a user record sits in its shard: the Kinesis sequence number and, for records the
/// Kinesis Producer Library packed together, the index inside the record (0 otherwise).
///
/// Ordered as the shard delivers them. Written `{sequence}.{sub}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Position {
    sequence: String,
    sub: u32,
}

impl Position {
    /// The position of user record `sub` of the record with `sequence`.
    ///
    /// Fails unless `sequence` is a decimal number without leading zeros of at most 129
    /// digits (Kinesis's rule).
    pub fn new(sequence: &str, sub: u32) -> Result<Position> {
        let digits = sequence.bytes().all(|byte| byte.is_ascii_digit());
        let canonical = sequence == "0" || !sequence.starts_with('0');
        if sequence.is_empty() || sequence.len() > 129 || !digits || !canonical {
            return Err(Error::Invalid(format!(
                "{sequence:?} is not a Kinesis sequence number"
            )));
        }
        Ok(Position {
            sequence: sequence.to_owned(),
            sub,
        })
    }

    /// Reads a position written by `Display`.
    pub fn parse(text: &str) -> Result<Position> {
        let (sequence, sub) = text
            .split_once('.')
            .ok_or_else(|| Error::Corrupt(format!("{text:?} is not a stream position")))?;
        let sub = sub
            .parse()
            .map_err(|_| Error::Corrupt(format!("{text:?} is not a stream position")))?;
        Position::new(sequence, sub)
    }

    /// The Kinesis sequence number.
    pub fn sequence(&self) -> &str {
        &self.sequence
    }
}

impl Ord for Position {
    fn cmp(&self, other: &Position) -> Ordering {
        // Canonical decimals order by length first, then digit by digit.
        (self.sequence.len(), &self.sequence, self.sub).cmp(&(
            other.sequence.len(),
            &other.sequence,
            other.sub,
        ))
    }
}

impl PartialOrd for Position {
    fn partial_cmp(&self, other: &Position) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl serde::Serialize for Position {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}.{}", self.sequence, self.sub)
    }
}

/// One user record of a shard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamRecord {
    /// Where it sits.
    pub position: Position,
    /// Its bytes: one usage event as JSON.
    pub data: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_order_numerically_beyond_128_bits() {
        let long = "49590338271490256608559692538361571095921575989136588898";
        let small = Position::new("999", 0).unwrap();
        let big = Position::new(long, 0).unwrap();
        let big_sub = Position::new(long, 2).unwrap();
        assert!(small < big && big < big_sub);
        assert_eq!(Position::parse(&big_sub.to_string()).unwrap(), big_sub);
    }

    #[test]
    fn sequence_numbers_are_canonical_decimals() {
        for bad in ["", "01", "12a", "-1"] {
            assert!(Position::new(bad, 0).is_err(), "{bad:?}");
        }
        assert!(Position::parse("12").is_err());
        assert!(Position::new("0", 0).is_ok());
    }
}
