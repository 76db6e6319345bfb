//! The stream consumer's batch: parse, group by tenant, and commit each tenant's records
//! through its ledger.
//!
//! For each tenant of a batch, in the order its first record arrived:
//!
//! 1. **Load** the ledger (from the cache, or the head item, the state snapshot and the commit
//!    records after it), finishing a pending commit first.
//! 2. **Skip** records at or before the position the head saw last from this shard: a retried,
//!    bisected or partially failed batch delivers them again.
//! 3. **Process** the rest through the tenant's core.
//! 4. **Stage** the events files and the quarantine file, and **write the commit record**.
//! 5. **Commit**: one conditional write moves the head to the next version, recording the
//!    record as pending and the last position seen.
//! 6. **Finish**: apply the rollup deltas and quality counts (each item keeps the version that
//!    wrote it, so a repeat is a no-op), promote the staged objects, clear `pending`.
//!
//! A failure before step 5 leaves nothing a reader sees; after it, whoever loads the ledger
//! next finishes the commit. The tenant's first record is then reported for retry.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use tally_aggregator::{Aggregator, AggregatorConfig, Delivery, Origin, StateSnapshot};
use tally_schemas::layout::{LEDGER_PREFIX, STAGING_PREFIX, quarantine_object_key};
use tally_schemas::limits::MAX_EVENT_BYTES;
use tally_schemas::{
    MeterCatalog, RejectReason, Rejection, TenantId, Timestamp, UsageEvent, parse_event,
};

use super::codec::{CommitRecord, decode_commit, decode_snapshot, encode_commit, encode_snapshot};
use super::tables::{LedgerTables, TenantHead};
use super::{Position, StreamRecord};
use crate::batch::{Delivered, account, events_objects};
use crate::ports::Bucket;
use crate::quality::{Outcome, QualityCounts, tenant_of_line};
use crate::quarantine::{QuarantineRecord, encode_records};
use crate::registry::TenantGate;
use crate::{Error, Result};

/// Commits after which a ledger writes a fresh state snapshot instead of a longer log.
pub const SNAPSHOT_EVERY: usize = 16;
/// Attempts at a tenant's commit when other writers keep moving its head.
const MAX_CONFLICTS: usize = 5;

/// Settings of a consumer.
#[derive(Clone, Debug)]
pub struct ConsumerConfig {
    /// The meters events may name.
    pub catalog: MeterCatalog,
    /// The acceptance window in days.
    pub max_event_age_days: i64,
    /// The stream's name, recorded as the source of quarantined records.
    pub stream: String,
    /// Tenant ledgers kept in memory between batches.
    pub cached_tenants: usize,
}

/// What one tenant's records of a batch became.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TenantFigures {
    /// Events counted.
    pub accepted: u64,
    /// Of those, events that arrived after their day closed.
    pub late: u64,
    /// Deliveries dropped as already counted.
    pub duplicates: u64,
    /// Records refused and quarantined.
    pub rejected: u64,
    /// Records skipped as delivered and committed before.
    pub redelivered: u64,
}

/// What one batch did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BatchReport {
    /// User records read.
    pub records: u64,
    /// The first record to deliver again, when some could not be committed: every record
    /// before it is committed; after it, committed records are skipped when delivered again.
    pub retry_from: Option<Position>,
    /// Why records could not be committed.
    pub errors: Vec<String>,
    /// Figures per tenant.
    pub tenants: BTreeMap<TenantId, TenantFigures>,
    /// Refused records by reason, those without a readable tenant included.
    pub rejected: BTreeMap<RejectReason, u64>,
    /// Objects published, by final key.
    pub objects: Vec<String>,
}

impl BatchReport {
    /// The sum of every tenant's figures.
    pub fn totals(&self) -> TenantFigures {
        let mut totals = TenantFigures::default();
        for figures in self.tenants.values() {
            totals.accepted += figures.accepted;
            totals.late += figures.late;
            totals.duplicates += figures.duplicates;
            totals.rejected += figures.rejected;
            totals.redelivered += figures.redelivered;
        }
        totals
    }

    fn fail(&mut self, position: &Position, error: String) {
        self.errors.push(error);
        if self
            .retry_from
            .as_ref()
            .is_none_or(|retry| position < retry)
        {
            self.retry_from = Some(position.clone());
        }
    }
}

/// A tenant's part of a batch, committed.
struct Committed {
    figures: TenantFigures,
    rejected: BTreeMap<RejectReason, u64>,
    /// Final keys of the objects published.
    objects: Vec<String>,
    /// Whether another consumer moved the ledger on right after: not to be cached.
    stale: bool,
}

/// One tenant's ledger as this consumer holds it.
struct Ledger {
    head: TenantHead,
    aggregator: Aggregator,
}

/// A record of one tenant's part of a batch.
struct Item<'a> {
    position: &'a Position,
    raw: &'a [u8],
    parsed: Option<std::result::Result<UsageEvent, Rejection>>,
}

/// The consumer of one stream over a bucket and the ledger tables.
pub struct StreamConsumer<B: Bucket, T: LedgerTables> {
    bucket: B,
    tables: T,
    config: ConsumerConfig,
    tenants: TenantGate,
    aggregator_config: AggregatorConfig,
    ledgers: HashMap<TenantId, Ledger>,
    nonce: String,
    attempts: u64,
}

impl<B: Bucket, T: LedgerTables> StreamConsumer<B, T> {
    /// Opens a consumer: checks the meters against the tables and reads the shared dedup key
    /// (creating it on first use).
    ///
    /// Fails when a meter changed definition, a setting is out of range, or the tables fail.
    pub fn open(bucket: B, tables: T, config: ConsumerConfig) -> Result<StreamConsumer<B, T>> {
        tables.check_meters(config.catalog.meters())?;
        let key = tables.dedup_key(crate::embedded::store::random_key()?)?;
        let aggregator_config = AggregatorConfig::new(key)
            .with_max_event_age_days(config.max_event_age_days)
            .map_err(|error| Error::Invalid(error.to_string()))?;
        let nonce: String = crate::embedded::store::random_key()?[..6]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Ok(StreamConsumer {
            bucket,
            tables,
            config,
            tenants: TenantGate::unchecked(),
            aggregator_config,
            ledgers: HashMap::new(),
            nonce,
            attempts: 0,
        })
    }

    /// Counts only the events of tenants `tenants` admits from the next batch on; the rest
    /// are quarantined as `unknown_tenant` or `tenant_suspended`. Without it every valid tenant
    /// id is counted.
    pub fn set_tenant_gate(&mut self, tenants: TenantGate) {
        self.tenants = tenants;
    }

    /// The tables, for queries.
    pub fn tables(&self) -> &T {
        &self.tables
    }

    /// The bucket, for listings.
    pub fn bucket(&self) -> &B {
        &self.bucket
    }

    /// Processes the user records `records` of shard `shard`, in shard order, at processing
    /// time `now`. Never fails as a whole: records that could not be committed are named by
    /// [`BatchReport::retry_from`].
    pub fn process(
        &mut self,
        shard: &str,
        records: &[StreamRecord],
        now: Timestamp,
    ) -> BatchReport {
        let mut report = BatchReport::default();
        let mut tenants: Vec<(TenantId, Vec<Item<'_>>)> = Vec::new();
        let mut index: HashMap<TenantId, usize> = HashMap::new();
        let mut unattributed = Vec::new();
        for record in records {
            report.records += 1;
            let parsed = if record.data.len() > MAX_EVENT_BYTES {
                Err(Rejection::new(
                    RejectReason::TooLarge,
                    format!("record is longer than {MAX_EVENT_BYTES} bytes"),
                ))
            } else {
                parse_event(&record.data, &self.config.catalog)
                    .and_then(|event| self.tenants.check(&event.tenant_id).map(|()| event))
            };
            let tenant = match &parsed {
                Ok(event) => Some(event.tenant_id.clone()),
                Err(_) => tenant_of_line(&record.data),
            };
            let item = Item {
                position: &record.position,
                raw: &record.data,
                parsed: Some(parsed),
            };
            match tenant {
                Some(tenant) => {
                    let slot = *index.entry(tenant.clone()).or_insert_with(|| {
                        tenants.push((tenant, Vec::new()));
                        tenants.len() - 1
                    });
                    tenants[slot].1.push(item);
                }
                None => unattributed.push(item),
            }
        }
        let source = format!("{}/{shard}", self.config.stream);
        for (tenant, mut items) in tenants {
            match self.commit_tenant(shard, &source, &tenant, &mut items, now, false) {
                Ok(committed) => {
                    report.objects.extend(committed.objects);
                    for (reason, number) in committed.rejected {
                        *report.rejected.entry(reason).or_default() += number;
                    }
                    report.tenants.insert(tenant, committed.figures);
                }
                Err(error) => {
                    self.ledgers.remove(&tenant);
                    report.fail(items[0].position, format!("tenant {tenant}: {error}"));
                }
            }
        }
        if let Some(first) = unattributed.first() {
            let first = first.position.clone();
            match self.quarantine_unattributed(&source, shard, unattributed, now) {
                Ok((key, reasons)) => {
                    report.objects.push(key);
                    for (reason, number) in reasons {
                        *report.rejected.entry(reason).or_default() += number;
                    }
                }
                Err(error) => report.fail(&first, format!("quarantine: {error}")),
            }
        }
        report
    }

    /// Integrates the gauges of `tenant` up to `now` without new events: what an invoice run
    /// does before reading a closed period.
    ///
    /// Fails when storage fails; nothing is half done.
    pub fn advance(&mut self, tenant: &TenantId, now: Timestamp) -> Result<()> {
        let source = format!("{}/advance", self.config.stream);
        self.commit_tenant("", &source, tenant, &mut [], now, true)
            .map(|_| ())
            .inspect_err(|_| {
                self.ledgers.remove(tenant);
            })
    }

    fn commit_tenant(
        &mut self,
        shard: &str,
        source: &str,
        tenant: &TenantId,
        items: &mut [Item<'_>],
        now: Timestamp,
        advance: bool,
    ) -> Result<Committed> {
        for _ in 0..MAX_CONFLICTS {
            let mut ledger = match self.ledgers.remove(tenant) {
                Some(ledger) => ledger,
                None => match self.load(tenant)? {
                    Some(ledger) => ledger,
                    None => continue,
                },
            };
            if let Some(committed) =
                self.try_commit(shard, source, tenant, &mut ledger, items, now, advance)?
            {
                if !committed.stale {
                    self.remember(tenant.clone(), ledger);
                }
                return Ok(committed);
            }
        }
        Err(Error::Invalid(format!(
            "the ledger of tenant {tenant} kept moving under {MAX_CONFLICTS} attempts (another \
             consumer is writing it: are its events sent with other partition keys?)"
        )))
    }

    /// Loads a tenant's ledger and finishes its pending commit; `None` when another writer
    /// moved the head meanwhile.
    fn load(&self, tenant: &TenantId) -> Result<Option<Ledger>> {
        let head = self.tables.head(tenant)?.unwrap_or_default();
        let mut state = match &head.snapshot {
            Some(key) => decode_snapshot(key, &self.object(key)?)?,
            None => StateSnapshot::default(),
        };
        for key in &head.log {
            state.apply(&decode_commit(key, &self.object(key)?)?.changes);
        }
        let mut head = head;
        if let Some(pending) = head.pending.clone() {
            self.finish(tenant, &decode_commit(&pending, &self.object(&pending)?)?)?;
            let expected = head.version;
            head.pending = None;
            if !self.tables.swap_head(tenant, expected, &head)? {
                return Ok(None);
            }
        }
        let aggregator = Aggregator::restore(
            self.aggregator_config.clone(),
            self.config.catalog.clone(),
            state,
        );
        Ok(Some(Ledger { head, aggregator }))
    }

    fn object(&self, key: &str) -> Result<Vec<u8>> {
        self.bucket
            .get(key)?
            .ok_or_else(|| Error::Corrupt(format!("ledger object {key} is missing")))
    }

    /// One attempt at a tenant's commit; `None` when another writer moved the head first.
    #[allow(clippy::too_many_arguments)]
    fn try_commit(
        &mut self,
        shard: &str,
        source: &str,
        tenant: &TenantId,
        ledger: &mut Ledger,
        items: &mut [Item<'_>],
        now: Timestamp,
        advance: bool,
    ) -> Result<Option<Committed>> {
        let mut figures = TenantFigures::default();
        let mut rejected = BTreeMap::new();
        let seen = ledger
            .head
            .seen
            .get(shard)
            .map(|text| Position::parse(text))
            .transpose()?;
        let fresh_from = items
            .iter()
            .position(|item| seen.as_ref().is_none_or(|seen| item.position > seen))
            .unwrap_or(items.len());
        figures.redelivered = fresh_from as u64;
        let fresh = &mut items[fresh_from..];
        if fresh.is_empty() && !advance {
            return Ok(Some(Committed {
                figures,
                rejected,
                objects: Vec::new(),
                stale: false,
            }));
        }
        let mut quality = QualityCounts::default();
        let mut quarantine = Vec::new();
        let mut events = Vec::new();
        let mut positions = Vec::new();
        let mut raw = Vec::new();
        for item in fresh.iter_mut() {
            // A retry after a conflict parses again: the first attempt moved its events.
            let parsed = item.parsed.take().unwrap_or_else(|| {
                parse_event(item.raw, &self.config.catalog)
                    .and_then(|event| self.tenants.check(&event.tenant_id).map(|()| event))
            });
            match parsed {
                Ok(event) => {
                    events.push(event);
                    positions.push(item.position.to_string());
                    raw.push(item.raw);
                }
                Err(rejection) => {
                    quality.add(Some(tenant), now, Outcome::Rejected(rejection.reason));
                    figures.rejected += 1;
                    *rejected.entry(rejection.reason).or_default() += 1;
                    let position = item.position.to_string();
                    item.parsed = Some(Err(rejection.clone()));
                    quarantine.push(QuarantineRecord::new(
                        rejection, source, position, now, item.raw, false,
                    ));
                }
            }
        }
        let tenants = vec![tenant.clone(); events.len()];
        let deliveries = events
            .into_iter()
            .zip(&positions)
            .map(|(event, position)| Delivery {
                event,
                origin: Origin { source, position },
            })
            .collect();
        let mut output = ledger.aggregator.process(now, deliveries);
        let delivered = Delivered {
            tenants: &tenants,
            positions: &positions,
            raw: &raw,
        };
        let outcomes = account(
            &mut output,
            &delivered,
            source,
            now,
            &mut quality,
            &mut quarantine,
        );
        figures.accepted = outcomes.accepted;
        figures.late = outcomes.late;
        figures.duplicates = outcomes.duplicates;
        for (reason, number) in outcomes.rejected {
            figures.rejected += number;
            *rejected.entry(reason).or_default() += number;
        }

        let version = ledger.head.version + 1;
        let nonce = self.next_nonce();
        let object_name = format!("v{version:012}");
        let staging = format!("{STAGING_PREFIX}stream/{tenant}/{version:012}-{nonce}/");
        let mut objects = Vec::new();
        for (final_key, bytes) in events_objects(&output.accepted, now, &object_name)? {
            let staging_key = format!("{staging}{final_key}");
            self.bucket.put(&staging_key, &bytes)?;
            objects.push((staging_key, final_key));
        }
        if !quarantine.is_empty() {
            let final_key = quarantine_object_key(now, &format!("{tenant}-{object_name}"));
            let staging_key = format!("{staging}{final_key}");
            self.bucket
                .put(&staging_key, &encode_records(&quarantine))?;
            objects.push((staging_key, final_key));
        }
        let record = CommitRecord {
            version,
            rollups: output.rollups.into_iter().collect(),
            quality: quality
                .iter()
                .map(|(key, count)| (key.clone(), *count))
                .collect(),
            objects,
            changes: output.changes,
        };
        let ledger_prefix = format!("{LEDGER_PREFIX}{tenant}/");
        let record_key = format!("{ledger_prefix}commit-{version:012}-{nonce}");
        self.bucket.put(&record_key, &encode_commit(&record))?;

        let mut head = ledger.head.clone();
        head.version = version;
        head.pending = Some(record_key.clone());
        head.log.push(record_key.clone());
        if let Some(last) = fresh.last() {
            head.seen
                .insert(shard.to_owned(), last.position.to_string());
        }
        let mut superseded = Vec::new();
        if head.log.len() >= SNAPSHOT_EVERY {
            let snapshot_key = format!("{ledger_prefix}snapshot-{version:012}-{nonce}");
            self.bucket.put(
                &snapshot_key,
                &encode_snapshot(&ledger.aggregator.snapshot()),
            )?;
            superseded.extend(head.snapshot.replace(snapshot_key));
            superseded.extend(std::mem::take(&mut head.log));
        }
        if !self.tables.swap_head(tenant, ledger.head.version, &head)? {
            return Ok(None);
        }
        self.finish(tenant, &record)?;
        head.pending = None;
        // Fails only when another consumer finished this commit and moved on.
        let stale = !self.tables.swap_head(tenant, version, &head)?;
        ledger.head = head;
        // Nobody loading this ledger reads the superseded snapshot and log any more.
        for key in superseded {
            self.bucket.delete(&key)?;
        }
        Ok(Some(Committed {
            figures,
            rejected,
            objects: record.objects.into_iter().map(|(_, key)| key).collect(),
            stale,
        }))
    }

    /// Applies a committed record: rollups, quality counts, objects. Safe to repeat.
    fn finish(&self, tenant: &TenantId, record: &CommitRecord) -> Result<()> {
        self.tables
            .apply_rollups(tenant, record.version, &record.rollups)?;
        self.tables
            .apply_quality(tenant, record.version, &record.quality)?;
        for (staging_key, final_key) in &record.objects {
            self.bucket.promote(staging_key, final_key)?;
        }
        Ok(())
    }

    /// Writes the records without a readable tenant to the quarantine, one object per batch.
    fn quarantine_unattributed(
        &self,
        source: &str,
        shard: &str,
        items: Vec<Item<'_>>,
        now: Timestamp,
    ) -> Result<(String, BTreeMap<RejectReason, u64>)> {
        let mut quality = QualityCounts::default();
        let mut reasons = BTreeMap::new();
        let mut records = Vec::new();
        let first = items[0].position.to_string();
        for item in items {
            let Some(Err(rejection)) = item.parsed else {
                unreachable!("records without a tenant were refused");
            };
            quality.add(None, now, Outcome::Rejected(rejection.reason));
            *reasons.entry(rejection.reason).or_default() += 1;
            records.push(QuarantineRecord::new(
                rejection,
                source,
                item.position.to_string(),
                now,
                item.raw,
                false,
            ));
        }
        let key = quarantine_object_key(now, &format!("{shard}-{first}"));
        self.bucket.put(&key, &encode_records(&records))?;
        let counts: Vec<_> = quality
            .iter()
            .map(|(key, count)| (key.clone(), *count))
            .collect();
        self.tables.add_unattributed_quality(&counts)?;
        Ok((key, reasons))
    }

    fn remember(&mut self, tenant: TenantId, ledger: Ledger) {
        if self.ledgers.len() >= self.config.cached_tenants
            && let Some(evicted) = self.ledgers.keys().next().cloned()
        {
            self.ledgers.remove(&evicted);
        }
        if self.config.cached_tenants > 0 {
            self.ledgers.insert(tenant, ledger);
        }
    }

    /// A name part no other attempt of any consumer uses: this consumer's random prefix and
    /// its attempt count.
    fn next_nonce(&mut self) -> String {
        self.attempts += 1;
        format!("{}{:x}", self.nonce, self.attempts)
    }
}
