//! The pipeline end to end, in process: the sample month through the in-memory adapters and
//! through the embedded ones, held against the naive reference; re-ingest, reopen and recovery
//! after a crash between commit and publish.

mod common;

use std::collections::BTreeMap;

use tally_aggregator::{Granularity, Rollup, RollupDelta, RollupKey};
use tally_runtime::embedded::{LocalBucket, RedbStore};
use tally_runtime::memory::{MemoryBucket, MemoryStore};
use tally_runtime::pipeline::{DEFAULT_COMMIT_EVERY, IngestOptions, IngestSummary, Pipeline};
use tally_runtime::ports::{Bucket, Commit, MeteringStore, Publication, RollupFilter};
use tally_sample::SampleRun;
use tally_schemas::layout::STAGING_PREFIX;
use tally_schemas::{TenantId, Timestamp};
use tally_testkit::ReferenceOutcome;

use common::{
    Totals, assert_same_rows, at, config, event_rows, expected, expected_event_rows, expected_late,
    ingest, open_embedded, open_memory, quarantine_records, rollup_values, sample_runs,
};

/// A small commit size, so each run spans many commits and events of one partition are split
/// over several objects.
const SMALL_COMMIT_EVERY: usize = 1_000;

/// Checks everything the pipeline left against the reference: rollups, summary counts, events
/// files and quarantine.
fn assert_matches_reference<B: Bucket, S: MeteringStore>(
    pipeline: &Pipeline<B, S>,
    runs: &[SampleRun],
    summaries: &[IngestSummary],
    outcome: &ReferenceOutcome,
) {
    // THEN (a) every rollup has the reference's value and event count, and no other exists.
    let actual = rollup_values(pipeline.store());
    assert!(!outcome.rollups.is_empty());
    assert_eq!(actual.len(), outcome.rollups.len(), "number of rollups");
    for (key, expected_value) in &outcome.rollups {
        assert_eq!(actual.get(key), Some(expected_value), "rollup {key:?}");
    }
    // AND (b) the summaries count what the reference counts.
    let mut totals = Totals::default();
    summaries.iter().for_each(|summary| totals.add(summary));
    let lines: usize = runs.iter().map(|run| run.lines.len()).sum();
    assert_eq!(totals.lines, lines as u64, "lines read");
    assert_eq!(totals.blank_lines, 0);
    assert_eq!(totals.accepted, outcome.accepted.len() as u64, "accepted");
    assert_eq!(totals.duplicates, outcome.duplicates as u64, "duplicates");
    let expected_rejected: BTreeMap<String, u64> = outcome
        .rejected
        .iter()
        .map(|(reason, count)| (reason.clone(), *count as u64))
        .collect();
    assert_eq!(totals.rejected, expected_rejected, "rejected by reason");
    assert_eq!(totals.late, expected_late(outcome), "late");
    assert!(
        totals.late > 0 && totals.duplicates > 0,
        "the sample exercises lateness and re-sends"
    );
    // AND (c) the events files hold exactly one row per accepted event, each under its
    // tenant's and day's partition.
    let rows = event_rows(pipeline.bucket());
    let expected_rows = expected_event_rows(outcome);
    assert_eq!(
        rows.values().sum::<usize>(),
        outcome.accepted.len(),
        "events rows"
    );
    assert_same_rows(&rows, &expected_rows, "events files vs accepted events");
    // AND (d) the quarantine holds every refused line once, raw, with reason and origin.
    assert_quarantine_holds_the_refused_lines(pipeline.bucket(), runs, &totals);
    // AND every object a summary reports exists, and nothing is left staged.
    let reported: Vec<&String> = summaries
        .iter()
        .flat_map(|summary| &summary.objects)
        .collect();
    for key in &reported {
        assert!(
            pipeline.bucket().get(key).unwrap().is_some(),
            "{key} is reported but missing"
        );
    }
    let published = pipeline.bucket().list("tenants/").unwrap().len()
        + pipeline.bucket().list("quarantine/").unwrap().len();
    assert_eq!(reported.len(), published, "objects reported vs published");
    assert_eq!(
        pipeline.bucket().list(STAGING_PREFIX).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        pipeline.store().pending_publications().unwrap(),
        Vec::<Publication>::new()
    );
}

fn assert_quarantine_holds_the_refused_lines(
    bucket: &impl Bucket,
    runs: &[SampleRun],
    totals: &Totals,
) {
    let records = quarantine_records(bucket);
    assert_eq!(
        records.len() as u64,
        totals.rejected_total(),
        "quarantine records"
    );
    let mut by_reason: BTreeMap<String, u64> = BTreeMap::new();
    for (_, record) in &records {
        *by_reason
            .entry(record.reason.as_str().to_owned())
            .or_default() += 1;
    }
    assert_eq!(by_reason, totals.rejected, "quarantine records by reason");
    let mut by_line = BTreeMap::new();
    for (key, record) in &records {
        let run = runs
            .iter()
            .find(|run| run.name == record.source)
            .expect("a known source");
        let line: usize = record.position.parse().expect("positions are line numbers");
        assert_eq!(
            record.raw.as_deref(),
            Some(run.lines[line - 1].as_str()),
            "raw line {line} of {}",
            run.name
        );
        assert!(!record.raw_truncated);
        assert_eq!(record.received_at, run.now);
        assert!(
            key.starts_with(&format!("quarantine/dt={}/", run.now.date_string())),
            "{key}"
        );
        let earlier = by_line.insert((record.source.clone(), line), record.reason);
        assert_eq!(
            earlier, None,
            "line {line} of {} quarantined twice",
            run.name
        );
    }
    // Every line the sample meant to be refused is there with the reason it was meant for.
    for run in runs {
        for bad in &run.bad_lines {
            let reason = by_line.get(&(run.name.clone(), bad.index + 1));
            assert_eq!(
                reason,
                Some(&bad.reason),
                "bad line {} of {}",
                bad.index + 1,
                run.name
            );
        }
    }
}

/// Ingests every run a second time and checks that nothing counts twice.
fn assert_reingest_changes_nothing<B: Bucket, S: MeteringStore>(
    pipeline: &mut Pipeline<B, S>,
    runs: &[SampleRun],
    first: &[IngestSummary],
    commit_every: usize,
) {
    let rollups_before: Vec<(RollupKey, Rollup)> =
        pipeline.store().rollups(&RollupFilter::default()).unwrap();
    let events_before = pipeline.bucket().list("tenants/").unwrap();
    let mut first_totals = Totals::default();
    first.iter().for_each(|summary| first_totals.add(summary));
    // WHEN every run is ingested again
    let mut again = Totals::default();
    for run in runs {
        again.add(&ingest(pipeline, run, commit_every));
    }
    // THEN every event is a duplicate, the rollups are unchanged to the last digit, no events
    // object is added, and the bad lines are refused again for the same reasons.
    assert_eq!(again.accepted, 0);
    assert_eq!(
        again.duplicates,
        first_totals.accepted + first_totals.duplicates
    );
    assert_eq!(again.rejected, first_totals.rejected);
    assert_eq!(
        pipeline.store().rollups(&RollupFilter::default()).unwrap(),
        rollups_before
    );
    assert_eq!(pipeline.bucket().list("tenants/").unwrap(), events_before);
}

fn ingest_all<B: Bucket, S: MeteringStore>(
    pipeline: &mut Pipeline<B, S>,
    runs: &[SampleRun],
    commit_every: usize,
) -> Vec<IngestSummary> {
    runs.iter()
        .map(|run| ingest(pipeline, run, commit_every))
        .collect()
}

fn month_end_to_end<B: Bucket, S: MeteringStore>(
    mut pipeline: Pipeline<B, S>,
    commit_every: usize,
) {
    // GIVEN the first days of the sample month and the reference's outcome for them
    let runs = sample_runs();
    let outcome = expected(&runs);
    // WHEN each day's run is ingested
    let summaries = ingest_all(&mut pipeline, &runs, commit_every);
    // THEN the pipeline matches the reference, and a second delivery of everything changes
    // nothing.
    assert_matches_reference(&pipeline, &runs, &summaries, &outcome);
    assert_reingest_changes_nothing(&mut pipeline, &runs, &summaries, commit_every);
}

#[test]
fn given_the_sample_month_when_ingested_in_memory_in_small_commits_then_it_matches_the_reference() {
    month_end_to_end(open_memory(), SMALL_COMMIT_EVERY);
}

#[test]
fn given_the_sample_month_when_ingested_in_memory_in_default_commits_then_it_matches_the_reference()
{
    month_end_to_end(open_memory(), DEFAULT_COMMIT_EVERY);
}

#[test]
fn given_the_sample_month_when_ingested_embedded_in_small_commits_then_it_matches_the_reference() {
    let directory = tempfile::tempdir().unwrap();
    month_end_to_end(open_embedded(directory.path()), SMALL_COMMIT_EVERY);
}

#[test]
fn given_the_sample_month_when_ingested_embedded_in_default_commits_then_it_matches_the_reference()
{
    let directory = tempfile::tempdir().unwrap();
    month_end_to_end(open_embedded(directory.path()), DEFAULT_COMMIT_EVERY);
}

#[test]
fn given_an_embedded_data_dir_when_the_pipeline_is_reopened_between_runs_then_the_result_is_the_same_as_one_pipeline()
 {
    let runs = sample_runs();
    let outcome = expected(&runs);
    // GIVEN one pipeline that ingests every run
    let continuous_directory = tempfile::tempdir().unwrap();
    let mut continuous = open_embedded(continuous_directory.path());
    let continuous_summaries = ingest_all(&mut continuous, &runs, SMALL_COMMIT_EVERY);
    // WHEN another data dir gets the same runs, the pipeline dropped and reopened before each
    let reopened_directory = tempfile::tempdir().unwrap();
    let mut reopened_summaries = Vec::new();
    for run in &runs {
        let mut pipeline = open_embedded(reopened_directory.path());
        reopened_summaries.push(ingest(&mut pipeline, run, SMALL_COMMIT_EVERY));
    }
    let reopened = open_embedded(reopened_directory.path());
    // THEN every run did the same, the rollups are equal to the last digit, the same objects
    // exist under the same keys, and both match the reference.
    assert_eq!(reopened_summaries, continuous_summaries);
    assert_eq!(
        reopened.store().rollups(&RollupFilter::default()).unwrap(),
        continuous
            .store()
            .rollups(&RollupFilter::default())
            .unwrap()
    );
    assert_eq!(
        reopened.bucket().list("").unwrap(),
        continuous.bucket().list("").unwrap()
    );
    assert_matches_reference(&reopened, &runs, &reopened_summaries, &outcome);
    assert_eq!(
        reopened.store().next_commit().unwrap(),
        continuous.store().next_commit().unwrap()
    );
}

// ---------------------------------------------------------------------------------------------
// Recovery
// ---------------------------------------------------------------------------------------------

fn events_key(commit: u64, day: &str) -> String {
    format!("tenants/t1/usage/events/dt={day}/part-{commit:010}.parquet")
}

fn staged(commit: u64, final_key: &str) -> String {
    format!("{STAGING_PREFIX}{commit:010}/{final_key}")
}

/// Leaves `bucket` and `store` as a crash would: commit 1 durable with three objects, the
/// first already promoted, the others still staged; plus a staged object of commit 2, which
/// crashed before its commit.
fn crash_between_commit_and_publish(
    bucket: &impl Bucket,
    store: &mut impl MeteringStore,
) -> Publication {
    let objects: Vec<(String, String)> = [
        events_key(1, "2026-10-01"),
        events_key(1, "2026-10-02"),
        "quarantine/dt=2026-10-03/part-0000000001.ndjson".to_owned(),
    ]
    .into_iter()
    .map(|final_key| (staged(1, &final_key), final_key))
    .collect();
    for (staging_key, final_key) in &objects {
        bucket.put(staging_key, final_key.as_bytes()).unwrap();
    }
    let publication = Publication { commit: 1, objects };
    let calls = RollupKey {
        tenant_id: TenantId::parse("t1").unwrap(),
        metric: "api_calls".into(),
        granularity: Granularity::Day,
        window_start: at("2026-10-01T00:00:00Z"),
    };
    let delta = RollupDelta {
        add: 3.into(),
        events: 3,
        ..RollupDelta::default()
    };
    let commit = Commit {
        rollups: [(calls, delta)].into_iter().collect(),
        publication: Some(publication.clone()),
        ..Commit::default()
    };
    assert_eq!(store.next_commit().unwrap(), 1);
    store.commit(&commit).unwrap();
    let (first_staged, first_final) = &publication.objects[0];
    bucket.promote(first_staged, first_final).unwrap();
    bucket
        .put(&staged(2, &events_key(2, "2026-10-04")), b"never committed")
        .unwrap();
    publication
}

fn recovery_on_open<B: Bucket, S: MeteringStore>(bucket: B, mut store: S) {
    // GIVEN a crash after commit 1 was durable, during its publication, and one before commit 2
    let publication = crash_between_commit_and_publish(&bucket, &mut store);
    // WHEN the pipeline opens over the same bucket and store
    let mut pipeline = Pipeline::open(bucket, store, config()).unwrap();
    // THEN every object of commit 1 is at its final key with its staged bytes, the publication
    // is no longer pending, and the uncommitted staged object is gone.
    for (_, final_key) in &publication.objects {
        assert_eq!(
            pipeline.bucket().get(final_key).unwrap(),
            Some(final_key.as_bytes().to_vec())
        );
    }
    assert_eq!(
        pipeline.store().pending_publications().unwrap(),
        Vec::<Publication>::new()
    );
    assert_eq!(
        pipeline.bucket().list(STAGING_PREFIX).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        pipeline.bucket().get(&events_key(2, "2026-10-04")).unwrap(),
        None
    );
    let mut published = pipeline.bucket().list("").unwrap();
    published.sort();
    let mut expected_keys: Vec<String> = publication
        .objects
        .iter()
        .map(|(_, final_key)| final_key.clone())
        .collect();
    expected_keys.sort();
    assert_eq!(published, expected_keys);
    // AND the next ingest takes commit 2 and writes its own objects beside them.
    let line = r#"{"tenant_id":"t1","metric":"api_calls","timestamp":"2026-10-04T10:00:00Z","event_id":"e-1"}"#;
    let options = IngestOptions {
        source: "after-crash".into(),
        now: at("2026-10-04T12:00:00Z"),
        commit_every: 10,
    };
    let summary = pipeline
        .ingest(line.as_bytes(), &options, &mut |_| {})
        .unwrap();
    assert_eq!(summary.objects, [events_key(2, "2026-10-04")]);
    assert_eq!(pipeline.store().next_commit().unwrap(), 3);
    assert_eq!(
        pipeline.bucket().list("").unwrap().len(),
        expected_keys.len() + 1
    );
}

#[test]
fn given_in_memory_adapters_after_a_crash_between_commit_and_publish_when_opened_then_the_publication_is_finished()
 {
    recovery_on_open(MemoryBucket::default(), MemoryStore::default());
}

#[test]
fn given_embedded_adapters_after_a_crash_between_commit_and_publish_when_opened_then_the_publication_is_finished()
 {
    let directory = tempfile::tempdir().unwrap();
    let bucket = LocalBucket::open(directory.path().join("bucket")).unwrap();
    let store = RedbStore::open(&directory.path().join("tables.redb")).unwrap();
    recovery_on_open(bucket, store);
}

#[test]
fn given_staged_objects_without_a_pending_publication_when_opened_then_they_are_deleted() {
    // GIVEN a crash after staging, before the commit: objects staged, nothing committed
    let bucket = MemoryBucket::default();
    bucket
        .put(&staged(1, &events_key(1, "2026-10-01")), b"rows")
        .unwrap();
    bucket
        .put(
            &staged(1, "quarantine/dt=2026-10-01/part-0000000001.ndjson"),
            b"bad",
        )
        .unwrap();
    bucket
        .put(
            "tenants/t1/usage/events/dt=2026-09-30/part-0000000000.parquet",
            b"older",
        )
        .unwrap();
    // WHEN the pipeline opens
    let pipeline = Pipeline::open(bucket, MemoryStore::default(), config()).unwrap();
    // THEN the staged objects are deleted, none published, and other objects stay.
    assert_eq!(
        pipeline.bucket().list("").unwrap(),
        ["tenants/t1/usage/events/dt=2026-09-30/part-0000000000.parquet"]
    );
    assert_eq!(pipeline.store().next_commit().unwrap(), 1);
}

#[test]
fn given_a_commit_size_out_of_range_when_ingesting_then_it_is_refused_before_any_work() {
    let mut pipeline = open_memory();
    let line = r#"{"tenant_id":"t1","metric":"api_calls","timestamp":"2026-10-04T10:00:00Z"}"#;
    for commit_every in [0, tally_runtime::pipeline::MAX_COMMIT_EVERY + 1] {
        let options = IngestOptions {
            source: "s".into(),
            now: Timestamp::from_millis(0),
            commit_every,
        };
        assert!(
            pipeline
                .ingest(line.as_bytes(), &options, &mut |_| {})
                .is_err()
        );
    }
    assert_eq!(pipeline.store().next_commit().unwrap(), 1);
    assert_eq!(pipeline.bucket().list("").unwrap(), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// Lines
// ---------------------------------------------------------------------------------------------

/// A valid event padded with spaces inside the object to exactly `length` bytes.
fn event_of_length(event_id: &str, length: usize) -> String {
    let start = format!(
        r#"{{"tenant_id":"t1","metric":"api_calls","timestamp":"2026-10-04T10:00:00Z","event_id":"{event_id}""#
    );
    format!("{start}{}}}", " ".repeat(length - start.len() - 1))
}

#[test]
fn given_crlf_blank_binary_and_oversized_lines_when_ingested_then_each_is_counted_or_quarantined_raw()
 {
    let limit = tally_schemas::limits::MAX_EVENT_BYTES;
    let at_limit = event_of_length("at-limit", limit);
    let over_limit = event_of_length("over-limit", limit + 1);
    // GIVEN CRLF line endings, a blank line, a line that is not UTF-8, an event of exactly the
    // size limit, and one a byte over it
    let mut input = Vec::new();
    for line in [
        event_of_length("small", 200).as_bytes(),
        b"   ",
        b"{\"tenant_id\":\"t1\xff\"}",
        at_limit.as_bytes(),
        over_limit.as_bytes(),
    ] {
        input.extend_from_slice(line);
        input.extend_from_slice(b"\r\n");
    }
    let mut pipeline = open_memory();
    let options = IngestOptions {
        source: "crlf.ndjson".into(),
        now: at("2026-10-04T12:00:00Z"),
        commit_every: 2,
    };
    // WHEN the input is ingested
    let summary = pipeline
        .ingest(input.as_slice(), &options, &mut |_| {})
        .unwrap();
    // THEN both events within the limit count, the blank line is skipped, and the other two are
    // quarantined with their line numbers: the binary one in base64, the long one truncated.
    assert_eq!(
        (summary.lines, summary.blank_lines, summary.accepted),
        (5, 1, 2)
    );
    let records: Vec<_> = quarantine_records(pipeline.bucket())
        .into_iter()
        .map(|(_, record)| record)
        .collect();
    assert_eq!(records.len(), 2);
    let binary = records
        .iter()
        .find(|record| record.position == "3")
        .expect("line 3 quarantined");
    assert_eq!(binary.reason.as_str(), "invalid_json");
    assert_eq!(
        (binary.raw.as_deref(), binary.raw_base64.as_deref()),
        (None, Some("eyJ0ZW5hbnRfaWQiOiJ0Mf8ifQ=="))
    );
    let long = records
        .iter()
        .find(|record| record.position == "5")
        .expect("line 5 quarantined");
    assert_eq!(long.reason.as_str(), "too_large");
    assert!(long.raw_truncated);
    assert_eq!(long.raw.as_deref(), Some(&over_limit[..limit]));
    assert_eq!(event_rows(pipeline.bucket()).values().sum::<usize>(), 2);
}

// ---------------------------------------------------------------------------------------------
// Failed writes
// ---------------------------------------------------------------------------------------------

/// Where a store write fails, in which commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    /// The commit is refused; nothing of it is durable.
    CommitRefused(u64),
    /// The commit is durable but its caller is told it failed (a lost reply).
    CommitReplyLost(u64),
    /// Marking the publication done fails after its objects were promoted.
    FinishRefused(u64),
}

/// A store that fails once, as `failure` says, and otherwise forwards to `inner`.
struct FailingStore<S> {
    inner: S,
    failure: Failure,
}

fn injected() -> tally_runtime::Error {
    tally_runtime::Error::Invalid("injected failure".into())
}

impl<S: MeteringStore> MeteringStore for FailingStore<S> {
    fn load_state(&self) -> tally_runtime::Result<tally_aggregator::StateSnapshot> {
        self.inner.load_state()
    }
    fn next_commit(&self) -> tally_runtime::Result<u64> {
        self.inner.next_commit()
    }
    fn commit(&mut self, commit: &Commit) -> tally_runtime::Result<()> {
        let number = self.inner.next_commit()?;
        if self.failure == Failure::CommitRefused(number) {
            return Err(injected());
        }
        self.inner.commit(commit)?;
        if self.failure == Failure::CommitReplyLost(number) {
            return Err(injected());
        }
        Ok(())
    }
    fn pending_publications(&self) -> tally_runtime::Result<Vec<Publication>> {
        self.inner.pending_publications()
    }
    fn finish_publication(&mut self, commit: u64) -> tally_runtime::Result<()> {
        if self.failure == Failure::FinishRefused(commit) {
            return Err(injected());
        }
        self.inner.finish_publication(commit)
    }
    fn rollups(&self, filter: &RollupFilter) -> tally_runtime::Result<Vec<(RollupKey, Rollup)>> {
        self.inner.rollups(filter)
    }
    fn quality(
        &self,
        tenant_id: Option<&str>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> tally_runtime::Result<Vec<(tally_runtime::quality::QualityKey, u64)>> {
        self.inner.quality(tenant_id, from, to)
    }
    fn replace_rollups(
        &mut self,
        tenant_id: Option<&str>,
        rollups: &std::collections::BTreeMap<RollupKey, Rollup>,
    ) -> tally_runtime::Result<()> {
        self.inner.replace_rollups(tenant_id, rollups)
    }
    fn dedup_key(&mut self) -> tally_runtime::Result<[u8; 16]> {
        self.inner.dedup_key()
    }
    fn check_meters(&mut self, meters: &[tally_schemas::Meter]) -> tally_runtime::Result<()> {
        self.inner.check_meters(meters)
    }
}

#[test]
fn given_a_store_write_that_fails_mid_run_when_reopened_and_the_run_is_read_again_then_every_event_counts_once()
 {
    // Three days in commits of 500 lines: the failing commit is in the middle of day 2.
    let runs: Vec<SampleRun> = sample_runs().into_iter().take(3).collect();
    let outcome = expected(&runs);
    let commits_of_day_one = runs[0].lines.len().div_ceil(500) as u64;
    let failing_commit = commits_of_day_one + 3;
    for failure in [
        Failure::CommitRefused(failing_commit),
        Failure::CommitReplyLost(failing_commit),
        Failure::FinishRefused(failing_commit),
    ] {
        let directory = tempfile::tempdir().unwrap();
        let bucket = LocalBucket::open(directory.path().join("bucket")).unwrap();
        let inner = RedbStore::open(&directory.path().join("tables.redb")).unwrap();
        let mut pipeline =
            Pipeline::open(bucket, FailingStore { inner, failure }, config()).unwrap();
        ingest(&mut pipeline, &runs[0], 500);
        // GIVEN day 2 fails at the injected write
        let options = |run: &SampleRun| IngestOptions {
            source: run.name.clone(),
            now: run.now,
            commit_every: 500,
        };
        let text = runs[1].lines.join("\n");
        let error = pipeline.ingest(text.as_bytes(), &options(&runs[1]), &mut |_| {});
        assert!(error.is_err(), "{failure:?}: the failure is reported");
        // THEN the pipeline refuses more work until it is reopened
        let refused = pipeline.ingest(text.as_bytes(), &options(&runs[1]), &mut |_| {});
        assert!(
            refused.is_err(),
            "{failure:?}: a pipeline whose commit failed must be reopened"
        );
        drop(pipeline);
        // WHEN it is reopened, day 2 read again from the start, and day 3 read
        let mut reopened = open_embedded(directory.path());
        ingest(&mut reopened, &runs[1], 500);
        ingest(&mut reopened, &runs[2], 500);
        // THEN the rollups and the events files are exactly the reference's.
        let rollups = rollup_values(reopened.store());
        assert!(
            rollups == outcome.rollups,
            "{failure:?}: rollups differ from the reference"
        );
        let rows = event_rows(reopened.bucket());
        assert_same_rows(
            &rows,
            &expected_event_rows(&outcome),
            &format!("{failure:?}"),
        );
        assert_eq!(
            reopened.bucket().list(STAGING_PREFIX).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            reopened.store().pending_publications().unwrap(),
            Vec::<Publication>::new()
        );
    }
}
