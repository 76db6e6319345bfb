//! Writes the benchmark dataset (see `tally_sample::bench`) to a file and prints what it holds
//! as one JSON object, including the processing time the lines are meant for.
//!
//! `tally-bench-data --out FILE [--events N] [--tenants T] [--seed S] [--hours H] [--start T]`

use std::io::{BufWriter, Write};
use std::process::ExitCode;

use serde_json::json;
use tally_sample::bench::{BenchOptions, write_bench_dataset};
use tally_schemas::Timestamp;

const USAGE: &str = "usage: tally-bench-data --out FILE [--events N (5000000)] [--tenants T (1000)] \
                     [--seed S (1)] [--hours H (48)] [--start RFC3339 (2026-10-01T00:00:00Z)]";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tally-bench-data: {message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let mut out = None;
    let mut options = BenchOptions {
        seed: 1,
        events: 5_000_000,
        tenants: 1_000,
        start: Timestamp::parse("2026-10-01T00:00:00Z").expect("a valid instant"),
        hours: 48,
    };
    for pair in args.chunks(2) {
        let [name, value] = pair else {
            return Err(format!("{} takes a value", pair[0]));
        };
        let number = |what: &str| {
            value
                .parse::<u64>()
                .map_err(|_| format!("{name} {value}: {what} must be a whole number"))
        };
        match name.as_str() {
            "--out" => out = Some(value.clone()),
            "--events" => options.events = number("the line count")?,
            "--tenants" => {
                options.tenants = usize::try_from(number("the tenant count")?)
                    .map_err(|_| format!("{name} {value}: too large"))?;
            }
            "--seed" => options.seed = number("the seed")?,
            "--hours" => {
                options.hours = u32::try_from(number("the span")?)
                    .map_err(|_| format!("{name} {value}: too large"))?;
            }
            "--start" => {
                options.start = Timestamp::parse(value)
                    .map_err(|_| format!("{name} {value}: not an RFC 3339 instant"))?;
            }
            _ => return Err(format!("unknown option {name}")),
        }
    }
    let out = out.ok_or("--out is required")?;
    if !(1..=tally_sample::bench::MAX_BENCH_TENANTS).contains(&options.tenants)
        || options.hours == 0
    {
        return Err("--tenants must be 1 to 100000 and --hours at least 1".into());
    }
    let file = std::fs::File::create(&out).map_err(|error| format!("creating {out}: {error}"))?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    let summary = write_bench_dataset(&options, &mut writer)
        .and_then(|summary| writer.flush().map(|()| summary))
        .map_err(|error| format!("writing {out}: {error}"))?;
    let per_meter: serde_json::Map<String, serde_json::Value> = summary
        .per_meter
        .iter()
        .map(|(meter, count)| (meter.clone(), json!(count)))
        .collect();
    println!(
        "{}",
        json!({
            "path": out,
            "seed": options.seed,
            "lines": summary.lines,
            "bytes": summary.bytes,
            "duplicates": summary.duplicates,
            "late": summary.late,
            "tenants": options.tenants,
            "tenants_seen": summary.tenants_seen,
            "per_meter": per_meter,
            "now": options.now().to_string(),
        })
    );
    Ok(())
}
