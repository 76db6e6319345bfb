//! The objects of a tenant's ledger in the bucket: commit records and state snapshots.
//!
//! Both are a small JSON part and the remembered identities packed as 16-byte keys grouped by
//! day (about 16 bytes per identity, where JSON would spend over 40):
//! `magic (4) | JSON length (u32 LE) | JSON | groups (u32 LE) | per group: day ms (i64 LE),
//! count (u32 LE), count × key (u128 LE)`.

use serde::{Deserialize, Serialize};
use tally_aggregator::{
    DedupKey, GaugeSeries, RollupDelta, RollupKey, SeriesKey, StateChanges, StateSnapshot,
};
use tally_schemas::Timestamp;

use crate::quality::QualityKey;
use crate::{Error, Result};

const COMMIT_MAGIC: &[u8; 4] = b"TLC1";
const SNAPSHOT_MAGIC: &[u8; 4] = b"TLS1";

/// Everything one commit of a tenant's ledger changes, written before the commit point so
/// that anyone can finish the commit after it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitRecord {
    /// The ledger version this commit creates.
    pub version: u64,
    /// The rollup deltas.
    pub rollups: Vec<(RollupKey, RollupDelta)>,
    /// The quality counts.
    pub quality: Vec<(QualityKey, u64)>,
    /// `(staging key, final key)` of every object to publish.
    pub objects: Vec<(String, String)>,
    /// The core's state changes.
    pub changes: StateChanges,
}

#[derive(Serialize, Deserialize)]
struct CommitJson {
    version: u64,
    rollups: Vec<(RollupKey, RollupDelta)>,
    quality: Vec<(QualityKey, u64)>,
    objects: Vec<(String, String)>,
    horizon: Timestamp,
    forget_before: Timestamp,
    distinct_added: Vec<(RollupKey, String)>,
    gauges: Vec<(SeriesKey, GaugeSeries)>,
}

#[derive(Serialize, Deserialize)]
struct SnapshotJson {
    horizon: Option<Timestamp>,
    distinct: Vec<(RollupKey, String)>,
    gauges: Vec<(SeriesKey, GaugeSeries)>,
}

/// Encodes a commit record.
pub fn encode_commit(record: &CommitRecord) -> Vec<u8> {
    let changes = &record.changes;
    let json = CommitJson {
        version: record.version,
        rollups: record.rollups.clone(),
        quality: record.quality.clone(),
        objects: record.objects.clone(),
        horizon: changes.horizon,
        forget_before: changes.forget_before,
        distinct_added: changes.distinct_added.clone(),
        gauges: changes.gauges.clone(),
    };
    encode(COMMIT_MAGIC, &json, &changes.dedup_added)
}

/// Decodes a commit record; `key` names it in errors.
pub fn decode_commit(key: &str, bytes: &[u8]) -> Result<CommitRecord> {
    let (json, dedup_added): (CommitJson, _) = decode(COMMIT_MAGIC, key, bytes)?;
    Ok(CommitRecord {
        version: json.version,
        rollups: json.rollups,
        quality: json.quality,
        objects: json.objects,
        changes: StateChanges {
            horizon: json.horizon,
            forget_before: json.forget_before,
            dedup_added,
            distinct_added: json.distinct_added,
            gauges: json.gauges,
        },
    })
}

/// Encodes a state snapshot.
pub fn encode_snapshot(snapshot: &StateSnapshot) -> Vec<u8> {
    let json = SnapshotJson {
        horizon: snapshot.horizon,
        distinct: snapshot.distinct.clone(),
        gauges: snapshot.gauges.clone(),
    };
    encode(SNAPSHOT_MAGIC, &json, &snapshot.dedup)
}

/// Decodes a state snapshot; `key` names it in errors.
pub fn decode_snapshot(key: &str, bytes: &[u8]) -> Result<StateSnapshot> {
    let (json, dedup): (SnapshotJson, _) = decode(SNAPSHOT_MAGIC, key, bytes)?;
    Ok(StateSnapshot {
        horizon: json.horizon,
        dedup,
        distinct: json.distinct,
        gauges: json.gauges,
    })
}

fn encode(magic: &[u8; 4], json: &impl Serialize, dedup: &[(Timestamp, DedupKey)]) -> Vec<u8> {
    let json = serde_json::to_vec(json).expect("ledger objects serialize");
    let mut bytes = Vec::with_capacity(16 + json.len() + dedup.len() * 16);
    bytes.extend_from_slice(magic);
    bytes.extend_from_slice(&length(json.len()).to_le_bytes());
    bytes.extend_from_slice(&json);
    let mut groups: Vec<(Timestamp, Vec<DedupKey>)> = Vec::new();
    for (day, key) in dedup {
        match groups.last_mut() {
            Some((last, keys)) if last == day => keys.push(*key),
            _ => groups.push((*day, vec![*key])),
        }
    }
    bytes.extend_from_slice(&length(groups.len()).to_le_bytes());
    for (day, keys) in groups {
        bytes.extend_from_slice(&day.as_millis().to_le_bytes());
        bytes.extend_from_slice(&length(keys.len()).to_le_bytes());
        for key in keys {
            bytes.extend_from_slice(&key.0.to_le_bytes());
        }
    }
    bytes
}

fn length(length: usize) -> u32 {
    u32::try_from(length).expect("ledger objects hold fewer than 2^32 items")
}

fn decode<T: for<'de> Deserialize<'de>>(
    magic: &[u8; 4],
    key: &str,
    bytes: &[u8],
) -> Result<(T, Vec<(Timestamp, DedupKey)>)> {
    let corrupt = |problem: &str| Error::Corrupt(format!("ledger object {key}: {problem}"));
    let mut reader = Reader { bytes };
    if reader.take(4).ok_or_else(|| corrupt("truncated"))? != magic {
        return Err(corrupt("unknown format"));
    }
    let json_length = reader.u32().ok_or_else(|| corrupt("truncated"))?;
    let json = reader
        .take(json_length as usize)
        .ok_or_else(|| corrupt("truncated"))?;
    let json = serde_json::from_slice(json).map_err(|error| corrupt(&error.to_string()))?;
    let mut dedup = Vec::new();
    let groups = reader.u32().ok_or_else(|| corrupt("truncated"))?;
    for _ in 0..groups {
        let day = reader.i64().ok_or_else(|| corrupt("truncated"))?;
        let count = reader.u32().ok_or_else(|| corrupt("truncated"))?;
        for _ in 0..count {
            let key = reader.u128().ok_or_else(|| corrupt("truncated"))?;
            dedup.push((Timestamp::from_millis(day), DedupKey(key)));
        }
    }
    if !reader.bytes.is_empty() {
        return Err(corrupt("trailing bytes"));
    }
    Ok((json, dedup))
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, length: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.bytes.split_at_checked(length)?;
        self.bytes = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn u128(&mut self) -> Option<u128> {
        Some(u128::from_le_bytes(self.take(16)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use tally_aggregator::Granularity;
    use tally_schemas::TenantId;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    fn rollup_key() -> RollupKey {
        RollupKey {
            tenant_id: TenantId::parse("acme").unwrap(),
            metric: "active_users".into(),
            granularity: Granularity::Day,
            window_start: at("2026-11-26T00:00:00Z"),
        }
    }

    #[test]
    fn commit_records_round_trip_with_identities_grouped_by_day() {
        let day = at("2026-11-26T00:00:00Z");
        let next = at("2026-11-27T00:00:00Z");
        let record = CommitRecord {
            version: 7,
            rollups: vec![(
                rollup_key(),
                RollupDelta {
                    add: Decimal::new(15, 1),
                    events: 2,
                    ..RollupDelta::default()
                },
            )],
            quality: vec![(("acme".into(), day, "accepted".into()), 2)],
            objects: vec![("_staging/a".into(), "tenants/acme/x.parquet".into())],
            changes: StateChanges {
                horizon: at("2026-11-27T01:00:00Z"),
                forget_before: at("2026-10-23T01:00:00Z"),
                dedup_added: vec![
                    (day, DedupKey(1)),
                    (day, DedupKey(u128::MAX)),
                    (next, DedupKey(3)),
                ],
                distinct_added: vec![(rollup_key(), "u-1".into())],
                gauges: vec![],
            },
        };
        let bytes = encode_commit(&record);
        assert_eq!(decode_commit("k", &bytes).unwrap(), record);
        // Two day groups: 4 + 8 + 4 bytes of group headers... and 16 bytes per identity.
        let json_length = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        assert_eq!(bytes.len(), 8 + json_length + 4 + 2 * 12 + 3 * 16);
    }

    #[test]
    fn snapshots_round_trip() {
        let snapshot = StateSnapshot {
            horizon: Some(at("2026-11-26T10:00:00Z")),
            dedup: vec![(at("2026-11-26T00:00:00Z"), DedupKey(42))],
            distinct: vec![(rollup_key(), "u-9".into())],
            gauges: vec![],
        };
        assert_eq!(
            decode_snapshot("k", &encode_snapshot(&snapshot)).unwrap(),
            snapshot
        );
    }

    #[test]
    fn damaged_objects_are_refused_with_their_key() {
        let bytes = encode_snapshot(&StateSnapshot::default());
        let truncated = decode_snapshot("_ledger/acme/s", &bytes[..bytes.len() - 1]).unwrap_err();
        assert_eq!(
            truncated.to_string(),
            "corrupt stored data: ledger object _ledger/acme/s: truncated"
        );
        let wrong = decode_commit("c", &bytes).unwrap_err();
        assert!(wrong.to_string().contains("unknown format"), "{wrong}");
    }
}
