//! The benchmark dataset: a deterministic stream of NDJSON usage events, as large as asked,
//! written line by line so that its size is bounded by the disk, not by memory.
//!
//! Tenants are Zipf-distributed (the k-th largest sends in proportion to 1/k), every meter of the
//! default catalog appears, about 1 % of lines are exact re-sends of a recent line (a producer's
//! retry) and about 5 % are late: stamped between one hour and two days before the stream's
//! clock. Every event is valid and within the acceptance window of [`BenchOptions::now`], so
//! what a pipeline does with the lines is decided by duplicates and lateness alone.

use std::io::{self, Write};

use tally_schemas::Timestamp;
use tally_schemas::time::{MILLIS_PER_HOUR, MILLIS_PER_MINUTE};

use crate::json::{JsonObject, TimeForm, decimal_text, format_time, micros_of};
use crate::rng::Rng;

/// The most tenants a dataset spreads its events over.
pub const MAX_BENCH_TENANTS: usize = 100_000;
/// Re-sent lines per thousand.
pub const DUPLICATES_PER_MILLE: u64 = 10;
/// Late lines per thousand (of the lines that are not re-sends).
pub const LATE_PER_MILLE: u64 = 50;
/// How many recent lines a re-send is drawn from.
const RESEND_WINDOW: usize = 1_024;
/// The scale of the Zipf weights: tenant k weighs `ZIPF_SCALE / k`.
const ZIPF_SCALE: u64 = 1_000_000_000;

/// The share of each meter, per thousand events, in catalog order.
const METERS: [(&str, u64); 5] = [
    ("api_calls", 700),
    ("active_users", 150),
    ("cpu_hours", 60),
    ("memory_gb_hours", 50),
    ("storage_gb", 40),
];
/// What an API call's `endpoint` dimension is drawn from.
const ENDPOINTS: [&str; 6] = [
    "/v1/orders",
    "/v1/orders/{id}",
    "/v1/customers",
    "/v1/invoices",
    "/v1/search",
    "/v1/webhooks",
];
/// The regions events are tagged with.
const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-southeast-2"];

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BenchOptions {
    /// Seeds every choice: the same options give the same bytes.
    pub seed: u64,
    /// Lines to write, re-sends included.
    pub events: u64,
    /// Tenants, 1 to [`MAX_BENCH_TENANTS`].
    pub tenants: usize,
    /// The stream's clock at the first line.
    pub start: Timestamp,
    /// Hours the stream's clock advances over the whole dataset.
    pub hours: u32,
}

impl BenchOptions {
    /// The processing time the lines are meant for: half an hour after the clock's end.
    pub fn now(&self) -> Timestamp {
        Timestamp::from_millis(
            self.start.as_millis()
                + i64::from(self.hours) * MILLIS_PER_HOUR
                + 30 * MILLIS_PER_MINUTE,
        )
    }

    /// The id of tenant `index` (0 is the largest).
    pub fn tenant_id(index: usize) -> String {
        format!("tenant-{index:05}")
    }
}

/// What a dataset holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BenchSummary {
    /// Lines written.
    pub lines: u64,
    /// Bytes written, newlines included.
    pub bytes: u64,
    /// Lines that re-send an earlier line.
    pub duplicates: u64,
    /// Lines stamped an hour or more behind the clock.
    pub late: u64,
    /// Lines per meter, in the order of the default catalog's meters.
    pub per_meter: Vec<(String, u64)>,
    /// Distinct tenants that sent at least one line.
    pub tenants_seen: usize,
}

/// Writes the dataset of `options` to `out`, one event per line.
///
/// Fails only when `out` does; panics when `options.tenants` is outside
/// `1..=MAX_BENCH_TENANTS` or `options.hours` is 0.
pub fn write_bench_dataset(
    options: &BenchOptions,
    out: &mut impl Write,
) -> io::Result<BenchSummary> {
    assert!(
        (1..=MAX_BENCH_TENANTS).contains(&options.tenants),
        "tenants must be 1 to {MAX_BENCH_TENANTS}"
    );
    assert!(options.hours > 0, "the clock must advance at least an hour");
    let cumulative = zipf_cumulative(options.tenants);
    let total_weight = *cumulative.last().expect("at least one tenant");
    let mut rng = Rng::for_stream(options.seed, &[0xBE_AC]);
    let span_ms = i64::from(options.hours) * MILLIS_PER_HOUR;
    let start_ms = options.start.as_millis();
    let mut summary = BenchSummary {
        per_meter: METERS
            .iter()
            .map(|(name, _)| ((*name).to_owned(), 0))
            .collect(),
        ..BenchSummary::default()
    };
    let mut seen = vec![false; options.tenants];
    let mut recent: Vec<(String, usize)> = Vec::with_capacity(RESEND_WINDOW);
    for index in 0..options.events {
        let (line, meter) = if !recent.is_empty() && rng.per_mille(DUPLICATES_PER_MILLE) {
            summary.duplicates += 1;
            let (line, meter) = &recent[rng.below(recent.len() as u64) as usize];
            (line.clone(), *meter)
        } else {
            let clock = start_ms
                + (i128::from(span_ms) * i128::from(index) / i128::from(options.events.max(1)))
                    as i64;
            let late = rng.per_mille(LATE_PER_MILLE);
            let behind = if late {
                summary.late += 1;
                rng.between(MILLIS_PER_HOUR as u64, 48 * MILLIS_PER_HOUR as u64) as i64
            } else {
                rng.below(60_000) as i64
            };
            let target = rng.below(total_weight);
            let tenant = cumulative.partition_point(|&weight| weight <= target);
            seen[tenant] = true;
            let meter = rng.weighted(&METERS.map(|(_, share)| share));
            let line = event_line(&mut rng, index, tenant, meter, clock - behind);
            if recent.len() < RESEND_WINDOW {
                recent.push((line.clone(), meter));
            } else {
                recent[(index as usize) % RESEND_WINDOW] = (line.clone(), meter);
            }
            (line, meter)
        };
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
        summary.lines += 1;
        summary.bytes += line.len() as u64 + 1;
        summary.per_meter[meter].1 += 1;
    }
    summary.tenants_seen = seen.iter().filter(|seen| **seen).count();
    Ok(summary)
}

/// What a benchmark binary measures: the lines of a dataset file (`--input FILE --now T`, as
/// `scripts/bench` passes them), or, without `--input`, a dataset of `--events N` lines (500,000
/// when absent) generated in memory with [`BenchInput::DEFAULT_TENANTS`] tenants, so that
/// `cargo bench` alone works too.
#[derive(Clone, Debug)]
pub struct BenchInput {
    /// The NDJSON bytes, newline-terminated lines.
    pub bytes: Vec<u8>,
    /// The processing time the lines are meant for.
    pub now: Timestamp,
    /// Where the lines came from, for the report.
    pub source: String,
    /// Whether the figures are wanted as one JSON object (`--json`).
    pub json: bool,
}

impl BenchInput {
    /// Tenants of a dataset generated in memory.
    pub const DEFAULT_TENANTS: usize = 1_000;
    /// Lines of a dataset generated in memory.
    pub const DEFAULT_EVENTS: u64 = 500_000;

    /// The input the command line asks for.
    ///
    /// Panics with a message naming the option when an option's value is missing or invalid, or
    /// the file cannot be read: a benchmark has no one to return an error to.
    pub fn from_args(args: impl Iterator<Item = String>) -> BenchInput {
        let args: Vec<String> = args.collect();
        let value = |name: &str| {
            args.iter().position(|argument| argument == name).map(|at| {
                args.get(at + 1)
                    .unwrap_or_else(|| panic!("{name} takes a value"))
                    .clone()
            })
        };
        let json = args.iter().any(|argument| argument == "--json");
        if let Some(path) = value("--input") {
            let now = value("--now").unwrap_or_else(|| panic!("--input needs --now"));
            let now =
                Timestamp::parse(&now).unwrap_or_else(|_| panic!("--now {now}: not RFC 3339"));
            let bytes =
                std::fs::read(&path).unwrap_or_else(|error| panic!("reading {path}: {error}"));
            return BenchInput {
                bytes,
                now,
                source: path,
                json,
            };
        }
        let events = value("--events").map_or(BenchInput::DEFAULT_EVENTS, |text| {
            text.parse()
                .unwrap_or_else(|_| panic!("--events {text}: not a number"))
        });
        let options = BenchOptions {
            seed: 1,
            events,
            tenants: BenchInput::DEFAULT_TENANTS,
            start: Timestamp::parse("2026-10-01T00:00:00Z").expect("a valid instant"),
            hours: 48,
        };
        let mut bytes = Vec::new();
        write_bench_dataset(&options, &mut bytes).expect("writing to memory");
        BenchInput {
            bytes,
            now: options.now(),
            source: format!(
                "{events} events generated in memory ({} tenants, seed 1)",
                options.tenants
            ),
            json,
        }
    }

    /// The lines, without their newlines; empty lines skipped.
    pub fn lines(&self) -> impl Iterator<Item = &[u8]> {
        self.bytes
            .split(|byte| *byte == b'\n')
            .filter(|line| !line.is_empty())
    }
}

/// The running totals of the Zipf weights `ZIPF_SCALE / k` for k = 1..=tenants.
fn zipf_cumulative(tenants: usize) -> Vec<u64> {
    let mut total = 0;
    (1..=tenants as u64)
        .map(|k| {
            total += ZIPF_SCALE / k;
            total
        })
        .collect()
}

/// One event of `meter` (an index into [`METERS`]) for tenant `tenant` at `at_ms`.
fn event_line(rng: &mut Rng, index: u64, tenant: usize, meter: usize, at_ms: i64) -> String {
    let tenant_id = BenchOptions::tenant_id(tenant);
    let (metric, _) = METERS[meter];
    let mut object = JsonObject::new();
    object
        .string(
            "event_id",
            &format!("ev-{index:010x}-{:04x}", rng.below(1 << 16)),
        )
        .string("tenant_id", &tenant_id)
        .string("metric", metric);
    let region = *rng.pick(&REGIONS);
    let dimensions = match metric {
        "api_calls" => {
            object.raw("value", "1");
            format!(
                r#"{{"endpoint":"{}","region":"{region}"}}"#,
                rng.pick(&ENDPOINTS)
            )
        }
        "active_users" => {
            // Users of a tenant repeat: each tenant has a few thousand.
            format!(
                r#"{{"user_id":"u{}","region":"{region}"}}"#,
                rng.below(4_000)
            )
        }
        "storage_gb" => {
            object.raw(
                "value",
                &decimal_text(rng.between(1, 5_000) * 1_000_000_000 / 8),
            );
            format!(
                r#"{{"bucket":"data-{}","region":"{region}"}}"#,
                rng.below(4)
            )
        }
        _ => {
            // Jobs of a few seconds to an hour, in thousandths.
            object.raw("value", &decimal_text(rng.between(1, 1_000) * 1_000_000));
            format!(r#"{{"job":"j{}","region":"{region}"}}"#, rng.below(100_000))
        }
    };
    let micros = micros_of(Timestamp::from_millis(at_ms));
    object
        .string("timestamp", &format_time(micros, TimeForm::ZuluMillis))
        .raw("dimensions", &dimensions);
    object.finish()
}

#[cfg(test)]
mod tests {
    use tally_schemas::{MeterCatalog, parse_event};

    use super::*;

    fn options(events: u64, tenants: usize) -> BenchOptions {
        BenchOptions {
            seed: 7,
            events,
            tenants,
            start: Timestamp::parse("2026-10-01T00:00:00Z").unwrap(),
            hours: 48,
        }
    }

    fn generate(options: &BenchOptions) -> (Vec<u8>, BenchSummary) {
        let mut out = Vec::new();
        let summary = write_bench_dataset(options, &mut out).unwrap();
        (out, summary)
    }

    #[test]
    fn the_same_options_give_the_same_bytes_and_another_seed_others() {
        let (first, _) = generate(&options(5_000, 50));
        let (second, _) = generate(&options(5_000, 50));
        assert_eq!(first, second);
        let (other, _) = generate(&BenchOptions {
            seed: 8,
            ..options(5_000, 50)
        });
        assert_ne!(first, other);
    }

    #[test]
    fn every_line_is_a_valid_event_within_the_acceptance_window() {
        let options = options(20_000, 100);
        let (out, summary) = generate(&options);
        let catalog = MeterCatalog::defaults();
        let now = options.now().as_millis();
        let text = String::from_utf8(out).unwrap();
        let mut lines = 0;
        for line in text.lines() {
            let event = parse_event(line.as_bytes(), &catalog).unwrap_or_else(|error| {
                panic!("{line}: {error:?}");
            });
            let at = event.event_time.as_millis();
            assert!(at <= now && at >= now - 35 * 24 * MILLIS_PER_HOUR, "{line}");
            lines += 1;
        }
        assert_eq!(lines, summary.lines);
        assert_eq!(summary.bytes, text.len() as u64);
    }

    #[test]
    fn the_mix_holds_its_shares_of_duplicates_lateness_meters_and_tenants() {
        let (out, summary) = generate(&options(100_000, 1_000));
        let text = String::from_utf8(out).unwrap();
        // Re-sends are exact copies: the distinct lines are the rest.
        let distinct: std::collections::HashSet<&str> = text.lines().collect();
        assert_eq!(distinct.len() as u64, summary.lines - summary.duplicates);
        let per_mille = |count: u64| count * 1_000 / summary.lines;
        assert!(
            (8..=12).contains(&per_mille(summary.duplicates)),
            "{summary:?}"
        );
        assert!((45..=55).contains(&per_mille(summary.late)), "{summary:?}");
        for (meter, count) in &summary.per_meter {
            assert!(*count > 1_000, "{meter}: {count}");
        }
        // Zipf: the largest tenant sends far more than the hundredth.
        let count = |tenant: usize| {
            let needle = format!("\"tenant_id\":\"{}\"", BenchOptions::tenant_id(tenant));
            text.lines().filter(|line| line.contains(&needle)).count()
        };
        let (first, hundredth) = (count(0), count(99));
        assert!(first > 25 * hundredth.max(1), "{first} vs {hundredth}");
        assert!(summary.tenants_seen > 500, "{summary:?}");
    }
}
