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
