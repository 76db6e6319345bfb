//! The metering tables in one redb file. Every batch is one write transaction: rollups, the
//! core's state, the commit sequence and the publication record become durable together or
//! not at all.

use std::collections::BTreeMap;
use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use rust_decimal::Decimal;
use tally_aggregator::{
    DedupKey, GaugeSeries, Granularity, Rollup, RollupKey, SeriesKey, StateSnapshot,
};
use tally_schemas::time::MILLIS_PER_DAY;
use tally_schemas::{Meter, TenantId, Timestamp};

use crate::ports::{Commit, MeteringStore, Publication, RollupFilter, quality_matches};
use crate::quality::QualityKey;
use crate::{Error, Result};

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const METERS: TableDefinition<&str, &[u8]> = TableDefinition::new("meters");
/// (day number the identity is remembered from, identity hash)
const DEDUP: TableDefinition<(i32, u128), ()> = TableDefinition::new("dedup");
/// (tenant, metric, granularity code, window start ms, value)
const DISTINCT: TableDefinition<(&str, &str, u8, i64, &str), ()> = TableDefinition::new("distinct");
/// (tenant, metric) → JSON samples
const GAUGES: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("gauges");
/// (tenant, metric, granularity code, window start ms) → encoded rollup
const ROLLUPS: TableDefinition<(&str, &str, u8, i64), &[u8]> =
    TableDefinition::new("usage_rollups");
/// (tenant or "" for unattributed, processing day ms, outcome) → lines
const QUALITY: TableDefinition<(&str, i64, &str), u64> = TableDefinition::new("data_quality");
/// commit → JSON publication
const PUBLICATIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("pending_publications");

const HORIZON: &str = "horizon";
const NEXT_COMMIT: &str = "next_commit";
const DEDUP_KEY: &str = "dedup_key";

/// Converts any redb error into the runtime's, naming what was being done.
pub(crate) trait OrDatabase<T> {
    fn or_database(self, context: &'static str) -> Result<T>;
}

impl<T, E: Into<redb::Error>> OrDatabase<T> for std::result::Result<T, E> {
    fn or_database(self, context: &'static str) -> Result<T> {
        self.map_err(|error| Error::database(context)(error.into()))
    }
}

/// The tables of the embedded default.
pub struct RedbStore {
    database: Database,
}

impl RedbStore {
    /// Opens (or creates) the tables file at `path`.
    ///
    /// Fails when the file is not a redb database or another process has it open.
    pub fn open(path: &Path) -> Result<RedbStore> {
        let database = Database::create(path).map_err(|error| match error {
            redb::DatabaseError::DatabaseAlreadyOpen => Error::Invalid(format!(
                "{} is in use by another tally process; wait for it to finish",
                path.display()
            )),
            other => Error::database("opening the tables file")(other.into()),
        })?;
        let transaction = database.begin_write().or_database("creating tables")?;
        transaction
            .open_table(META)
            .or_database("creating tables")?;
        transaction
            .open_table(METERS)
            .or_database("creating tables")?;
        transaction
            .open_table(DEDUP)
            .or_database("creating tables")?;
        transaction
            .open_table(DISTINCT)
            .or_database("creating tables")?;
        transaction
            .open_table(GAUGES)
            .or_database("creating tables")?;
        transaction
            .open_table(ROLLUPS)
            .or_database("creating tables")?;
        transaction
            .open_table(PUBLICATIONS)
            .or_database("creating tables")?;
        transaction.commit().or_database("creating tables")?;
        Ok(RedbStore { database })
    }

    /// The database, for the other tables kept in the same file.
    pub(crate) fn database(&self) -> &Database {
        &self.database
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let read = self.database.begin_read().or_database("reading settings")?;
        let table = read.open_table(META).or_database("reading settings")?;
        Ok(table
            .get(name)
            .or_database("reading settings")?
            .map(|value| value.value().to_vec()))
    }
}

fn day_number(day: Timestamp) -> i32 {
    i32::try_from(day.as_millis().div_euclid(MILLIS_PER_DAY)).expect("days fit in i32")
}

/// Encodes a rollup: amount (rust_decimal's 16 bytes), events (8), latest time flag and value (9).
pub fn encode_rollup(rollup: &Rollup) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(33);
    bytes.extend_from_slice(&rollup.amount.serialize());
    bytes.extend_from_slice(&rollup.events.to_le_bytes());
    bytes.push(u8::from(rollup.latest_event_time.is_some()));
    bytes.extend_from_slice(
        &rollup
            .latest_event_time
            .map_or(0, Timestamp::as_millis)
            .to_le_bytes(),
    );
    bytes
}

/// Decodes [`encode_rollup`]'s bytes.
pub fn decode_rollup(bytes: &[u8]) -> Result<Rollup> {
    let corrupt = || Error::Corrupt(format!("a rollup of {} bytes, not 33", bytes.len()));
    let amount: [u8; 16] = bytes
        .get(..16)
        .and_then(|part| part.try_into().ok())
        .ok_or_else(corrupt)?;
    let events: [u8; 8] = bytes
        .get(16..24)
        .and_then(|part| part.try_into().ok())
        .ok_or_else(corrupt)?;
    let latest: [u8; 8] = bytes
        .get(25..33)
        .and_then(|part| part.try_into().ok())
        .ok_or_else(corrupt)?;
    Ok(Rollup {
        amount: Decimal::deserialize(amount),
        events: u64::from_le_bytes(events),
        latest_event_time: (bytes[24] == 1)
            .then(|| Timestamp::from_millis(i64::from_le_bytes(latest))),
    })
}

fn rollup_key(tenant: &str, metric: &str, code: u8, start: i64) -> Result<RollupKey> {
    Ok(RollupKey {
        tenant_id: TenantId::parse(tenant).map_err(|error| Error::Corrupt(error.to_string()))?,
        metric: metric.to_owned(),
        granularity: Granularity::from_code(code)
            .ok_or_else(|| Error::Corrupt(format!("granularity code {code}")))?,
        window_start: Timestamp::from_millis(start),
    })
}

impl MeteringStore for RedbStore {
    fn load_state(&self) -> Result<StateSnapshot> {
        let context = "loading the core's state";
        let read = self.database.begin_read().or_database(context)?;
        let mut snapshot = StateSnapshot {
            horizon: self
                .meta(HORIZON)?
                .map(|bytes| decode_i64(&bytes))
                .transpose()?
                .map(Timestamp::from_millis),
            ..StateSnapshot::default()
        };
        for entry in read
            .open_table(DEDUP)
            .or_database(context)?
            .iter()
            .or_database(context)?
        {
            let (key, _) = entry.or_database(context)?;
            let (day, hash) = key.value();
            snapshot.dedup.push((
                Timestamp::from_millis(i64::from(day) * MILLIS_PER_DAY),
                DedupKey(hash),
            ));
        }
        for entry in read
            .open_table(DISTINCT)
            .or_database(context)?
            .iter()
            .or_database(context)?
        {
            let (key, _) = entry.or_database(context)?;
            let (tenant, metric, code, start, value) = key.value();
            snapshot
                .distinct
                .push((rollup_key(tenant, metric, code, start)?, value.to_owned()));
        }
        for entry in read
            .open_table(GAUGES)
            .or_database(context)?
            .iter()
            .or_database(context)?
        {
            let (key, samples) = entry.or_database(context)?;
            let (tenant, metric) = key.value();
            let series: GaugeSeries = serde_json::from_slice(samples.value()).map_err(|error| {
                Error::Corrupt(format!("gauge series {tenant}/{metric}: {error}"))
            })?;
            let tenant_id =
                TenantId::parse(tenant).map_err(|error| Error::Corrupt(error.to_string()))?;
            snapshot.gauges.push((
                SeriesKey {
                    tenant_id,
                    metric: metric.to_owned(),
                },
                series,
            ));
        }
        snapshot.dedup.sort_unstable();
        snapshot.distinct.sort_unstable();
        Ok(snapshot)
    }

    fn next_commit(&self) -> Result<u64> {
        Ok(self
            .meta(NEXT_COMMIT)?
            .map(|bytes| decode_i64(&bytes))
            .transpose()?
            .map_or(1, |next| next as u64))
    }

    fn commit(&mut self, commit: &Commit) -> Result<()> {
        let context = "committing a batch";
        let next = self.next_commit()?;
        let transaction = self.database.begin_write().or_database(context)?;
        {
            let mut rollups = transaction.open_table(ROLLUPS).or_database(context)?;
            for (key, delta) in &commit.rollups {
                let stored = (
                    key.tenant_id.as_str(),
                    key.metric.as_str(),
                    key.granularity.code(),
                    key.window_start.as_millis(),
                );
                let mut rollup = match rollups.get(stored).or_database(context)? {
                    Some(bytes) => decode_rollup(bytes.value())?,
                    None => Rollup::default(),
                };
                rollup.apply(delta);
                rollups
                    .insert(stored, encode_rollup(&rollup).as_slice())
                    .or_database(context)?;
            }
            apply_state(&transaction, commit)?;
            let mut quality = transaction.open_table(QUALITY).or_database(context)?;
            for ((tenant, day, outcome), count) in commit.quality.iter() {
                let key = (tenant.as_str(), day.as_millis(), outcome.as_str());
                let before = quality
                    .get(key)
                    .or_database(context)?
                    .map_or(0, |value| value.value());
                quality.insert(key, before + count).or_database(context)?;
            }
            let mut meta = transaction.open_table(META).or_database(context)?;
            meta.insert(NEXT_COMMIT, (next as i64 + 1).to_le_bytes().as_slice())
                .or_database(context)?;
            if let Some(publication) = &commit.publication {
                assert_eq!(
                    publication.commit, next,
                    "a publication belongs to the commit that records it"
                );
                let encoded = serde_json::to_vec(publication).expect("publications serialize");
                let mut publications = transaction.open_table(PUBLICATIONS).or_database(context)?;
                publications
                    .insert(next, encoded.as_slice())
                    .or_database(context)?;
            }
        }
        transaction.commit().or_database(context)
    }

    fn pending_publications(&self) -> Result<Vec<Publication>> {
        let context = "reading pending publications";
        let read = self.database.begin_read().or_database(context)?;
        let table = read.open_table(PUBLICATIONS).or_database(context)?;
        let mut pending = Vec::new();
        for entry in table.iter().or_database(context)? {
            let (_, bytes) = entry.or_database(context)?;
            pending.push(
                serde_json::from_slice(bytes.value())
                    .map_err(|error| Error::Corrupt(error.to_string()))?,
            );
        }
        Ok(pending)
    }

    fn finish_publication(&mut self, commit: u64) -> Result<()> {
        let context = "finishing a publication";
        let transaction = self.database.begin_write().or_database(context)?;
        transaction
            .open_table(PUBLICATIONS)
            .or_database(context)?
            .remove(commit)
            .or_database(context)?;
        transaction.commit().or_database(context)
    }

    fn rollups(&self, filter: &RollupFilter) -> Result<Vec<(RollupKey, Rollup)>> {
        let context = "reading rollups";
        let read = self.database.begin_read().or_database(context)?;
        let table = read.open_table(ROLLUPS).or_database(context)?;
        let mut rows = Vec::new();
        for entry in table.iter().or_database(context)? {
            let (key, bytes) = entry.or_database(context)?;
            let (tenant, metric, code, start) = key.value();
            let key = rollup_key(tenant, metric, code, start)?;
            if filter.matches(&key) {
                rows.push((key, decode_rollup(bytes.value())?));
            }
        }
        Ok(rows)
    }

    fn quality(
        &self,
        tenant_id: Option<&str>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<(QualityKey, u64)>> {
        let context = "reading data quality";
        let read = self.database.begin_read().or_database(context)?;
        let table = read.open_table(QUALITY).or_database(context)?;
        let mut rows = Vec::new();
        for entry in table.iter().or_database(context)? {
            let (key, count) = entry.or_database(context)?;
            let (tenant, day, outcome) = key.value();
            let day = Timestamp::from_millis(day);
            if quality_matches(tenant, day, tenant_id, from, to) {
                rows.push(((tenant.to_owned(), day, outcome.to_owned()), count.value()));
            }
        }
        Ok(rows)
    }

    fn replace_rollups(
        &mut self,
        tenant_id: Option<&str>,
        rollups: &BTreeMap<RollupKey, Rollup>,
    ) -> Result<()> {
        let context = "replacing rollups";
        let transaction = self.database.begin_write().or_database(context)?;
        {
            let mut table = transaction.open_table(ROLLUPS).or_database(context)?;
            table
                .retain(|(tenant, _, _, _), _| tenant_id.is_some_and(|only| only != tenant))
                .or_database(context)?;
            for (key, rollup) in rollups {
                let stored = (
                    key.tenant_id.as_str(),
                    key.metric.as_str(),
                    key.granularity.code(),
                    key.window_start.as_millis(),
                );
                table
                    .insert(stored, encode_rollup(rollup).as_slice())
                    .or_database(context)?;
            }
        }
        transaction.commit().or_database(context)
    }

    fn dedup_key(&mut self) -> Result<[u8; 16]> {
        if let Some(bytes) = self.meta(DEDUP_KEY)? {
            return bytes
                .try_into()
                .map_err(|_| Error::Corrupt("the dedup key is not 16 bytes".into()));
        }
        let key = random_key()?;
        let context = "storing the dedup key";
        let transaction = self.database.begin_write().or_database(context)?;
        transaction
            .open_table(META)
            .or_database(context)?
            .insert(DEDUP_KEY, key.as_slice())
            .or_database(context)?;
        transaction.commit().or_database(context)?;
        Ok(key)
    }

    fn check_meters(&mut self, meters: &[Meter]) -> Result<()> {
        let context = "checking meters";
        let transaction = self.database.begin_write().or_database(context)?;
        {
            let mut table = transaction.open_table(METERS).or_database(context)?;
            for meter in meters {
                let now = meter_signature(meter);
                let before = table
                    .get(meter.name.as_str())
                    .or_database(context)?
                    .map(|bytes| String::from_utf8_lossy(bytes.value()).into_owned());
                match before {
                    Some(before) if before != now => {
                        return Err(Error::MeterChanged {
                            meter: meter.name.clone(),
                            before,
                            after: now,
                        });
                    }
                    Some(_) => {}
                    None => {
                        table
                            .insert(meter.name.as_str(), now.as_bytes())
                            .or_database(context)?;
                    }
                }
            }
        }
        transaction.commit().or_database(context)
    }
}

/// What must not change about a meter once it has rollups: aggregation, unit and dimension.
pub fn meter_signature(meter: &Meter) -> String {
    format!(
        "{} of {}{}",
        meter.aggregation.as_str(),
        meter.unit,
        meter
            .dimension
            .as_deref()
            .map(|dimension| format!(" by {dimension}"))
            .unwrap_or_default()
    )
}

fn apply_state(transaction: &redb::WriteTransaction, commit: &Commit) -> Result<()> {
    let context = "committing the core's state";
    let changes = &commit.changes;
    let mut meta = transaction.open_table(META).or_database(context)?;
    meta.insert(
        HORIZON,
        changes.horizon.as_millis().to_le_bytes().as_slice(),
    )
    .or_database(context)?;
    let mut dedup = transaction.open_table(DEDUP).or_database(context)?;
    for (day, key) in &changes.dedup_added {
        dedup
            .insert((day_number(*day), key.0), ())
            .or_database(context)?;
    }
    // Days ending at or before the cutoff start before the cutoff's day.
    let first_kept = day_number(changes.forget_before);
    dedup
        .retain_in((i32::MIN, 0)..(first_kept, 0), |_, _| false)
        .or_database(context)?;
    let mut distinct = transaction.open_table(DISTINCT).or_database(context)?;
    for (key, value) in &changes.distinct_added {
        let stored = (
            key.tenant_id.as_str(),
            key.metric.as_str(),
            key.granularity.code(),
            key.window_start.as_millis(),
            value.as_str(),
        );
        distinct.insert(stored, ()).or_database(context)?;
    }
    distinct
        .retain(|(_, _, code, start, _), _| {
            let granularity = Granularity::from_code(code).expect("stored codes are valid");
            granularity.window_end(Timestamp::from_millis(start)) > changes.forget_before
        })
        .or_database(context)?;
    let mut gauges = transaction.open_table(GAUGES).or_database(context)?;
    for (key, series) in &changes.gauges {
        let encoded = serde_json::to_vec(series).expect("gauge series serialize");
        gauges
            .insert(
                (key.tenant_id.as_str(), key.metric.as_str()),
                encoded.as_slice(),
            )
            .or_database(context)?;
    }
    Ok(())
}

fn decode_i64(bytes: &[u8]) -> Result<i64> {
    let array: [u8; 8] = bytes
        .try_into()
        .map_err(|_| Error::Corrupt("a setting is not 8 bytes".into()))?;
    Ok(i64::from_le_bytes(array))
}

/// Sixteen bytes from the operating system's random source.
pub(crate) fn random_key() -> Result<[u8; 16]> {
    use std::io::Read;
    let mut key = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut source| source.read_exact(&mut key))
        .map_err(Error::io("reading", "/dev/urandom"))?;
    Ok(key)
}
