//! The contract every `Bucket` adapter keeps (in memory, local directory, S3), as one suite
//! each adapter's tests call on an empty bucket. It lives in the library so that adapter crates
//! hold themselves to exactly the same checks; it panics on the first broken rule.

use crate::ports::Bucket;

/// Every check of the bucket contract, on an empty bucket.
pub fn bucket_contract<B: Bucket>(bucket: &B) {
    put_then_get_returns_the_bytes(bucket);
    list_is_sorted_and_filtered_by_prefix(bucket);
    delete_removes_and_is_idempotent(bucket);
    promote_moves_and_is_safe_to_repeat(bucket);
}

fn put_then_get_returns_the_bytes<B: Bucket>(bucket: &B) {
    // GIVEN an empty bucket THEN a missing object reads as None and nothing is listed.
    assert_eq!(bucket.get("put/missing").unwrap(), None);
    assert_eq!(bucket.list("").unwrap(), Vec::<String>::new());
    // WHEN objects are written (binary, empty) THEN they read back byte for byte.
    let binary: Vec<u8> = (0..=255).collect();
    bucket.put("put/binary.bin", &binary).unwrap();
    bucket.put("put/empty", b"").unwrap();
    assert_eq!(bucket.get("put/binary.bin").unwrap(), Some(binary));
    assert_eq!(bucket.get("put/empty").unwrap(), Some(Vec::new()));
    // WHEN an object is written again THEN the new bytes replace the old ones whole.
    bucket.put("put/empty", b"second version").unwrap();
    assert_eq!(
        bucket.get("put/empty").unwrap(),
        Some(b"second version".to_vec())
    );
    for key in ["put/binary.bin", "put/empty"] {
        bucket.delete(key).unwrap();
    }
}

fn list_is_sorted_and_filtered_by_prefix<B: Bucket>(bucket: &B) {
    // GIVEN objects written out of order, some sharing a string prefix but not a folder.
    let keys = [
        "list/b/2",
        "list/a/z",
        "list/b/10",
        "list/bc",
        "list/a/y/deep",
        "other/x",
    ];
    for key in keys {
        bucket.put(key, key.as_bytes()).unwrap();
    }
    // THEN every listing is sorted and holds exactly the keys starting with the prefix.
    let all = bucket.list("").unwrap();
    let mut sorted = keys.map(str::to_owned).to_vec();
    sorted.sort();
    assert_eq!(all, sorted, "listing everything");
    assert_eq!(
        bucket.list("list/a/").unwrap(),
        ["list/a/y/deep", "list/a/z"]
    );
    assert_eq!(bucket.list("list/b/").unwrap(), ["list/b/10", "list/b/2"]);
    assert_eq!(
        bucket.list("list/b").unwrap(),
        ["list/b/10", "list/b/2", "list/bc"],
        "a prefix is a string prefix, not a folder"
    );
    assert_eq!(bucket.list("nothing/").unwrap(), Vec::<String>::new());
    // AND a folder that holds objects is not itself an object.
    assert_eq!(
        bucket.get("list/a").unwrap(),
        None,
        "a folder reads as missing"
    );
    bucket.delete("list/a").unwrap();
    assert_eq!(
        bucket.list("list/a/").unwrap().len(),
        2,
        "deleting a folder's name deletes nothing"
    );
    // AND a key below an object names no object.
    assert_eq!(
        bucket.get("list/bc/below").unwrap(),
        None,
        "a key below an object is missing"
    );
    bucket.delete("list/bc/below").unwrap();
    assert_eq!(bucket.get("list/bc").unwrap(), Some(b"list/bc".to_vec()));
    for key in keys {
        bucket.delete(key).unwrap();
    }
    assert_eq!(bucket.list("").unwrap(), Vec::<String>::new());
}

fn delete_removes_and_is_idempotent<B: Bucket>(bucket: &B) {
    // GIVEN an object
    bucket.put("delete/me", b"x").unwrap();
    bucket.put("delete/keep", b"y").unwrap();
    // WHEN it is deleted THEN it is gone and its neighbour stays.
    bucket.delete("delete/me").unwrap();
    assert_eq!(bucket.get("delete/me").unwrap(), None);
    assert_eq!(bucket.list("delete/").unwrap(), ["delete/keep"]);
    // WHEN it is deleted again, or a key that never existed is deleted THEN that is not an error.
    bucket.delete("delete/me").unwrap();
    bucket.delete("delete/never/existed").unwrap();
    assert_eq!(bucket.get("delete/keep").unwrap(), Some(b"y".to_vec()));
    bucket.delete("delete/keep").unwrap();
}

fn promote_moves_and_is_safe_to_repeat<B: Bucket>(bucket: &B) {
    let staged = "_staging/0000000001/tenants/t/usage/events/dt=2026-10-01/part-1.parquet";
    let final_key = "tenants/t/usage/events/dt=2026-10-01/part-1.parquet";
    // GIVEN a staged object
    bucket.put(staged, b"rows").unwrap();
    // WHEN it is promoted THEN it is at the final key and no longer staged.
    bucket.promote(staged, final_key).unwrap();
    assert_eq!(bucket.get(final_key).unwrap(), Some(b"rows".to_vec()));
    assert_eq!(bucket.get(staged).unwrap(), None);
    assert_eq!(bucket.list("_staging/").unwrap(), Vec::<String>::new());
    // WHEN the promotion is repeated (recovery after a crash) THEN it succeeds and the object
    // stays at the final key.
    bucket.promote(staged, final_key).unwrap();
    bucket.promote(staged, final_key).unwrap();
    assert_eq!(bucket.get(final_key).unwrap(), Some(b"rows".to_vec()));
    assert_eq!(bucket.list("").unwrap(), [final_key]);
    // WHEN a staged object is promoted over an existing final object THEN the staged bytes win.
    bucket.put(staged, b"newer rows").unwrap();
    bucket.promote(staged, final_key).unwrap();
    assert_eq!(bucket.get(final_key).unwrap(), Some(b"newer rows".to_vec()));
    assert_eq!(bucket.get(staged).unwrap(), None);
    // WHEN neither the source nor the target exists THEN promoting is an error, not a silent loss.
    assert!(bucket.promote("_staging/none/x", "promote/none/x").is_err());
    assert_eq!(bucket.get("promote/none/x").unwrap(), None);
    bucket.delete(final_key).unwrap();
    assert_eq!(bucket.list("").unwrap(), Vec::<String>::new());
}

/// Every check of the ledger tables contract, on empty tables.
pub fn ledger_tables_contract<T: crate::stream::LedgerTables>(tables: &T) {
    heads_move_only_from_the_version_read(tables);
    rollups_apply_once_per_version(tables);
    quality_counts_apply_once_per_version(tables);
    settings_are_set_once(tables);
}

fn tenant(name: &str) -> tally_schemas::TenantId {
    tally_schemas::TenantId::parse(name).expect("contract tenants are valid")
}

fn instant(text: &str) -> tally_schemas::Timestamp {
    tally_schemas::Timestamp::parse(text).expect("contract instants are valid")
}

fn heads_move_only_from_the_version_read<T: crate::stream::LedgerTables>(tables: &T) {
    use crate::stream::TenantHead;
    let acme = tenant("acme");
    // GIVEN no ledger THEN there is no head and no tenant.
    assert_eq!(tables.head(&acme).unwrap(), None);
    assert!(tables.tenants().unwrap().is_empty());
    // WHEN two writers both create version 1 THEN only the first succeeds.
    let mut first = TenantHead {
        version: 1,
        pending: Some("_ledger/acme/commit-1".into()),
        log: vec!["_ledger/acme/commit-1".into()],
        ..TenantHead::default()
    };
    first
        .seen
        .insert("shardId-000000000000".into(), "49590.0".into());
    let second = TenantHead {
        version: 1,
        ..TenantHead::default()
    };
    assert!(tables.swap_head(&acme, 0, &first).unwrap());
    assert!(!tables.swap_head(&acme, 0, &second).unwrap());
    assert_eq!(tables.head(&acme).unwrap(), Some(first.clone()));
    // WHEN a writer holding a stale version tries to move it THEN nothing changes.
    let stale = TenantHead {
        version: 2,
        ..TenantHead::default()
    };
    assert!(!tables.swap_head(&acme, 2, &stale).unwrap());
    // WHEN the holder of version 1 clears its pending commit in place THEN it is stored.
    let cleared = TenantHead {
        pending: None,
        ..first.clone()
    };
    assert!(tables.swap_head(&acme, 1, &cleared).unwrap());
    assert_eq!(tables.head(&acme).unwrap(), Some(cleared));
    assert!(tables.swap_head(&tenant("beta"), 0, &second).unwrap());
    assert_eq!(tables.tenants().unwrap(), [acme, tenant("beta")]);
}

fn rollups_apply_once_per_version<T: crate::stream::LedgerTables>(tables: &T) {
    use rust_decimal::Decimal;
    use tally_aggregator::{Granularity, RollupDelta, RollupKey};

    use crate::ports::RollupFilter;
    let acme = tenant("acme");
    let key = |metric: &str, granularity| RollupKey {
        tenant_id: acme.clone(),
        metric: metric.into(),
        granularity,
        window_start: instant("2026-11-26T00:00:00Z"),
    };
    let add = |amount: i64, scale: u32| RollupDelta {
        add: Decimal::new(amount, scale),
        events: 1,
        ..RollupDelta::default()
    };
    let sum = key("api_calls", Granularity::Day);
    let max = key("peak", Granularity::Day);
    let latest = key("seats", Granularity::Month);
    let peak = |value: i64| RollupDelta {
        max: Some(Decimal::from(value)),
        events: 1,
        ..RollupDelta::default()
    };
    let at_time = |time: &str, value: i64| RollupDelta {
        latest: Some((instant(time), Decimal::from(value))),
        events: 1,
        ..RollupDelta::default()
    };
    // WHEN version 1 is applied twice THEN it counts once, exactly (no float in the way).
    let version_1 = [
        (sum.clone(), add(1_000_000_000_000_000_001, 9)),
        (max.clone(), peak(7)),
        (latest.clone(), at_time("2026-11-26T10:00:00Z", 30)),
    ];
    tables.apply_rollups(&acme, 1, &version_1).unwrap();
    tables.apply_rollups(&acme, 1, &version_1).unwrap();
    // WHEN version 2 applies AND THEN version 1 comes again late THEN version 1 is ignored.
    let version_2 = [
        (sum.clone(), add(-5, 1)),
        (max.clone(), peak(3)),
        (latest.clone(), at_time("2026-11-26T09:00:00Z", 99)),
    ];
    tables.apply_rollups(&acme, 2, &version_2).unwrap();
    tables.apply_rollups(&acme, 1, &version_1).unwrap();
    let rollups = tables.rollups(&RollupFilter::default()).unwrap();
    let found = |wanted: &RollupKey| {
        rollups
            .iter()
            .find(|(key, _)| key == wanted)
            .map(|(_, rollup)| rollup.clone())
            .unwrap_or_else(|| panic!("no rollup {wanted:?}"))
    };
    assert_eq!(
        found(&sum).amount,
        Decimal::new(1_000_000_000_000_000_001, 9) - Decimal::new(5, 1)
    );
    assert_eq!(found(&sum).events, 2);
    assert_eq!(found(&max).amount, Decimal::from(7));
    assert_eq!(found(&latest).amount, Decimal::from(30));
    assert_eq!(
        found(&latest).latest_event_time,
        Some(instant("2026-11-26T10:00:00Z"))
    );
    // THEN reads are sorted by key and filtered.
    let keys: Vec<_> = rollups.iter().map(|(key, _)| key.clone()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let only = RollupFilter {
        tenant_id: Some("acme".into()),
        metric: Some("peak".into()),
        ..RollupFilter::default()
    };
    let filtered = tables.rollups(&only).unwrap();
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0].0, max);
}

fn quality_counts_apply_once_per_version<T: crate::stream::LedgerTables>(tables: &T) {
    let acme = tenant("acme");
    let day = instant("2026-11-26T00:00:00Z");
    let counts = [(("acme".to_owned(), day, "accepted".to_owned()), 5)];
    tables.apply_quality(&acme, 1, &counts).unwrap();
    tables.apply_quality(&acme, 1, &counts).unwrap();
    tables.apply_quality(&acme, 2, &counts).unwrap();
    let unattributed = [((String::new(), day, "rejected:invalid_json".to_owned()), 2)];
    tables.add_unattributed_quality(&unattributed).unwrap();
    tables.add_unattributed_quality(&unattributed).unwrap();
    assert_eq!(
        tables.quality(None, None, None).unwrap(),
        [
            ((String::new(), day, "rejected:invalid_json".to_owned()), 4),
            (("acme".to_owned(), day, "accepted".to_owned()), 10),
        ]
    );
    assert_eq!(tables.quality(Some("acme"), None, Some(day)).unwrap(), []);
}

fn settings_are_set_once<T: crate::stream::LedgerTables>(tables: &T) {
    use tally_schemas::{Aggregation, MeterCatalog};
    // WHEN two consumers offer dedup keys THEN both get the first one.
    let first = tables.dedup_key([1; 16]).unwrap();
    assert_eq!(first, [1; 16]);
    assert_eq!(tables.dedup_key([2; 16]).unwrap(), [1; 16]);
    // WHEN the meters are recorded twice THEN nothing changes; WHEN a meter is redefined THEN
    // the check fails naming it.
    let catalog = MeterCatalog::defaults();
    tables.check_meters(catalog.meters()).unwrap();
    tables.check_meters(catalog.meters()).unwrap();
    let mut changed = catalog.meters().to_vec();
    changed[0].aggregation = Aggregation::Max;
    let error = tables.check_meters(&changed).unwrap_err();
    assert!(
        error.to_string().contains(&changed[0].name),
        "the error names the meter: {error}"
    );
}
