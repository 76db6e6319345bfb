//! What the pipeline and the stream consumer do alike with the core's output for one batch:
//! count the outcomes, quarantine the refusals and encode the accepted events as Parquet.

use std::collections::BTreeMap;

use tally_aggregator::{Accepted, BatchOutput};
use tally_schemas::layout::events_object_key;
use tally_schemas::{RejectReason, TenantId, Timestamp};

use crate::Result;
use crate::parquet::{EventRow, encode_events};
use crate::quality::{Outcome, QualityCounts};
use crate::quarantine::QuarantineRecord;

/// How many deliveries of a batch ended which way.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Outcomes {
    pub accepted: u64,
    pub late: u64,
    pub duplicates: u64,
    pub rejected: BTreeMap<RejectReason, u64>,
}

/// The deliveries the core was given, by index: tenant, position and raw record.
pub(crate) struct Delivered<'a> {
    pub tenants: &'a [TenantId],
    pub positions: &'a [String],
    pub raw: &'a [&'a [u8]],
}

/// Counts `output` in `quality` and moves its refusals, raw, into `quarantine`.
pub(crate) fn account(
    output: &mut BatchOutput,
    delivered: &Delivered<'_>,
    source: &str,
    now: Timestamp,
    quality: &mut QualityCounts,
    quarantine: &mut Vec<QuarantineRecord>,
) -> Outcomes {
    let mut outcomes = Outcomes::default();
    for accepted in &output.accepted {
        quality.add(Some(&accepted.event.tenant_id), now, Outcome::Accepted);
        outcomes.accepted += 1;
        if accepted.late {
            quality.add(Some(&accepted.event.tenant_id), now, Outcome::Late);
            outcomes.late += 1;
        }
    }
    for index in &output.duplicates {
        quality.add(Some(&delivered.tenants[*index]), now, Outcome::Duplicate);
        outcomes.duplicates += 1;
    }
    for refused in std::mem::take(&mut output.refused) {
        let reason = refused.rejection.reason;
        quality.add(
            Some(&delivered.tenants[refused.index]),
            now,
            Outcome::Rejected(reason),
        );
        *outcomes.rejected.entry(reason).or_default() += 1;
        quarantine.push(QuarantineRecord::new(
            refused.rejection,
            source,
            delivered.positions[refused.index].clone(),
            now,
            delivered.raw[refused.index],
            false,
        ));
    }
    outcomes
}

/// Encodes `accepted` as one Parquet object per tenant and UTC day of event time, named
/// `object_name` in its partition; returns `(final key, bytes)` pairs.
pub(crate) fn events_objects(
    accepted: &[Accepted],
    now: Timestamp,
    object_name: &str,
) -> Result<Vec<(String, Vec<u8>)>> {
    let mut partitions: BTreeMap<(&TenantId, Timestamp), Vec<EventRow<'_>>> = BTreeMap::new();
    for accepted in accepted {
        let event = &accepted.event;
        partitions
            .entry((&event.tenant_id, event.event_time.floor_day()))
            .or_default()
            .push(EventRow {
                event,
                received_at: now,
            });
    }
    partitions
        .into_iter()
        .map(|((tenant_id, day), rows)| {
            Ok((
                events_object_key(tenant_id, day, object_name),
                encode_events(&rows)?,
            ))
        })
        .collect()
}
