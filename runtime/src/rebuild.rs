//! Replay: the rollups recomputed from the events files alone. Every stored event runs through
//! a fresh core at the processing time that first accepted it (its `received_at`), then the
//! gauges are integrated up to the store's horizon, so the result equals what the live pipeline
//! committed. What differs is reported and, unless asked not to, written back.

use std::collections::{BTreeMap, BTreeSet};

use tally_aggregator::{Aggregator, AggregatorConfig, Delivery, Origin, Rollup, RollupKey};
use tally_schemas::{Identity, MeterCatalog, TenantId, Timestamp, UsageEvent};

use crate::parquet::DecodedEvent;
use crate::ports::{Bucket, MeteringStore, RollupFilter};
use crate::truth::{EventsObject, read_object};
use crate::{Error, Result};

/// One rollup whose stored value differs from the rebuilt one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RollupChange {
    /// Which rollup.
    pub key: RollupKey,
    /// What the store held; `None` when it had no such rollup.
    pub stored: Option<Rollup>,
    /// What the events give; `None` when they give no such rollup.
    pub rebuilt: Option<Rollup>,
}

/// What a rebuild found.
#[derive(Clone, Debug, Default)]
pub struct RebuildReport {
    /// Events replayed.
    pub events: u64,
    /// Rollups compared.
    pub rollups: usize,
    /// Every rollup that differs.
    pub changes: Vec<RollupChange>,
}

/// Recomputes the rollups of every tenant (or of `tenant`) from the events files, compares them
/// with the store's and, when `apply`, replaces the store's with them.
///
/// Fails when an events object cannot be read, a stored event no longer passes the contract
/// (an unknown meter), or storage fails.
pub fn rebuild<B: Bucket, S: MeteringStore>(
    bucket: &B,
    store: &mut S,
    catalog: &MeterCatalog,
    max_event_age_days: i64,
    tenant: Option<&TenantId>,
    apply: bool,
) -> Result<RebuildReport> {
    let prefix = tenant.map_or_else(
        || "tenants/".to_owned(),
        |tenant| format!("tenants/{tenant}/"),
    );
    let mut rows: Vec<(Timestamp, String, usize, DecodedEvent)> = Vec::new();
    for key in bucket.list(&prefix)? {
        let Some(object) = EventsObject::parse(&key) else {
            continue;
        };
        for (index, row) in read_object(bucket, &object)?.into_iter().enumerate() {
            rows.push((row.received_at, object.key.clone(), index, row));
        }
    }
    // Replaying in the order the pipeline accepted the events reproduces its horizons.
    rows.sort_by(|left, right| (left.0, &left.1, left.2).cmp(&(right.0, &right.1, right.2)));
    let config = AggregatorConfig::new([0; 16])
        .with_max_event_age_days(max_event_age_days)
        .map_err(|error| Error::Invalid(error.to_string()))?;
    let mut aggregator = Aggregator::new(config, catalog.clone());
    let mut rebuilt: BTreeMap<RollupKey, Rollup> = BTreeMap::new();
    let mut report = RebuildReport {
        events: rows.len() as u64,
        ..RebuildReport::default()
    };
    let mut start = 0;
    while start < rows.len() {
        let now = rows[start].0;
        let end = start + rows[start..].iter().take_while(|row| row.0 == now).count();
        replay(
            &mut aggregator,
            &mut rebuilt,
            catalog,
            now,
            &rows[start..end],
        )?;
        start = end;
    }
    if let Some(horizon) = store.load_state()?.horizon {
        let output = aggregator.process(horizon, Vec::new());
        for (key, delta) in &output.rollups {
            rebuilt.entry(key.clone()).or_default().apply(delta);
        }
    }
    let filter = RollupFilter {
        tenant_id: tenant.map(|tenant| tenant.to_string()),
        ..RollupFilter::default()
    };
    let stored: BTreeMap<RollupKey, Rollup> = store.rollups(&filter)?.into_iter().collect();
    let keys: BTreeSet<&RollupKey> = stored.keys().chain(rebuilt.keys()).collect();
    report.rollups = keys.len();
    for key in keys {
        let (before, after) = (stored.get(key), rebuilt.get(key));
        if before != after {
            report.changes.push(RollupChange {
                key: key.clone(),
                stored: before.cloned(),
                rebuilt: after.cloned(),
            });
        }
    }
    if apply && !report.changes.is_empty() {
        store.replace_rollups(tenant.map(TenantId::as_str), &rebuilt)?;
    }
    Ok(report)
}

/// Runs the events accepted at `now` through the core; each is its own identity (its position
/// in its object), because the files hold every accepted event exactly once.
fn replay(
    aggregator: &mut Aggregator,
    rebuilt: &mut BTreeMap<RollupKey, Rollup>,
    catalog: &MeterCatalog,
    now: Timestamp,
    rows: &[(Timestamp, String, usize, DecodedEvent)],
) -> Result<()> {
    let positions: Vec<String> = rows.iter().map(|row| row.2.to_string()).collect();
    let mut deliveries = Vec::with_capacity(rows.len());
    for ((_, key, _, row), position) in rows.iter().zip(&positions) {
        if catalog.get(&row.metric).is_none() {
            return Err(Error::Invalid(format!(
                "{key} holds an event of meter {:?}, which the catalog no longer has",
                row.metric
            )));
        }
        let event = UsageEvent {
            tenant_id: TenantId::parse(&row.tenant_id)
                .map_err(|error| Error::Corrupt(format!("{key}: {error}")))?,
            metric: row.metric.clone(),
            value: row.value,
            event_time: row.event_time,
            identity: Identity::Position,
            dimensions: row.dimensions.clone(),
        };
        deliveries.push(Delivery {
            event,
            origin: Origin {
                source: key,
                position,
            },
        });
    }
    let output = aggregator.process(now, deliveries);
    if let Some(refused) = output.refused.first() {
        return Err(Error::Corrupt(format!(
            "a stored event is refused on replay: {}",
            refused.rejection.detail
        )));
    }
    for (key, delta) in &output.rollups {
        rebuilt.entry(key.clone()).or_default().apply(delta);
    }
    Ok(())
}
