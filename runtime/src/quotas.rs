//! Quotas: when a tenant's usage of a meter in a billing period passes the quota its record
//! sets, a quota event is recorded once for that tenant, meter and period, under the tenant's
//! prefix (`tenants/{tenant_id}/quota-events/{YYYY-MM}/{meter}.json`), and handed to an alert
//! hook. Usage is the meter's month rollup, aggregated as the meter aggregates (a sum, a peak,
//! a distinct count); it is never cut off: a quota informs, billing still counts every event.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tally_aggregator::Granularity;
use tally_schemas::layout::quota_events_prefix;
use tally_schemas::time::rfc3339;
use tally_schemas::{TenantId, Timestamp};
use tally_tenancy::Tenant;

use crate::invoicing::period_name;
use crate::ports::{Bucket, RollupFilter, RollupReader};
use crate::{Error, Result};

/// A tenant's usage of a meter passed its quota in a period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaExceeded {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The meter.
    pub metric: String,
    /// The billing period, `YYYY-MM`.
    pub period: String,
    /// The quota.
    pub quota: Decimal,
    /// The usage when the breach was seen.
    pub usage: Decimal,
    /// When it was seen.
    #[serde(with = "rfc3339")]
    pub at: Timestamp,
}

/// Where quota events go besides the bucket: a log line, a metric, a notification.
pub trait QuotaAlert {
    /// Called once per new quota event.
    fn alert(&self, event: &QuotaExceeded);
}

/// The key of a tenant's quota event for `metric` in `period`.
fn event_key(tenant_id: &TenantId, period: &str, metric: &str) -> String {
    format!("{}{period}/{metric}.json", quota_events_prefix(tenant_id))
}

/// Checks the month rollups of `tenants` in the period of `now` and the one before (late usage
/// can still push a closed month over) against their quotas; records and alerts each breach not
/// recorded before, and returns the new ones.
///
/// Fails when the rollups or the bucket cannot be read or written.
pub fn check_quotas<B: Bucket, R: RollupReader + ?Sized>(
    bucket: &B,
    rollups: &R,
    tenants: &[Tenant],
    now: Timestamp,
    alert: &dyn QuotaAlert,
) -> Result<Vec<QuotaExceeded>> {
    let previous_month = now.floor_month().plus_millis(-1).floor_month();
    let mut new_events = Vec::new();
    for tenant in tenants.iter().filter(|tenant| !tenant.quotas.is_empty()) {
        let filter = RollupFilter {
            tenant_id: Some(tenant.tenant_id.to_string()),
            granularity: Some(Granularity::Month),
            from: Some(previous_month),
            ..RollupFilter::default()
        };
        for (key, rollup) in rollups.read_rollups(&filter)? {
            let Some(quota) = tenant.quotas.get(&key.metric) else {
                continue;
            };
            if rollup.amount <= *quota {
                continue;
            }
            let period = period_name(key.window_start);
            let object = event_key(&tenant.tenant_id, &period, &key.metric);
            if bucket.get(&object)?.is_some() {
                continue;
            }
            let event = QuotaExceeded {
                tenant_id: tenant.tenant_id.clone(),
                metric: key.metric.clone(),
                period,
                quota: *quota,
                usage: rollup.amount,
                at: now,
            };
            bucket.put(
                &object,
                &serde_json::to_vec_pretty(&event).expect("serializes"),
            )?;
            alert.alert(&event);
            new_events.push(event);
        }
    }
    Ok(new_events)
}

/// A tenant's recorded quota events, oldest period first.
///
/// Fails when the bucket cannot be read or holds an object that is not a quota event.
pub fn quota_events<B: Bucket>(bucket: &B, tenant_id: &TenantId) -> Result<Vec<QuotaExceeded>> {
    let mut keys = bucket.list(&quota_events_prefix(tenant_id))?;
    keys.sort();
    let mut events = Vec::new();
    for key in keys {
        if let Some(bytes) = bucket.get(&key)? {
            let event = serde_json::from_slice(&bytes)
                .map_err(|error| Error::Invalid(format!("{key} is not a quota event: {error}")))?;
            events.push(event);
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    use tally_aggregator::{Rollup, RollupKey};

    use super::*;
    use crate::memory::MemoryBucket;

    struct Recorder(RefCell<Vec<QuotaExceeded>>);

    impl QuotaAlert for Recorder {
        fn alert(&self, event: &QuotaExceeded) {
            self.0.borrow_mut().push(event.clone());
        }
    }

    struct Rollups(Vec<(RollupKey, Rollup)>);

    impl RollupReader for Rollups {
        fn read_rollups(&self, filter: &RollupFilter) -> Result<Vec<(RollupKey, Rollup)>> {
            Ok(self
                .0
                .iter()
                .filter(|(key, _)| filter.matches(key))
                .cloned()
                .collect())
        }
    }

    fn tenant(quota: &str) -> Tenant {
        let request: tally_tenancy::NewTenant = serde_json::from_value(serde_json::json!({
            "tenant_id": "acme", "name": "Acme", "tier": "standard", "admin_email": "a@b.io",
            "quotas": { "api_calls": quota }
        }))
        .expect("request");
        request
            .into_tenant(
                &tally_schemas::MeterCatalog::defaults(),
                Timestamp::from_millis(0),
            )
            .expect("tenant")
    }

    fn month(amount: i64) -> Rollups {
        let key = RollupKey {
            tenant_id: TenantId::parse("acme").expect("id"),
            metric: "api_calls".into(),
            granularity: Granularity::Month,
            window_start: Timestamp::parse("2026-11-01T00:00:00Z").expect("time"),
        };
        let rollup = Rollup {
            amount: Decimal::from(amount),
            events: 1,
            latest_event_time: None,
        };
        Rollups(vec![(key, rollup)])
    }

    #[test]
    fn given_usage_over_quota_then_one_event_is_recorded_and_alerted_once() {
        let bucket = MemoryBucket::default();
        let alerts = Recorder(RefCell::new(Vec::new()));
        let now = Timestamp::parse("2026-11-26T12:00:00Z").expect("time");
        let tenants = [tenant("100")];
        let under = check_quotas(&bucket, &month(100), &tenants, now, &alerts).expect("checked");
        assert!(under.is_empty(), "at the quota is not past it");
        let over = check_quotas(&bucket, &month(101), &tenants, now, &alerts).expect("checked");
        assert_eq!(over.len(), 1);
        assert_eq!(
            (over[0].period.as_str(), over[0].usage),
            ("2026-11", Decimal::from(101))
        );
        let again = check_quotas(&bucket, &month(150), &tenants, now, &alerts).expect("checked");
        assert!(again.is_empty(), "recorded once per period");
        assert_eq!(alerts.0.borrow().len(), 1);
        let stored = quota_events(&bucket, &tenants[0].tenant_id).expect("read");
        assert_eq!(stored, over);
        let _: BTreeMap<(), ()> = BTreeMap::new();
    }
}
