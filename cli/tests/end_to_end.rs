//! Acceptance: the pipeline, end to end through the `tally` binary, agrees with the naive
//! reference on a corpus with duplicates (adjacent and re-sent in a later run), every accepted
//! timestamp form, CloudEvents, gauges, distinct users, operator meters and every rejection
//! reason; values exact to the last decimal and exactly one Parquet row per accepted event.

mod common;

use std::collections::BTreeSet;

use common::*;
use tally_schemas::RejectReason;

const SAMPLE_DAYS: usize = 5;

#[test]
fn ingest_agrees_with_the_reference_and_reingesting_changes_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    let data_dir = scratch.path().join("data");
    let inputs = corpus(scratch.path(), SAMPLE_DAYS);
    let expected = expected(&inputs);

    // WHEN every input is ingested in turn, committing every 700 lines
    let summaries: Vec<_> = inputs
        .iter()
        .map(|input| ingest(&data_dir, input, &["--commit-every", "700"]))
        .collect();

    // THEN the counts, the rollups and the Parquet rows are the reference's
    assert_eq!(
        total(&summaries, "accepted") as usize,
        expected.accepted.len()
    );
    assert_eq!(
        total(&summaries, "duplicates") as usize,
        expected.duplicates
    );
    assert_eq!(rejected(&summaries), expected.rejected);
    let reasons: BTreeSet<&str> = expected.rejected.keys().map(String::as_str).collect();
    // Every tenant of the corpus is registered and active; the registry's two reasons are
    // covered by `commands.rs`.
    let registry = [RejectReason::UnknownTenant, RejectReason::TenantSuspended];
    for reason in RejectReason::ALL
        .into_iter()
        .filter(|reason| !registry.contains(reason))
    {
        assert!(
            reasons.contains(reason.as_str()),
            "the corpus lacks a {reason} line"
        );
    }
    let usage = usage(&data_dir);
    assert_eq!(usage.len(), expected.rollups.len());
    for (key, value) in &expected.rollups {
        assert_eq!(usage.get(key), Some(value), "rollup {key:?}");
    }
    let rows = parquet_rows(&data_dir);
    assert_same_rows(&row_keys(&rows), &expected_row_keys(&expected));

    // WHEN everything is ingested again, in the same order
    let again: Vec<_> = inputs
        .iter()
        .map(|input| ingest(&data_dir, input, &[]))
        .collect();

    // THEN nothing is counted or written twice
    assert_eq!(total(&again, "accepted"), 0);
    assert_eq!(common::usage(&data_dir), usage);
    assert_eq!(parquet_rows(&data_dir).len(), rows.len());
}

#[test]
fn hand_worked_values_of_the_fixtures() {
    let scratch = tempfile::tempdir().unwrap();
    let data_dir = scratch.path().join("data");
    let inputs = corpus(scratch.path(), 0);
    for input in &inputs {
        ingest(&data_dir, input, &[]);
    }
    let usage = usage(&data_dir);
    let value = |tenant: &str, metric: &str, granularity: &'static str, start: &str| {
        let start = tally_schemas::Timestamp::parse(start).unwrap().as_millis();
        usage[&(tenant.to_owned(), metric.to_owned(), granularity, start)]
            .0
            .to_string()
    };
    // api_calls on 26 Nov: 1 + 2.5 + 1 + 7 + 3 + 4 (CloudEvents from two sources) + 1 after the
    // oversized line + 1 re-sent with another value, not counted = 19.5
    assert_eq!(
        value("tenant_123", "api_calls", "day", "2026-11-26T00:00:00Z"),
        "19.5"
    );
    // Late call at 23:59:59.999 on the 25th lands in the 25th's last hour.
    assert_eq!(
        value("tenant_123", "api_calls", "hour", "2026-11-25T23:00:00Z"),
        "11"
    );
    // Storage on the 25th: 100 GB from 00:00, 120 from 12:00, 90 from 18:00 (late sample):
    // 12 h × 100 + 6 h × 120 + 6 h × 90 = 2460 GB-hours.
    assert_eq!(
        value("tenant_123", "storage_gb", "day", "2026-11-25T00:00:00Z"),
        "2460"
    );
    // Distinct users: u-1, u-2, u-3 on the 26th; u-1 and u-9 on the 27th; 4 in November.
    assert_eq!(
        value("tenant_123", "active_users", "day", "2026-11-26T00:00:00Z"),
        "3"
    );
    assert_eq!(
        value(
            "tenant_123",
            "active_users",
            "month",
            "2026-11-01T00:00:00Z"
        ),
        "4"
    );
    // Operator meters. max: 25 on the 26th, then 30 on the 27th. latest: in the 02:00 hour,
    // 8 (at 02:45) is replaced by 6 (at 02:50, a later event time arriving in run 2), while 3
    // (at 01:00, arriving last) replaces nothing in its own hour's window: the latest event
    // time wins, not the latest arrival.
    assert_eq!(
        value(
            "beta-2",
            "peak_connections",
            "month",
            "2026-11-01T00:00:00Z"
        ),
        "30"
    );
    assert_eq!(
        value("beta-2", "plan_seats", "hour", "2026-11-26T02:00:00Z"),
        "6"
    );
    assert_eq!(
        value("beta-2", "plan_seats", "hour", "2026-11-26T01:00:00Z"),
        "3"
    );
    assert_eq!(
        value("beta-2", "plan_seats", "month", "2026-11-01T00:00:00Z"),
        "6"
    );
    assert_eq!(
        value("beta-2", "deploys", "day", "2026-11-26T00:00:00Z"),
        "2"
    );
    assert_eq!(
        value("beta-2", "devices", "month", "2026-11-01T00:00:00Z"),
        "2"
    );
}
