"""Tally's one benchmark command (`scripts/bench`, which runs this with the bench venv's python).

In one run, on this machine, on one deterministic dataset (`tally-bench-data`: Zipf-distributed
tenants, every meter, about 1 % re-sent lines and 5 % late ones), it measures side by side:

- the hot path (decode, validate, dedup, window, aggregate) and a parse-only floor, one core
  (the `hot_path` bench of tally-aggregator);
- `tally ingest` end to end (Parquet and rollups on the embedded default), against DuckDB doing
  the same job on the same file (bench/duckdb_job.py), on one thread and on every core;
- the Lambda shape: 10,000-record Kinesis events through the usage-consumer handler with
  in-memory adapters (the `handler` bench of usage-consumer), CPU milliseconds per batch;
- the peak memory of `tally ingest` on the whole file and on its first fifth, and the dedup
  state's bytes per remembered event id.

It writes the figures to target/bench/results.json, prints them as a Markdown table with the
targets of the performance issue, and, when an earlier results file exists, the change against
it. Absolute figures depend on the machine; the ratios within one run are what to compare.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "target" / "bench"
RESULTS = OUT / "results.json"
GENERATOR_SOURCE = ROOT / "sample" / "src" / "bench.rs"

# The targets of the performance issue: (figure, comparison, bound, what it says).
TARGETS = [
    ("hot_path_events_per_s", ">=", 1_500_000, "hot path, events/s on one core"),
    ("hot_path_vs_floor", ">=", 0.5, "hot path / parse-only floor"),
    ("ingest_speedup_vs_duckdb", ">=", 2.0, "DuckDB (every core) time / tally ingest time"),
    ("lambda_batch_cpu_ms", "<", 10.0, "CPU ms per 10,000-record batch"),
    ("dedup_bytes_per_id", "<=", 16.0, "dedup state, bytes per remembered id"),
    ("ingest_memory_growth", "<=", 1.25, "peak memory, whole file / first fifth"),
]


@dataclass
class Measured:
    """What a child process used: wall and CPU seconds, peak resident memory, its output."""

    wall_s: float
    cpu_s: float
    max_rss_mb: float
    stdout: str


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def measure(command: list[str], **options: Any) -> Measured:
    """Runs `command` to its end; fails loudly, with its output, when it fails."""
    with tempfile.TemporaryFile(mode="w+") as errors:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=errors, text=True, **options
        )
        # Read standard output to its end before waiting (standard error goes to a file, so
        # neither pipe can fill up); wait4 then reaps the child and gives its own resource
        # usage, not the sum over every child so far.
        stdout = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read()
    if process.returncode != 0:
        raise SystemExit(
            f"bench: {' '.join(command)} failed ({process.returncode}):\n{stderr}{stdout[-2000:]}"
        )
    return Measured(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        max_rss_mb=usage.ru_maxrss / 1024,
        stdout=stdout,
    )


def last_json(text: str) -> dict[str, Any]:
    """The JSON object on the last non-empty line of `text`."""
    lines = [line for line in text.splitlines() if line.strip()]
    return json.loads(lines[-1])


def cargo_executables(arguments: list[str]) -> dict[str, str]:
    """Builds with cargo and returns each built executable by target name."""
    command = ["cargo", *arguments, "--message-format=json-render-diagnostics"]
    log(" ".join(command))
    completed = subprocess.run(
        command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(f"bench: {' '.join(command)} failed")
    executables = {}
    for line in completed.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable"):
            executables[message["target"]["name"]] = message["executable"]
    return executables


def build() -> dict[str, str]:
    """The tally binary, the dataset generator and the two bench binaries, in the bench profile
    (release without whole-program LTO, see Cargo.toml)."""
    executables = cargo_executables(
        ["build", "--profile", "bench", "-p", "tally", "--bin", "tally", "-p", "tally-sample",
         "--bin", "tally-bench-data"]
    )
    executables |= cargo_executables(
        ["bench", "--no-run", "-p", "tally-aggregator", "--bench", "hot_path", "-p",
         "usage-consumer", "--bench", "handler"]
    )
    for name in ["tally", "tally-bench-data", "hot_path", "handler"]:
        if name not in executables:
            raise SystemExit(f"bench: cargo built no {name}")
    return executables


def dataset(generator: str, events: int, tenants: int, seed: int) -> dict[str, Any]:
    """The dataset file for these parameters, generated unless an identical one exists (the key
    includes a hash of the generator's source, so a changed generator makes a new file)."""
    digest = hashlib.sha256(GENERATOR_SOURCE.read_bytes()).hexdigest()[:12]
    path = OUT / f"events-{events}-{tenants}-{seed}-{digest}.ndjson"
    summary_path = path.with_suffix(".json")
    if path.exists() and summary_path.exists():
        log(f"reusing {path.relative_to(ROOT)}")
        return json.loads(summary_path.read_text())
    for stale in OUT.glob("events-*.ndjson"):
        stale.unlink()
    log(f"generating {events:,} events for {tenants:,} tenants into {path.relative_to(ROOT)}")
    generated = measure(
        [generator, "--out", str(path), "--events", str(events), "--tenants", str(tenants),
         "--seed", str(seed)]
    )
    summary = last_json(generated.stdout)
    summary_path.write_text(json.dumps(summary, indent=2))
    return summary


def first_fifth(source: Path) -> Path:
    """The first fifth of the lines of `source`, in a file beside it."""
    target = source.with_name(source.stem + "-fifth.ndjson")
    with source.open("rb") as lines:
        total = sum(1 for _ in lines)
    with source.open("rb") as lines, target.open("wb") as out:
        for number, line in enumerate(lines):
            if number >= total // 5:
                break
            out.write(line)
    return target


def registered_data_dir(tally: str, tenants: int) -> Path:
    """A data directory with the dataset's tenants registered (tally ingest counts registered
    tenants only); made once per run, copied for each ingest."""
    template = OUT / "registered"
    shutil.rmtree(template, ignore_errors=True)
    log(f"registering {tenants:,} tenants")
    for index in range(tenants):
        tenant = f"tenant-{index:05}"
        measure(
            [tally, "--data-dir", str(template), "tenants", "create", "--id", tenant, "--name",
             tenant, "--email", f"ops@{tenant}.example"]
        )
    return template


def tally_ingest(tally: str, template: Path, source: Path, now: str, label: str) -> tuple[Measured, dict]:
    data_dir = OUT / f"tally-data-{label}"
    shutil.rmtree(data_dir, ignore_errors=True)
    shutil.copytree(template, data_dir)
    log(f"tally ingest ({label})")
    run = measure(
        [tally, "--data-dir", str(data_dir), "ingest", str(source), "--now", now, "--format",
         "json"]
    )
    summary = json.loads(run.stdout)
    shutil.rmtree(data_dir, ignore_errors=True)
    return run, summary


def duckdb_job(source: Path, threads: int) -> tuple[Measured, dict]:
    output = OUT / f"duckdb-{threads}"
    shutil.rmtree(output, ignore_errors=True)
    log(f"DuckDB, {threads} thread(s)")
    run = measure([sys.executable, str(ROOT / "bench" / "duckdb_job.py"), str(source),
                   str(output), str(threads)])
    shutil.rmtree(output, ignore_errors=True)
    return run, last_json(run.stdout)


def compare(value: float, operator: str, bound: float) -> bool:
    return {">=": value >= bound, "<": value < bound, "<=": value <= bound}[operator]


def markdown(results: dict[str, Any], previous: dict[str, Any] | None) -> str:
    figures = results["figures"]
    old = (previous or {}).get("figures", {})
    rows = ["| figure | value | target | met | change vs previous |", "|---|---|---|---|---|"]
    shown = [(name, operator, bound, label) for name, operator, bound, label in TARGETS]
    shown += [(name, None, None, label) for name, label in DESCRIPTIONS.items()]
    for name, operator, bound, label in shown:
        value = figures[name]
        target = f"{operator} {bound:g}" if operator else ""
        met = ("yes" if compare(value, operator, bound) else "no") if operator else ""
        change = ""
        if isinstance(old.get(name), (int, float)) and old[name]:
            change = f"{100 * (value - old[name]) / old[name]:+.1f} %"
        rows.append(f"| {label} | {value:,.4g} | {target} | {met} | {change} |")
    return "\n".join(rows)


# The figures shown besides the targets, with what they say.
DESCRIPTIONS = {
    "floor_events_per_s": "parse-only floor, events/s on one core",
    "parse_events_per_s": "decode + validate, events/s on one core",
    "ingest_events_per_s": "tally ingest end to end, events/s",
    "ingest_wall_s": "tally ingest, wall seconds",
    "ingest_cpu_s": "tally ingest, CPU seconds",
    "duckdb_all_cores_wall_s": "DuckDB (every core), wall seconds",
    "duckdb_one_thread_wall_s": "DuckDB (one thread), wall seconds",
    "ingest_speedup_vs_duckdb_one_thread": "DuckDB (one thread) time / tally ingest time",
    "ingest_peak_memory_mb": "tally ingest peak memory, MB (whole file)",
    "ingest_fifth_peak_memory_mb": "tally ingest peak memory, MB (first fifth)",
    "duckdb_peak_memory_mb": "DuckDB (every core) peak memory, MB",
    "lambda_decode_ms": "Lambda batch: envelope decode, CPU ms",
    "lambda_handle_ms": "Lambda batch: handle, CPU ms",
    "lambda_events_per_s": "Lambda handler, events/s on one core",
}


def main(arguments: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=5_000_000, help="lines in the dataset")
    parser.add_argument("--tenants", type=int, default=1_000, help="Zipf-distributed tenants")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args(arguments)
    OUT.mkdir(parents=True, exist_ok=True)

    executables = build()
    data = dataset(executables["tally-bench-data"], options.events, options.tenants, options.seed)
    source, now = Path(data["path"]), data["now"]
    fifth = first_fifth(source)

    log("hot path and parse-only floor (one core)")
    hot = last_json(measure([executables["hot_path"], "--input", str(source), "--now", now,
                             "--json"]).stdout)
    log("the Lambda shape (10,000-record Kinesis events)")
    lambda_batch = last_json(measure([executables["handler"], "--input", str(source), "--now",
                                      now, "--json"]).stdout)
    template = registered_data_dir(executables["tally"], options.tenants)
    ingest, ingest_summary = tally_ingest(executables["tally"], template, source, now, "whole")
    ingest_fifth, _ = tally_ingest(executables["tally"], template, fifth, now, "fifth")
    cores = os.cpu_count() or 1
    duck_all, duck_summary = duckdb_job(source, cores)
    duck_one, _ = duckdb_job(source, 1)
    shutil.rmtree(template, ignore_errors=True)
    fifth.unlink()

    figures = {
        "floor_events_per_s": hot["floor_events_per_s"],
        "parse_events_per_s": hot["parse_events_per_s"],
        "hot_path_events_per_s": hot["hot_path_events_per_s"],
        "hot_path_vs_floor": hot["hot_path_events_per_s"] / hot["floor_events_per_s"],
        "dedup_bytes_per_id": hot["dedup_bytes_per_id"],
        "ingest_events_per_s": data["lines"] / ingest.wall_s,
        "ingest_wall_s": ingest.wall_s,
        "ingest_cpu_s": ingest.cpu_s,
        "ingest_peak_memory_mb": ingest.max_rss_mb,
        "ingest_fifth_peak_memory_mb": ingest_fifth.max_rss_mb,
        "ingest_memory_growth": ingest.max_rss_mb / ingest_fifth.max_rss_mb,
        "duckdb_all_cores_wall_s": duck_all.wall_s,
        "duckdb_one_thread_wall_s": duck_one.wall_s,
        "duckdb_peak_memory_mb": duck_all.max_rss_mb,
        "ingest_speedup_vs_duckdb": duck_all.wall_s / ingest.wall_s,
        "ingest_speedup_vs_duckdb_one_thread": duck_one.wall_s / ingest.wall_s,
        "lambda_batch_cpu_ms": lambda_batch["batch_ms"],
        "lambda_decode_ms": lambda_batch["decode_ms"],
        "lambda_handle_ms": lambda_batch["handle_ms"],
        "lambda_events_per_s": lambda_batch["events_per_s"],
    }
    results = {
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                                 stdout=subprocess.PIPE, check=False).stdout.strip(),
        "machine": {"cpus": cores, "processor": platform.processor() or platform.machine()},
        "dataset": {key: data[key] for key in
                    ["lines", "bytes", "duplicates", "late", "tenants", "tenants_seen", "seed",
                     "per_meter", "now"]},
        "hot_path": hot,
        "lambda_batch": lambda_batch,
        "ingest_summary": {key: ingest_summary.get(key) for key in
                           ["lines", "accepted", "duplicates", "late", "rejected"]},
        "duckdb_summary": duck_summary,
        "figures": figures,
        "targets": {name: {"operator": operator, "bound": bound,
                           "met": compare(figures[name], operator, bound)}
                    for name, operator, bound, _ in TARGETS},
    }
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else None
    if previous is not None:
        (OUT / "results.previous.json").write_text(json.dumps(previous, indent=2))
    RESULTS.write_text(json.dumps(results, indent=2))

    dataset_line = (f"{data['lines']:,} events ({data['bytes'] / 1e6:,.0f} MB of NDJSON), "
                    f"{data['tenants_seen']:,} tenants, {data['duplicates']:,} re-sent, "
                    f"{data['late']:,} late; commit {results['commit']}, {cores} cores")
    print(f"\n{dataset_line}\n")
    print(markdown(results, previous))
    if previous is not None:
        print(f"\n(change against {previous.get('measured_at')}, commit {previous.get('commit')})")
    print(f"\nresults: {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
