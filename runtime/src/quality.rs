//! Data quality per tenant and processing day: how many lines were accepted, late, dropped as
//! duplicates and refused (by reason). Counted with every batch and committed with it, so the
//! figures are exact under crashes and re-runs like the rollups.

use std::collections::BTreeMap;

use serde::Serialize;
use tally_schemas::{RejectReason, TenantId, Timestamp};

/// The tenant of lines whose tenant cannot be read (not JSON, no valid tenant id).
pub const UNATTRIBUTED: &str = "";

/// What happened to one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Outcome {
    /// Counted.
    Accepted,
    /// Counted, and arrived after its day closed (also counted as accepted).
    Late,
    /// Dropped as already counted.
    Duplicate,
    /// Refused and quarantined.
    Rejected(RejectReason),
}

impl Outcome {
    /// The stored name: `accepted`, `late`, `duplicate` or `rejected:{reason}`.
    pub fn name(self) -> String {
        match self {
            Outcome::Accepted => "accepted".to_owned(),
            Outcome::Late => "late".to_owned(),
            Outcome::Duplicate => "duplicate".to_owned(),
            Outcome::Rejected(reason) => format!("rejected:{reason}"),
        }
    }
}

/// `(tenant or UNATTRIBUTED, processing day, outcome name)`.
pub type QualityKey = (String, Timestamp, String);

/// Counts by key, as one batch adds them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QualityCounts {
    counts: BTreeMap<QualityKey, u64>,
}

impl QualityCounts {
    /// Counts one line of `tenant` processed at `now`.
    pub fn add(&mut self, tenant: Option<&TenantId>, now: Timestamp, outcome: Outcome) {
        let tenant = tenant.map_or(UNATTRIBUTED, TenantId::as_str).to_owned();
        *self
            .counts
            .entry((tenant, now.floor_day(), outcome.name()))
            .or_default() += 1;
    }

    /// The counts, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&QualityKey, &u64)> {
        self.counts.iter()
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

/// The tenant a refused line names, if it names a valid one: `tenant_id`, or a CloudEvent's
/// `subject`. Only refused lines pay for this second, lenient parse.
pub fn tenant_of_line(raw: &[u8]) -> Option<TenantId> {
    let value: serde_json::Value = serde_json::from_slice(raw).ok()?;
    let field = if value.get("specversion").is_some() {
        "subject"
    } else {
        "tenant_id"
    };
    TenantId::parse(value.get(field)?.as_str()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_lines_are_attributed_when_their_tenant_is_readable() {
        let tenant = |raw: &str| tenant_of_line(raw.as_bytes()).map(|tenant| tenant.to_string());
        assert_eq!(
            tenant(r#"{"tenant_id":"acme","value":-1}"#).as_deref(),
            Some("acme")
        );
        assert_eq!(
            tenant(r#"{"specversion":"0.3","subject":"beta"}"#).as_deref(),
            Some("beta")
        );
        assert_eq!(tenant(r#"{"tenant_id":"../x"}"#), None);
        assert_eq!(tenant("not json"), None);
    }

    #[test]
    fn counts_add_up_per_tenant_day_and_outcome() {
        let mut counts = QualityCounts::default();
        let acme = TenantId::parse("acme").unwrap();
        let now = Timestamp::parse("2026-11-26T15:00:00Z").unwrap();
        counts.add(Some(&acme), now, Outcome::Accepted);
        counts.add(Some(&acme), now, Outcome::Accepted);
        counts.add(None, now, Outcome::Rejected(RejectReason::InvalidJson));
        let all: Vec<_> = counts
            .iter()
            .map(|((tenant, _, outcome), count)| (tenant.as_str(), outcome.as_str(), *count))
            .collect();
        assert_eq!(
            all,
            [("", "rejected:invalid_json", 1), ("acme", "accepted", 2)]
        );
    }
}
