//! Exact deduplication in bounded memory: each remembered event is a 128-bit keyed hash of its
//! identity and the day it is remembered from, kept until that day leaves the acceptance window
//! (after which a re-send is refused as `too_old` and can no longer double count).
//!
//! The hash is SipHash-1-3 with a per-installation secret key, so a producer cannot craft two
//! identities that collide; between honest identities the chance of a collision among a billion
//! remembered ids is below 10^-20.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};

use siphasher::sip128::{Hasher128, SipHasher13};
use tally_schemas::time::MILLIS_PER_DAY;
use tally_schemas::{Identity, Timestamp, UsageEvent};

/// The identity of an event, hashed. Equal keys mean "the same event".
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DedupKey(pub u128);

/// Where a delivery came from: the stream (a file, a shard) and the position in it (a line
/// number, a sequence number). Deduplicates events that carry no id.
#[derive(Clone, Copy, Debug)]
pub struct Origin<'a> {
    /// The stream, e.g. a file path or a shard id.
    pub source: &'a str,
    /// The position in the stream, e.g. a line number or a sequence number.
    pub position: &'a str,
}

/// Hashes identities with the installation's secret key.
#[derive(Clone, Debug)]
pub struct DedupHasher {
    key: [u8; 16],
}

/// A byte that never occurs in UTF-8, so the joined parts of an identity cannot be confused.
const SEPARATOR: u8 = 0xff;

impl DedupHasher {
    /// A hasher with the secret `key`; the key must stay the same for the life of the state.
    pub fn new(key: [u8; 16]) -> DedupHasher {
        DedupHasher { key }
    }

    /// The key of an event: tenant plus event id, CloudEvents source plus id, or for events
    /// without an id, their origin.
    pub fn key(&self, event: &UsageEvent, origin: Origin<'_>) -> DedupKey {
        let mut hasher = SipHasher13::new_with_key(&self.key);
        let mut part = |bytes: &[u8]| {
            hasher.write(bytes);
            hasher.write_u8(SEPARATOR);
        };
        part(event.tenant_id.as_str().as_bytes());
        match &event.identity {
            Identity::EventId(id) => {
                part(b"id");
                part(id.as_bytes());
            }
            Identity::CloudEvent { source, id } => {
                part(b"ce");
                part(source.as_bytes());
                part(id.as_bytes());
            }
            Identity::Position => {
                part(b"pos");
                part(origin.source.as_bytes());
                part(origin.position.as_bytes());
            }
        }
        DedupKey(hasher.finish128().as_u128())
    }
}

/// A hasher for keys that are already uniform hashes: it keeps their low 64 bits.
#[derive(Default)]
pub struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes.iter().take(8) {
            self.0 = (self.0 << 8) | u64::from(*byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// A dedup key stored with 4-byte alignment: with its 4-byte day a table slot is 20 bytes,
/// where a `u128` (16-byte aligned) would pad it to 32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PackedKey([u32; 4]);

impl From<DedupKey> for PackedKey {
    fn from(key: DedupKey) -> PackedKey {
        let value = key.0;
        PackedKey([
            value as u32,
            (value >> 32) as u32,
            (value >> 64) as u32,
            (value >> 96) as u32,
        ])
    }
}

impl From<PackedKey> for DedupKey {
    fn from(key: PackedKey) -> DedupKey {
        let [a, b, c, d] = key.0.map(u128::from);
        DedupKey(a | (b << 32) | (c << 64) | (d << 96))
    }
}

impl std::hash::Hash for PackedKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The key is already a uniform hash: its low 64 bits are the table hash.
        state.write_u64(u64::from(self.0[0]) | (u64::from(self.0[1]) << 32));
    }
}

type KeyMap = HashMap<PackedKey, i32, BuildHasherDefault<PassThroughHasher>>;

/// The remembered identities, each with the day it is remembered from: the UTC day of the
/// later of its event time and the processing time that first accepted it. An identity is
/// forgotten once that day leaves the acceptance window: a re-send of the same event is then
/// refused as `too_old`, so forgetting can never double count it.
#[derive(Debug, Default)]
pub struct DedupMemory {
    keys: KeyMap,
    /// Days before this one have been swept.
    first_kept_day: i32,
}

fn day_number(instant: Timestamp) -> i32 {
    i32::try_from(instant.as_millis().div_euclid(MILLIS_PER_DAY))
        .expect("timestamps within ±5.8 million years")
}

impl DedupMemory {
    /// Remembers `key` from the day of `basis`; false if it was already remembered.
    pub fn insert(&mut self, basis: Timestamp, key: DedupKey) -> bool {
        match self.keys.entry(PackedKey::from(key)) {
            Entry::Occupied(_) => false,
            Entry::Vacant(slot) => {
                slot.insert(day_number(basis));
                true
            }
        }
    }

    /// Forgets every identity whose day ends at or before `cutoff`. Sweeps only when the
    /// cutoff has crossed into a new day, so a batch usually pays nothing for it.
    pub fn forget_before(&mut self, cutoff: Timestamp) {
        // A day ends at or before the cutoff exactly when it starts before the cutoff's day.
        let first_kept = day_number(cutoff);
        if first_kept <= self.first_kept_day {
            return;
        }
        self.keys.retain(|_, day| *day >= first_kept);
        self.first_kept_day = first_kept;
    }

    /// Calls `visit(day start, key)` for every remembered identity.
    pub fn for_each(&self, mut visit: impl FnMut(Timestamp, DedupKey)) {
        for (key, day) in &self.keys {
            visit(
                Timestamp::from_millis(i64::from(*day) * MILLIS_PER_DAY),
                DedupKey::from(*key),
            );
        }
    }

    /// How many identities are remembered.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Bytes of heap the remembered identities hold: every slot of the table (key, day and a
    /// control byte), spare capacity included.
    pub fn heap_bytes(&self) -> usize {
        self.keys.capacity() * (std::mem::size_of::<(PackedKey, i32)>() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_schemas::{MeterCatalog, parse_event};

    fn event(text: &str) -> UsageEvent {
        parse_event(text.as_bytes(), &MeterCatalog::defaults()).unwrap()
    }

    const ORIGIN: Origin<'static> = Origin {
        source: "a.ndjson",
        position: "1",
    };

    #[test]
    fn identity_not_content_decides_sameness() {
        let hasher = DedupHasher::new([7; 16]);
        let first = event(
            r#"{"tenant_id":"t","metric":"api_calls","timestamp":"2026-11-26T00:00:00Z","event_id":"e1"}"#,
        );
        let resent = event(
            r#"{"tenant_id":"t","metric":"api_calls","value":5,"timestamp":"2026-11-26T00:00:00Z","event_id":"e1"}"#,
        );
        let other_tenant = event(
            r#"{"tenant_id":"u","metric":"api_calls","timestamp":"2026-11-26T00:00:00Z","event_id":"e1"}"#,
        );
        let elsewhere = Origin {
            source: "b.ndjson",
            position: "9",
        };
        assert_eq!(hasher.key(&first, ORIGIN), hasher.key(&resent, elsewhere));
        assert_ne!(
            hasher.key(&first, ORIGIN),
            hasher.key(&other_tenant, ORIGIN)
        );
        assert_ne!(
            hasher.key(&first, ORIGIN),
            DedupHasher::new([8; 16]).key(&first, ORIGIN)
        );
    }

    #[test]
    fn events_without_id_are_the_same_only_at_the_same_position() {
        let hasher = DedupHasher::new([7; 16]);
        let bare =
            event(r#"{"tenant_id":"t","metric":"api_calls","timestamp":"2026-11-26T00:00:00Z"}"#);
        let next_line = Origin {
            source: "a.ndjson",
            position: "2",
        };
        assert_eq!(hasher.key(&bare, ORIGIN), hasher.key(&bare, ORIGIN));
        assert_ne!(hasher.key(&bare, ORIGIN), hasher.key(&bare, next_line));
    }

    #[test]
    fn memory_forgets_whole_days_past_the_cutoff() {
        let mut memory = DedupMemory::default();
        let day_one = Timestamp::parse("2026-11-01T12:00:00Z").unwrap();
        let day_two = Timestamp::parse("2026-11-02T12:00:00Z").unwrap();
        assert!(memory.insert(day_one, DedupKey(1)));
        assert!(!memory.insert(day_one, DedupKey(1)));
        assert!(memory.insert(day_two, DedupKey(2)));
        memory.forget_before(Timestamp::parse("2026-11-02T00:00:00Z").unwrap());
        assert_eq!(memory.len(), 1);
        assert!(!memory.insert(day_two, DedupKey(2)));
        assert!(
            !memory.insert(day_one, DedupKey(2)),
            "an id is one event whatever its time"
        );
        memory.forget_before(Timestamp::parse("2026-11-02T00:00:00.001Z").unwrap());
        assert_eq!(memory.len(), 1, "day two ends after the cutoff");
    }
}
