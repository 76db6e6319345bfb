//! Deterministic sample usage for Tally: a month of NDJSON arrivals from a small SaaS, for the
//! `tally demo` command and for tests. The same month, options and seed give the same bytes
//! on every machine: no clock, no IO, no randomness from the OS, only a seeded generator.
//!
//! The plan has one run per day of the month, holding the lines that arrived that day: the
//! day's usage of every tenant (API calls with a daily cycle, storage gauge samples, compute
//! jobs, active users), plus what real producers add — events without ids, CloudEvents, every
//! timestamp form, retries sent twice in a row, re-sends days later, late events and bad
//! lines, one kind for each reason the contract refuses an event. The plan says where its bad
//! lines are and counts what it holds; it never says what the pipeline should compute, which
//! tests derive from the lines with an independent reference.

mod arrival;
mod bad;
pub mod bench;
mod encode;
mod json;
pub mod rng;
mod tenant;
mod usage;

#[cfg(test)]
mod tests;

use tally_schemas::time::{MILLIS_PER_DAY, MILLIS_PER_MINUTE, days_in_month};
use tally_schemas::{RejectReason, Timestamp};

use crate::arrival::Arrivals;
use crate::bad::BadContext;
use crate::encode::Encoder;
use crate::json::{MICROS_PER_MILLI, micros_of};
use crate::rng::Rng;
use crate::usage::Usage;

/// The most tenants a plan holds.
pub const MAX_TENANTS: usize = 100;
/// The largest events multiplier. A plan is held in memory: five tenants at scale 20 make
/// about 2.7 million lines.
pub const MAX_SCALE: u32 = 20;
/// How long after the end of its day a run is processed, in minutes.
pub const RUN_DELAY_MINUTES: i64 = 30;
/// Bad lines per thousand good lines of a run (at least one per run).
const BAD_LINES_PER_MILLE: usize = 5;

/// The lines that arrived during one day, processed at `now`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleRun {
    /// `day-01`, `day-02`, ...: the day of the month the lines arrived.
    pub name: String,
    /// The processing time: the end of the day plus [`RUN_DELAY_MINUTES`].
    pub now: Timestamp,
    /// NDJSON lines, each without its trailing newline, in arrival order.
    pub lines: Vec<String>,
    /// Where the intended bad lines are, in line order.
    pub bad_lines: Vec<BadLine>,
}

/// An intended bad line of a run and the reason the contract refuses it for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadLine {
    /// The index of the line in [`SampleRun::lines`].
    pub index: usize,
    /// The refusal: a parse-time reason, or `too_old` / `in_future` relative to the run's `now`.
    pub reason: RejectReason,
}

/// A month of sample arrivals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamplePlan {
    /// The first instant of the month (UTC).
    pub month_start: Timestamp,
    /// The tenant ids, largest tenant first.
    pub tenants: Vec<String>,
    /// One run per day of the month, in order.
    pub runs: Vec<SampleRun>,
    stats: PlanStats,
}

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleOptions {
    /// Seeds every random choice; the same seed gives the same plan.
    pub seed: u64,
    /// Number of tenants, 1 to [`MAX_TENANTS`]; sizes fall tenfold from the first to the last.
    pub tenants: usize,
    /// Multiplies the counted events (API calls, jobs, user activity), 1 to [`MAX_SCALE`].
    /// Storage is sampled every 6 hours whatever the scale.
    pub scale: u32,
}

impl Default for SampleOptions {
    /// Seed 1, five tenants, scale 1: about 135,000 lines in a 31-day month.
    fn default() -> SampleOptions {
        SampleOptions {
            seed: 1,
            tenants: 5,
            scale: 1,
        }
    }
}

/// What a plan holds, counted while it was generated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PlanStats {
    /// Lines in all runs, bad ones and duplicates included.
    pub lines: usize,
    /// Intended bad lines.
    pub bad_lines: usize,
    /// Lines that repeat the line right before them verbatim (the second copy only).
    pub adjacent_duplicates: usize,
    /// Lines that repeat verbatim, with the same id, a line of an earlier run.
    pub resent_duplicates: usize,
    /// Events that arrive 1 to 5 days after their timestamp (their first copy only).
    pub late: usize,
}

/// What `plan` holds: lines, bad lines, duplicates and late events.
pub fn stats(plan: &SamplePlan) -> PlanStats {
    plan.stats
}

/// Generates the sample month starting at `month_start`.
///
/// # Panics
/// When `month_start` is not the first instant of a UTC calendar month, or an option is out of
/// its documented range.
pub fn generate_month(month_start: Timestamp, options: &SampleOptions) -> SamplePlan {
    assert_eq!(
        month_start,
        month_start.floor_month(),
        "month_start must be the first instant of a UTC month"
    );
    assert!(
        (1..=MAX_TENANTS).contains(&options.tenants),
        "tenants must be 1 to {MAX_TENANTS}, not {}",
        options.tenants
    );
    assert!(
        (1..=MAX_SCALE).contains(&options.scale),
        "scale must be 1 to {MAX_SCALE}, not {}",
        options.scale
    );
    let month = Month::new(month_start, options);
    let (runs, stats) = month.generate();
    SamplePlan {
        month_start,
        tenants: month
            .tenants
            .iter()
            .map(|tenant| tenant.id.clone())
            .collect(),
        runs,
        stats,
    }
}

/// The label of a day's stream of encoding choices (format, timestamp form, value form); the
/// labels of usage streams live in `usage`. Separate streams keep each part of a day stable
/// when another part changes.
const STREAM_ENCODE: u64 = 11;
/// The label of a day's stream of arrival choices (late, repeated, re-sent).
const STREAM_ARRIVAL: u64 = 12;
/// The label of a day's stream of bad lines.
const STREAM_BAD: u64 = 13;
/// The label of a day's stream of positions for scattered lines.
const STREAM_SCATTER: u64 = 14;

/// The month being generated.
struct Month {
    start: Timestamp,
    /// `YYYYMM`, in every event id, so the ids of two months never collide within the
    /// 35-day deduplication window.
    tag: String,
    days: u32,
    seed: u64,
    scale: u32,
    tenants: Vec<tenant::Tenant>,
}

impl Month {
    fn new(start: Timestamp, options: &SampleOptions) -> Month {
        let civil = start.civil();
        Month {
            start,
            tag: format!("{:04}{:02}", civil.year, civil.month),
            days: days_in_month(civil.year, civil.month),
            seed: options.seed,
            scale: options.scale,
            tenants: tenant::roster(options.tenants),
        }
    }

    fn day_start(&self, day: u32) -> Timestamp {
        self.start.plus_millis(i64::from(day) * MILLIS_PER_DAY)
    }

    fn generate(&self) -> (Vec<SampleRun>, PlanStats) {
        let mut encoder = Encoder::new(self.tag.clone(), self.tenants.len());
        let mut usage = Usage::new(self.seed, self.scale, &self.tenants);
        let mut arrivals = Arrivals::new(self.days);
        let mut bad_ordinal = 0;
        let mut runs = Vec::new();
        for day in 0..self.days {
            let labels = |stream: u64| [stream, u64::from(day)];
            let mut encode_rng = Rng::for_stream(self.seed, &labels(STREAM_ENCODE));
            let mut arrival_rng = Rng::for_stream(self.seed, &labels(STREAM_ARRIVAL));
            for event in usage.day(day, micros_of(self.day_start(day))) {
                let tenant = &self.tenants[event.tenant];
                let encoded = encoder.encode(&event, tenant, &mut encode_rng);
                arrivals.admit(day, encoded, &mut arrival_rng);
            }
            let now = self
                .day_start(day + 1)
                .plus_millis(RUN_DELAY_MINUTES * MILLIS_PER_MINUTE);
            let bad_count = (arrivals.good_count(day) * BAD_LINES_PER_MILLE / 1_000).max(1);
            let mut bad_rng = Rng::for_stream(self.seed, &labels(STREAM_BAD));
            let bad = (0..bad_count)
                .map(|_| {
                    bad_ordinal += 1;
                    self.bad_line(bad_ordinal, day, now, &mut bad_rng)
                })
                .collect();
            let mut scatter_rng = Rng::for_stream(self.seed, &labels(STREAM_SCATTER));
            let lines = arrivals.close_day(day, bad, &mut scatter_rng);
            runs.push(SampleRun {
                name: format!("day-{:02}", day + 1),
                now,
                lines: lines.lines,
                bad_lines: lines.bad_lines,
            });
        }
        (runs, arrivals.finish())
    }

    /// Bad line number `ordinal` of the month, sent by a random tenant during `day`.
    fn bad_line(
        &self,
        ordinal: u64,
        day: u32,
        now: Timestamp,
        rng: &mut Rng,
    ) -> (String, RejectReason) {
        let tenant = rng.pick(&self.tenants);
        let day_micros = MILLIS_PER_DAY * MICROS_PER_MILLI;
        let context = BadContext {
            tenant_id: &tenant.id,
            event_id: format!("{}-bad-{}-{ordinal:06}", tenant.id, self.tag),
            at_micros: micros_of(self.day_start(day)) + rng.below(day_micros as u64) as i64,
            now,
        };
        bad::bad_line(ordinal - 1, &context, rng)
    }
}
