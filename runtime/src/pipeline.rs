//! The pipeline: lines in, exactly-once rollups and events files out, durable before it reports.
//!
//! Each chunk of lines is processed by the core, its Parquet and quarantine objects are staged,
//! then one store transaction commits the rollups, the core's state and the list of staged
//! objects; only then are the objects promoted to their final keys. A crash before the commit
//! leaves only staged objects, deleted on the next start (the lines are simply read again); a
//! crash after it leaves a pending publication, finished on the next start. Every step is safe
//! to repeat, so no event is counted or written twice.

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::Serialize;
use tally_aggregator::{Accepted, Aggregator, AggregatorConfig, Delivery, Origin};
use tally_schemas::layout::{STAGING_PREFIX, quarantine_object_key};
use tally_schemas::limits::MAX_EVENT_BYTES;
use tally_schemas::{
    MeterCatalog, RejectReason, Rejection, TenantId, Timestamp, UsageEvent, parse_event,
};

use crate::batch::{Delivered, account, events_objects};
use crate::lines::LineReader;
use crate::ports::{Bucket, Commit, MeteringStore, Publication};
use crate::quality::{Outcome, QualityCounts, tenant_of_line};
use crate::quarantine::{QuarantineRecord, encode_records};
use crate::registry::TenantGate;
use crate::{Error, Result};

/// Lines per commit unless told otherwise: bounds memory to a few hundred MB at most.
pub const DEFAULT_COMMIT_EVERY: usize = 250_000;
/// The most lines one commit may hold.
pub const MAX_COMMIT_EVERY: usize = 2_000_000;

/// Settings of a pipeline.
#[derive(Clone, Debug)]
pub struct PipelineConfig {
    /// The meters events may name.
    pub catalog: MeterCatalog,
    /// The acceptance window in days.
    pub max_event_age_days: i64,
    /// Test hook: abort at this point (see [`crate::env::TALLY_CRASH_AT`]).
    pub crash_at: Option<CrashPoint>,
}

/// Where a test may ask the pipeline to abort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrashPoint {
    /// After which step.
    pub step: CrashStep,
    /// In which commit (from 1, counted across runs of the same data directory).
    pub commit: u64,
}

/// The steps between writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashStep {
    /// Objects staged, nothing committed.
    AfterStage,
    /// Committed, nothing promoted.
    AfterCommit,
    /// The first object promoted, the publication not finished.
    AfterFirstPromote,
}

impl std::str::FromStr for CrashPoint {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<CrashPoint, String> {
        let (step, commit) = text.split_once(':').ok_or("expected STEP:COMMIT")?;
        let step = match step {
            "after-stage" => CrashStep::AfterStage,
            "after-commit" => CrashStep::AfterCommit,
            "after-first-promote" => CrashStep::AfterFirstPromote,
            other => return Err(format!("unknown crash step {other:?}")),
        };
        let commit = commit
            .parse()
            .map_err(|_| format!("bad commit number {commit:?}"))?;
        Ok(CrashPoint { step, commit })
    }
}

/// How to read one input.
#[derive(Clone, Debug)]
pub struct IngestOptions {
    /// The input's name, recorded in the quarantine and identifying events without an id.
    pub source: String,
    /// Processing time.
    pub now: Timestamp,
    /// Lines per commit.
    pub commit_every: usize,
}

/// What one ingest did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IngestSummary {
    /// Lines read, blank ones included.
    pub lines: u64,
    /// Blank lines, skipped.
    pub blank_lines: u64,
    /// Events counted.
    pub accepted: u64,
    /// Of those, events that arrived after their day closed.
    pub late: u64,
    /// Deliveries dropped as already counted.
    pub duplicates: u64,
    /// Refused lines by reason; each is in the quarantine.
    pub rejected: BTreeMap<RejectReason, u64>,
    /// The objects written, by final key.
    pub objects: Vec<String>,
    /// Store transactions committed.
    pub commits: u64,
}

impl IngestSummary {
    /// Refused lines in all.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }

    /// Adds another ingest's figures to these.
    pub fn add(&mut self, other: IngestSummary) {
        self.lines += other.lines;
        self.blank_lines += other.blank_lines;
        self.accepted += other.accepted;
        self.late += other.late;
        self.duplicates += other.duplicates;
        for (reason, number) in other.rejected {
            *self.rejected.entry(reason).or_default() += number;
        }
        self.objects.extend(other.objects);
        self.commits += other.commits;
    }
}

/// The pipeline over a bucket and a store.
pub struct Pipeline<B: Bucket, S: MeteringStore> {
    bucket: B,
    store: S,
    aggregator: Aggregator,
    tenants: TenantGate,
    crash_at: Option<CrashPoint>,
    /// Set when a commit failed after the core had moved on: the pipeline must be reopened.
    poisoned: bool,
}

impl<B: Bucket, S: MeteringStore> Pipeline<B, S> {
    /// Opens the pipeline: finishes what an earlier run left (pending publications, staged
    /// leftovers), then restores the core from the committed state.
    ///
    /// Fails when a meter changed definition, a setting is out of range, or storage fails.
    pub fn open(bucket: B, mut store: S, config: PipelineConfig) -> Result<Pipeline<B, S>> {
        store.check_meters(config.catalog.meters())?;
        let aggregator_config = AggregatorConfig::new(store.dedup_key()?)
            .with_max_event_age_days(config.max_event_age_days)
            .map_err(|error| Error::Invalid(error.to_string()))?;
        recover(&bucket, &mut store)?;
        let snapshot = store.load_state()?;
        Ok(Pipeline {
            aggregator: Aggregator::restore(aggregator_config, config.catalog, snapshot),
            bucket,
            store,
            tenants: TenantGate::unchecked(),
            crash_at: config.crash_at,
            poisoned: false,
        })
    }

    /// Counts only the events of tenants `tenants` admits; the rest are quarantined as
    /// `unknown_tenant` or `tenant_suspended`. Without it every valid tenant id is counted.
    pub fn with_tenant_gate(mut self, tenants: TenantGate) -> Pipeline<B, S> {
        self.tenants = tenants;
        self
    }

    /// The bucket and the store, for jobs that run after ingesting.
    pub fn into_parts(self) -> (B, S) {
        (self.bucket, self.store)
    }

    /// The store, for queries.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The bucket, for listings.
    pub fn bucket(&self) -> &B {
        &self.bucket
    }

    /// The core, for its footprint.
    pub fn aggregator(&self) -> &Aggregator {
        &self.aggregator
    }

    /// Reads NDJSON from `reader` to the end, committing every `commit_every` lines;
    /// `progress` is told the bytes read so far.
    ///
    /// Fails on a read or storage error; what was committed before stays committed.
    pub fn ingest(
        &mut self,
        mut reader: impl BufRead,
        options: &IngestOptions,
        progress: &mut dyn FnMut(u64),
    ) -> Result<IngestSummary> {
        if self.poisoned {
            return Err(Error::Invalid(
                "an earlier commit failed; reopen the pipeline".into(),
            ));
        }
        if !(1..=MAX_COMMIT_EVERY).contains(&options.commit_every) {
            return Err(Error::Invalid(format!(
                "commit_every must be between 1 and {MAX_COMMIT_EVERY}"
            )));
        }
        let mut summary = IngestSummary::default();
        let mut reader = LineReader::new(&mut reader, &options.source);
        loop {
            let chunk = Chunk::read(
                &mut reader,
                self.aggregator.catalog(),
                &self.tenants,
                options,
                &mut summary,
            )?;
            progress(reader.bytes_read);
            if chunk.is_empty() {
                break;
            }
            self.poisoned = true;
            self.commit_chunk(chunk, options, &mut summary)?;
            self.poisoned = false;
        }
        Ok(summary)
    }

    fn commit_chunk(
        &mut self,
        chunk: Chunk,
        options: &IngestOptions,
        summary: &mut IngestSummary,
    ) -> Result<()> {
        let Chunk {
            events,
            positions,
            raw,
            mut quarantine,
            mut quality,
        } = chunk;
        let now = options.now;
        // The tenant of each delivery, for the quality counts of those the core drops.
        let tenants: Vec<TenantId> = events.iter().map(|event| event.tenant_id.clone()).collect();
        let deliveries: Vec<Delivery<'_>> = events
            .into_iter()
            .zip(&positions)
            .map(|(event, position)| Delivery {
                event,
                origin: Origin {
                    source: &options.source,
                    position,
                },
            })
            .collect();
        let mut output = self.aggregator.process(now, deliveries);
        let raw: Vec<&[u8]> = raw.iter().map(Vec::as_slice).collect();
        let delivered = Delivered {
            tenants: &tenants,
            positions: &positions,
            raw: &raw,
        };
        let outcomes = account(
            &mut output,
            &delivered,
            &options.source,
            now,
            &mut quality,
            &mut quarantine,
        );
        summary.accepted += outcomes.accepted;
        summary.late += outcomes.late;
        summary.duplicates += outcomes.duplicates;
        for (reason, number) in outcomes.rejected {
            *summary.rejected.entry(reason).or_default() += number;
        }
        let commit = self.store.next_commit()?;
        let objects = self.stage(commit, &output.accepted, &quarantine, now)?;
        self.crash_if(CrashStep::AfterStage, commit);
        let publication = Publication { commit, objects };
        self.store.commit(&Commit {
            rollups: output.rollups,
            changes: output.changes,
            publication: Some(publication.clone()),
            quality,
        })?;
        summary.commits += 1;
        self.crash_if(CrashStep::AfterCommit, commit);
        let crash = self.crash_at.filter(|point| {
            *point
                == CrashPoint {
                    step: CrashStep::AfterFirstPromote,
                    commit,
                }
        });
        publish(&self.bucket, &mut self.store, &publication, crash.is_some())?;
        summary.objects.extend(
            publication
                .objects
                .into_iter()
                .map(|(_, final_key)| final_key),
        );
        Ok(())
    }

    /// Writes the chunk's events files (one per tenant and day) and its quarantine file under
    /// the staging prefix; returns `(staging key, final key)` pairs.
    fn stage(
        &self,
        commit: u64,
        accepted: &[Accepted],
        quarantine: &[QuarantineRecord],
        now: Timestamp,
    ) -> Result<Vec<(String, String)>> {
        let object_name = format!("part-{commit:010}");
        let mut objects = Vec::new();
        for (final_key, bytes) in events_objects(accepted, now, &object_name)? {
            objects.push((self.put_staged(commit, &final_key, &bytes)?, final_key));
        }
        if !quarantine.is_empty() {
            let final_key = quarantine_object_key(now, &object_name);
            objects.push((
                self.put_staged(commit, &final_key, &encode_records(quarantine))?,
                final_key,
            ));
        }
        Ok(objects)
    }

    fn put_staged(&self, commit: u64, final_key: &str, bytes: &[u8]) -> Result<String> {
        let staging_key = format!("{STAGING_PREFIX}{commit:010}/{final_key}");
        self.bucket.put(&staging_key, bytes)?;
        Ok(staging_key)
    }

    fn crash_if(&self, step: CrashStep, commit: u64) {
        if self.crash_at == Some(CrashPoint { step, commit }) {
            eprintln!("tally: aborting at {step:?} of commit {commit} (TALLY_CRASH_AT)");
            std::process::abort();
        }
    }
}

/// Promotes every object of a committed publication, then marks it done. Safe to repeat.
fn publish<B: Bucket, S: MeteringStore>(
    bucket: &B,
    store: &mut S,
    publication: &Publication,
    crash_after_first: bool,
) -> Result<()> {
    for (staging_key, final_key) in &publication.objects {
        bucket.promote(staging_key, final_key)?;
        if crash_after_first {
            eprintln!(
                "tally: aborting after the first promotion of commit {} (TALLY_CRASH_AT)",
                publication.commit
            );
            std::process::abort();
        }
    }
    store.finish_publication(publication.commit)
}

/// Finishes committed publications and deletes staged objects no commit refers to.
fn recover<B: Bucket, S: MeteringStore>(bucket: &B, store: &mut S) -> Result<()> {
    for publication in store.pending_publications()? {
        publish(bucket, store, &publication, false)?;
    }
    for key in bucket.list(STAGING_PREFIX)? {
        bucket.delete(&key)?;
    }
    Ok(())
}

/// The lines of one commit, parsed.
#[derive(Default)]
struct Chunk {
    events: Vec<UsageEvent>,
    positions: Vec<String>,
    /// The raw line of each event, kept to quarantine time-based refusals.
    raw: Vec<Vec<u8>>,
    quarantine: Vec<QuarantineRecord>,
    /// Quality counts of the lines refused before the core.
    quality: QualityCounts,
}

impl Chunk {
    fn is_empty(&self) -> bool {
        self.events.is_empty() && self.quarantine.is_empty()
    }

    /// Counts a refused line and keeps it, raw, for the quarantine.
    fn refuse(
        &mut self,
        rejection: Rejection,
        options: &IngestOptions,
        position: String,
        raw: &[u8],
        truncated: bool,
        summary: &mut IngestSummary,
    ) {
        *summary.rejected.entry(rejection.reason).or_default() += 1;
        let tenant = tenant_of_line(raw);
        self.quality.add(
            tenant.as_ref(),
            options.now,
            Outcome::Rejected(rejection.reason),
        );
        let record = QuarantineRecord::new(
            rejection,
            &options.source,
            position,
            options.now,
            raw,
            truncated,
        );
        self.quarantine.push(record);
    }

    fn read(
        reader: &mut LineReader<'_>,
        catalog: &MeterCatalog,
        tenants: &TenantGate,
        options: &IngestOptions,
        summary: &mut IngestSummary,
    ) -> Result<Chunk> {
        let mut chunk = Chunk::default();
        while chunk.events.len() + chunk.quarantine.len() < options.commit_every {
            let Some(line) = reader.next_line()? else {
                break;
            };
            summary.lines += 1;
            let position = reader.line_number.to_string();
            if line.too_long {
                let rejection = Rejection::new(
                    RejectReason::TooLarge,
                    format!("line is longer than {MAX_EVENT_BYTES} bytes"),
                );
                chunk.refuse(rejection, options, position, &line.bytes, true, summary);
                continue;
            }
            if line.bytes.iter().all(u8::is_ascii_whitespace) {
                summary.blank_lines += 1;
                continue;
            }
            let parsed = parse_event(&line.bytes, catalog)
                .and_then(|event| tenants.check(&event.tenant_id).map(|()| event));
            match parsed {
                Ok(event) => {
                    chunk.events.push(event);
                    chunk.positions.push(position);
                    chunk.raw.push(line.bytes);
                }
                Err(rejection) => {
                    chunk.refuse(rejection, options, position, &line.bytes, false, summary);
                }
            }
        }
        Ok(chunk)
    }
}
