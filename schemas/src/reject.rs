//! Why an event is refused: a closed list of machine-readable reasons, each with the sentence a
//! producer reads to fix it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The reason an event was refused and quarantined. The list is closed: a new reason is a
/// change of the contract, documented in `docs/events.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// Not UTF-8 JSON, not an object, a field given twice, or a field of the wrong JSON type.
    InvalidJson,
    /// Larger than one Kinesis record (1 MiB).
    TooLarge,
    /// A required field (`tenant_id`, `metric`, `timestamp`, or `value` for meters without a
    /// default) is absent.
    MissingField,
    /// `tenant_id` breaks the tenant id rule.
    BadTenantId,
    /// `metric` is not a meter of the catalog.
    UnknownMetric,
    /// `value` is not a finite decimal in [0, 10^12] with at most 9 fraction digits.
    InvalidValue,
    /// `timestamp` is neither RFC 3339 nor ISO 8601 without offset.
    InvalidTimestamp,
    /// Older than the acceptance window (default 35 days) at processing time.
    TooOld,
    /// More than 5 minutes ahead of processing time.
    InFuture,
    /// A distinct-user meter without the `user_id` dimension.
    MissingUserId,
    /// A unique-count meter without the dimension it counts (other than `user_id`).
    MissingDimension,
    /// More than 16 dimensions.
    TooManyDimensions,
    /// A dimension that is not a string, has an empty or too long key, or a too long value.
    BadDimension,
    /// `event_id` is empty, longer than 128 characters, or not printable ASCII.
    BadEventId,
    /// A CloudEvent whose `specversion` is not 1.0, or whose `data` is not a JSON object.
    BadCloudEvent,
    /// A well-formed event of a tenant the registry does not have (never created, failed
    /// onboarding, or offboarded).
    UnknownTenant,
    /// A well-formed event of a suspended tenant.
    TenantSuspended,
}

impl RejectReason {
    /// Every reason, in documentation order.
    pub const ALL: [RejectReason; 17] = [
        RejectReason::InvalidJson,
        RejectReason::TooLarge,
        RejectReason::MissingField,
        RejectReason::BadTenantId,
        RejectReason::UnknownMetric,
        RejectReason::InvalidValue,
        RejectReason::InvalidTimestamp,
        RejectReason::TooOld,
        RejectReason::InFuture,
        RejectReason::MissingUserId,
        RejectReason::MissingDimension,
        RejectReason::TooManyDimensions,
        RejectReason::BadDimension,
        RejectReason::BadEventId,
        RejectReason::BadCloudEvent,
        RejectReason::UnknownTenant,
        RejectReason::TenantSuspended,
    ];

    /// The machine-readable name, as written in the quarantine.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::InvalidJson => "invalid_json",
            RejectReason::TooLarge => "too_large",
            RejectReason::MissingField => "missing_field",
            RejectReason::BadTenantId => "bad_tenant_id",
            RejectReason::UnknownMetric => "unknown_metric",
            RejectReason::InvalidValue => "invalid_value",
            RejectReason::InvalidTimestamp => "invalid_timestamp",
            RejectReason::TooOld => "too_old",
            RejectReason::InFuture => "in_future",
            RejectReason::MissingUserId => "missing_user_id",
            RejectReason::MissingDimension => "missing_dimension",
            RejectReason::TooManyDimensions => "too_many_dimensions",
            RejectReason::BadDimension => "bad_dimension",
            RejectReason::BadEventId => "bad_event_id",
            RejectReason::BadCloudEvent => "bad_cloud_event",
            RejectReason::UnknownTenant => "unknown_tenant",
            RejectReason::TenantSuspended => "tenant_suspended",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A refused event: the reason and a sentence naming the field and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// The machine-readable reason.
    pub reason: RejectReason,
    /// What a person fixes, e.g. "value -1 is negative".
    pub detail: String,
}

impl Rejection {
    /// A rejection for `reason` with the sentence `detail`.
    pub fn new(reason: RejectReason, detail: impl Into<String>) -> Rejection {
        Rejection {
            reason,
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_match_serde() {
        let mut names: Vec<&str> = RejectReason::ALL
            .iter()
            .map(|reason| reason.as_str())
            .collect();
        for reason in RejectReason::ALL {
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.as_str()));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RejectReason::ALL.len());
    }
}
