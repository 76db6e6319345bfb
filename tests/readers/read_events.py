#!/usr/bin/env python3
"""Independent reader of Tally's events Parquet files.

Usage: read_events.py BUCKET_DIR

BUCKET_DIR is a local directory laid out like the tenant data bucket (DESIGN.md, "Storage
layout"). Every events file

    BUCKET_DIR/tenants/{tenant_id}/usage/events/dt={YYYY-MM-DD}/{name}.parquet

is read twice, with pyarrow (file by file) and with DuckDB (all files in one read_parquet), and
checked against the contract:

* the Arrow schema and the DuckDB column types are exactly the events table's;
* every row's tenant_id is the file's tenant folder and the UTC date of its event_time is the
  file's dt= folder;
* pyarrow and DuckDB return the same multiset of rows for every file.

Files elsewhere under tenants/ are layout errors, except the other datasets a tenant owns
(tenants/{tenant_id}/invoices/..., audit/..., quota-events/...) and the marker onboarding puts
at tenants/{tenant_id}/.tenant. Everything outside tenants/ (_staging/, quarantine/, ...) is not
events data and is ignored.

On success prints one JSON document to stdout and exits 0:

    {"files": N, "rows": [{"event_id": str|null, "tenant_id": str, "metric": str,
      "value": "1.5", "event_time": "2026-11-26T14:02:03.123Z", "received_at": "...",
      "dimensions": {"k": "v"}}, ...]}

with rows sorted by (tenant_id, metric, event_time, event_id or "", value). On any failed check
prints one line per problem to stderr, each naming the file, and exits 1.

Deliberately written without any code from Tally itself, so that it checks the files the way a
consumer (finance's Athena queries, invoice jobs) would see them.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, NamedTuple

# -- The contract ---------------------------------------------------------------------------------

# Column names in file order, with the DuckDB type each must read as.
COLUMNS = ["event_id", "tenant_id", "metric", "value", "event_time", "received_at", "dimensions"]
DUCKDB_TYPES = [
    "VARCHAR",
    "VARCHAR",
    "VARCHAR",
    "DECIMAL(38,9)",
    "TIMESTAMP WITH TIME ZONE",
    "TIMESTAMP WITH TIME ZONE",
    "MAP(VARCHAR, VARCHAR)",
]
# Only event_id may be null (the producer sent no id); every other column is required.
NULLABLE_COLUMNS = {"event_id"}

# Tenant ids: 1-64 characters of [A-Za-z0-9_-], starting with a letter or a digit.
TENANT_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
DT_FOLDER_RE = re.compile(r"dt=(\d{4})-(\d{2})-(\d{2})")
PARQUET_SUFFIX = ".parquet"
LAYOUT_HINT = "events files must be tenants/{tenant_id}/usage/events/dt={YYYY-MM-DD}/{name}.parquet"

MS_PER_DAY = 86_400_000
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
# The first and last millisecond of years 0001-9999, relative to the epoch.
MIN_MILLIS = (dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc) - EPOCH) // dt.timedelta(milliseconds=1)
MAX_MILLIS = (
    dt.datetime(9999, 12, 31, 23, 59, 59, 999_000, tzinfo=dt.timezone.utc) - EPOCH
) // dt.timedelta(milliseconds=1)

# At most this many differing rows are quoted per problem; the count is always given.
MAX_QUOTED_ROWS = 5


class Problem(Exception):
    """A failed check; the message names the file and says what differs."""


# -- Finding the files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EventsFile:
    """One events file and what its place in the layout says about its rows."""

    path: str  # absolute path, as given to pyarrow and DuckDB
    key: str  # the object key: the path relative to the bucket directory, with '/'
    tenant_id: str
    day: dt.date


# What a tenant's prefix holds besides its events: invoices, the control plane's audit log and
# quota events (folders), and onboarding's marker (a file).
OTHER_TENANT_DATA = frozenset({"invoices", "audit", "quota-events", ".tenant"})


def find_events_files(bucket: Path) -> tuple[list[EventsFile], list[str]]:
    """Walks BUCKET_DIR/tenants and returns the events files, sorted by key, and the problems:
    every file under tenants/ that is neither an events file nor an invoice."""
    files: list[EventsFile] = []
    problems: list[str] = []
    tenants = bucket / "tenants"
    if not tenants.exists():
        return files, problems
    if not tenants.is_dir():
        return files, [f"tenants: is not a directory; {LAYOUT_HINT}"]

    def unreadable(error: OSError) -> None:
        where = Path(error.filename).relative_to(bucket).as_posix()
        problems.append(f"{where}: cannot list: {error}")

    for directory, subdirectories, names in os.walk(tenants, onerror=unreadable):
        subdirectories.sort()
        for name in sorted(names):
            path = Path(directory) / name
            key = path.relative_to(bucket).as_posix()
            parts = PurePosixPath(key).parts[1:]  # without the leading "tenants"
            if len(parts) >= 2 and parts[1] in OTHER_TENANT_DATA:
                continue  # another dataset of the tenant's: not events, not ours to check
            try:
                tenant_id, day = parse_events_key(parts)
            except Problem as problem:
                problems.append(f"{key}: {problem}")
                continue
            # Absolute but not resolved: a symlinked file keeps its own key.
            files.append(EventsFile(str(path.absolute()), key, tenant_id, day))
    return files, problems


def parse_events_key(parts: tuple[str, ...]) -> tuple[str, dt.date]:
    """The tenant id and day an events key (below tenants/) is for; Problem when the key is not
    {tenant_id}/usage/events/dt={YYYY-MM-DD}/{name}.parquet."""
    if len(parts) != 5 or parts[1:3] != ("usage", "events"):
        raise Problem(f"not an events file; {LAYOUT_HINT}")
    tenant_id, _, _, dt_folder, file_name = parts
    if not TENANT_ID_RE.fullmatch(tenant_id):
        raise Problem(f"tenant folder {tenant_id!r} is not a valid tenant id")
    match = DT_FOLDER_RE.fullmatch(dt_folder)
    day = None
    if match:
        try:
            day = dt.date(*(int(group) for group in match.groups()))
        except ValueError:
            pass
    if day is None:
        raise Problem(f"partition folder {dt_folder!r} is not dt=YYYY-MM-DD with a real date")
    if not file_name.endswith(PARQUET_SUFFIX) or file_name == PARQUET_SUFFIX:
        raise Problem(f"not an events file: the name must be {{name}}{PARQUET_SUFFIX}")
    return tenant_id, day


# -- Rows -----------------------------------------------------------------------------------------


# A map's entries as (key, value) pairs sorted by key.
Dimensions = tuple[tuple[str, str | None], ...]


class Row(NamedTuple):
    """One events row in a form both readers produce identically, so rows compare and hash
    exactly: the value as its normalized decimal text, timestamps as milliseconds since the
    epoch, the dimensions as (key, value) pairs sorted by key."""

    event_id: str | None
    tenant_id: str
    metric: str
    value: str
    event_time: int
    received_at: int
    dimensions: Dimensions


def normalize_decimal(value: decimal.Decimal) -> str:
    """Decimal text without exponent or trailing fraction zeros; '0' for any zero.

    Plain string work on the exact digits: Decimal.normalize() would round to the context's
    28 digits, and the column holds 38.
    """
    if value.is_zero():
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def format_timestamp(millis: int) -> str:
    """RFC 3339 in UTC: 2026-11-26T14:02:03Z, with .mmm only when the millisecond is not 0."""
    check_timestamp_range(millis)
    seconds, milli = divmod(millis, 1000)  # floor division: milli is 0-999 before 1970 too
    moment = EPOCH + dt.timedelta(seconds=seconds)
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    return f"{text}.{milli:03d}Z" if milli else f"{text}Z"


def check_timestamp_range(millis: int) -> None:
    """Problem unless the instant falls in years 0001-9999, the years RFC 3339 can write."""
    if not MIN_MILLIS <= millis <= MAX_MILLIS:
        raise Problem(f"timestamp {millis} ms since the epoch is outside years 0001-9999")


def utc_day(millis: int) -> dt.date:
    """The UTC calendar date of an instant in milliseconds since the epoch."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=millis // MS_PER_DAY)


def dimension_pairs(entries: Iterable[tuple[str, str | None]]) -> Dimensions:
    """The map's entries sorted by key; Problem on a repeated key (JSON objects cannot hold it)."""
    pairs = sorted(entries, key=lambda pair: pair[0])
    for previous, current in zip(pairs, pairs[1:]):
        if previous[0] == current[0]:
            raise Problem(f"dimensions repeat the key {current[0]!r}")
    return tuple(pairs)


def sort_key(row: Row) -> tuple[Any, ...]:
    """The output order: (tenant_id, metric, event_time, event_id or "", value), by instant and
    by numeric value; received_at and dimensions only break ties so the output is deterministic."""
    return (
        row.tenant_id,
        row.metric,
        row.event_time,
        row.event_id or "",
        decimal.Decimal(row.value),
        row.received_at,
        tuple((key, value is not None, value or "") for key, value in row.dimensions),
    )


def row_json(row: Row) -> dict[str, Any]:
    """A row as the JSON object of the output document."""
    return {
        "event_id": row.event_id,
        "tenant_id": row.tenant_id,
        "metric": row.metric,
        "value": row.value,
        "event_time": format_timestamp(row.event_time),
        "received_at": format_timestamp(row.received_at),
        "dimensions": dict(row.dimensions),
    }


# -- pyarrow --------------------------------------------------------------------------------------


def check_arrow_schema(schema: Any) -> list[str]:
    """What differs between a file's Arrow schema and the events table's (empty when nothing)."""
    import pyarrow as pa

    expected_types = {
        "event_id": pa.string(),
        "tenant_id": pa.string(),
        "metric": pa.string(),
        "value": pa.decimal128(38, 9),
        "event_time": pa.timestamp("ms", tz="UTC"),
        "received_at": pa.timestamp("ms", tz="UTC"),
    }
    names = list(schema.names)
    if names != COLUMNS:
        return [f"columns are {names}, expected {COLUMNS} in this order"]
    differences = []
    for field in schema:
        if field.name == "dimensions":
            # Compared part by part: the map's entry, key and value field names are a Parquet
            # spelling detail every reader hides, the key and value types are the contract.
            kind = field.type
            if not pa.types.is_map(kind):
                differences.append(f"dimensions is {kind}, expected map<string, string>")
            elif kind.key_type != pa.string() or kind.item_type != pa.string() or kind.keys_sorted:
                sorted_note = " with sorted keys" if kind.keys_sorted else ""
                differences.append(
                    f"dimensions is map<{kind.key_type}, {kind.item_type}>{sorted_note}, "
                    "expected map<string, string>"
                )
        elif field.type != expected_types[field.name]:
            expected = expected_types[field.name]
            differences.append(f"{field.name} is {field.type}, expected {expected}")
        wanted_nullable = field.name in NULLABLE_COLUMNS
        if field.nullable != wanted_nullable:
            differences.append(
                f"{field.name} is {'nullable' if field.nullable else 'required'}, expected "
                f"{'nullable' if wanted_nullable else 'required (not null)'}"
            )
    return differences


def read_with_pyarrow(file: EventsFile) -> list[Row]:
    """The rows of one file read with pyarrow.parquet.read_table, after its schema check."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # partitioning=None: the dt= folder must not come back as an extra column.
        table = pq.read_table(file.path, partitioning=None)
    except (pa.ArrowException, OSError) as error:
        raise Problem(f"pyarrow cannot read the file: {error}") from None
    differences = check_arrow_schema(table.schema)
    if differences:
        raise Problem("Arrow schema differs: " + "; ".join(differences))

    columns = {name: table.column(name) for name in COLUMNS}
    event_ids = columns["event_id"].to_pylist()
    tenant_ids = columns["tenant_id"].to_pylist()
    metrics = columns["metric"].to_pylist()
    values = columns["value"].to_pylist()
    # Timestamps as their stored integers: exact, and free of datetime's range and time zones.
    event_times = columns["event_time"].cast(pa.int64()).to_pylist()
    received_ats = columns["received_at"].cast(pa.int64()).to_pylist()
    dimensions = columns["dimensions"].to_pylist()

    rows = []
    for index in range(table.num_rows):
        try:
            check_timestamp_range(event_times[index])
            check_timestamp_range(received_ats[index])
            rows.append(
                Row(
                    event_ids[index],
                    tenant_ids[index],
                    metrics[index],
                    normalize_decimal(values[index]),
                    event_times[index],
                    received_ats[index],
                    dimension_pairs(dimensions[index]),
                )
            )
        except Problem as problem:
            raise Problem(f"row {index}: {problem}") from None
    return rows


def check_partition(file: EventsFile, rows: list[Row]) -> list[str]:
    """Rows that do not belong in the file's tenant folder or dt= folder."""
    problems = []
    wrong_tenant = [row for row in rows if row.tenant_id != file.tenant_id]
    if wrong_tenant:
        found = sorted({row.tenant_id for row in wrong_tenant})[:MAX_QUOTED_ROWS]
        problems.append(
            f"{len(wrong_tenant)} row(s) have a tenant_id other than the folder's "
            f"{file.tenant_id!r}: {found}"
        )
    wrong_day = [row for row in rows if utc_day(row.event_time) != file.day]
    if wrong_day:
        found = [format_timestamp(row.event_time) for row in wrong_day[:MAX_QUOTED_ROWS]]
        problems.append(
            f"{len(wrong_day)} row(s) have an event_time whose UTC date is not the folder's "
            f"dt={file.day.isoformat()}: {found}"
        )
    return problems


# -- DuckDB ---------------------------------------------------------------------------------------

# The rows in the same canonical form as the pyarrow side: timestamps as epoch milliseconds
# (fetching TIMESTAMPTZ values would bring in the session time zone), the map as its entries.
DUCKDB_ROWS_SQL = """
SELECT filename, event_id, tenant_id, metric, value,
       epoch_ms(event_time), epoch_ms(received_at), map_entries(dimensions)
FROM read_parquet($files, hive_partitioning = false, filename = true)
"""


def duckdb_connection() -> Any:
    import duckdb

    # An in-memory database that never downloads extensions: Parquet is built in.
    return duckdb.connect(":memory:", config={"autoinstall_known_extensions": False})


def check_duckdb_types(connection: Any, file: EventsFile) -> list[str]:
    """What differs between the column names and types DuckDB reads and the contract's."""
    described = connection.execute(
        "DESCRIBE SELECT * FROM read_parquet($file, hive_partitioning = false)",
        {"file": file.path},
    ).fetchall()
    found = [(name, kind) for name, kind, *_ in described]
    expected = list(zip(COLUMNS, DUCKDB_TYPES))
    if found == expected:
        return []
    if [name for name, _ in found] != COLUMNS:
        return [f"DuckDB columns are {[name for name, _ in found]}, expected {COLUMNS}"]
    return [
        f"DuckDB reads {name} as {kind}, expected {wanted}"
        for (name, kind), (_, wanted) in zip(found, expected)
        if kind != wanted
    ]


def read_with_duckdb(connection: Any, files: list[EventsFile]) -> dict[str, list[Row]]:
    """The rows of all files from one read_parquet over the list, grouped by file path."""
    by_file: dict[str, list[Row]] = {file.path: [] for file in files}
    result = connection.execute(DUCKDB_ROWS_SQL, {"files": [file.path for file in files]})
    while batch := result.fetchmany(10_000):
        for filename, event_id, tenant_id, metric, value, event_ms, received_ms, entries in batch:
            row = Row(
                event_id,
                tenant_id,
                metric,
                normalize_decimal(value),
                event_ms,
                received_ms,
                tuple(sorted(((entry["key"], entry["value"]) for entry in entries),
                             key=lambda pair: pair[0])),
            )
            # A path DuckDB reports differently (or globbed) lands under its own name and then
            # shows up as a difference below instead of being lost.
            by_file.setdefault(filename, []).append(row)
    return by_file


def compare_rows(pyarrow_rows: list[Row], duckdb_rows: list[Row]) -> str | None:
    """None when both readers returned the same multiset of rows, else what differs."""
    only_pyarrow = Counter(pyarrow_rows) - Counter(duckdb_rows)
    only_duckdb = Counter(duckdb_rows) - Counter(pyarrow_rows)
    if not only_pyarrow and not only_duckdb:
        return None
    parts = [f"pyarrow read {len(pyarrow_rows)} row(s), DuckDB {len(duckdb_rows)}"]
    for reader, extra in (("pyarrow", only_pyarrow), ("DuckDB", only_duckdb)):
        if extra:
            quoted = [row_json(row) for row in list(extra.elements())[:MAX_QUOTED_ROWS]]
            parts.append(f"{sum(extra.values())} row(s) only from {reader}: {quoted}")
    return "; ".join(parts)


# -- Main -----------------------------------------------------------------------------------------


def read_bucket(bucket: Path) -> tuple[int, list[Row], list[str]]:
    """Reads and checks every events file under the bucket: (files, sorted rows, problems)."""
    files, problems = find_events_files(bucket)

    # 1. pyarrow, file by file: schema, rows, partition.
    pyarrow_rows: dict[str, list[Row]] = {}
    for file in files:
        try:
            rows = read_with_pyarrow(file)
        except Problem as problem:
            problems.append(f"{file.key}: {problem}")
            continue
        pyarrow_rows[file.path] = rows
        problems.extend(f"{file.key}: {problem}" for problem in check_partition(file, rows))

    # 2. DuckDB: each file's types, then all files in one read.
    import duckdb

    connection = duckdb_connection()
    for file in files:
        try:
            differences = check_duckdb_types(connection, file)
            problems.extend(f"{file.key}: {difference}" for difference in differences)
        except duckdb.Error as error:
            problems.append(f"{file.key}: DuckDB cannot read the file: {error}")
    if problems:
        # One read_parquet over files of different schemas would only add confusing errors.
        return len(files), [], problems
    try:
        duckdb_rows = read_with_duckdb(connection, files) if files else {}
    except duckdb.Error as error:
        keys = [file.key for file in files]
        return len(files), [], [f"DuckDB read_parquet over {keys} failed: {error}"]

    # 3. Both readers must agree on every file.
    keys_by_path = {file.path: file.key for file in files}
    for path in sorted(set(pyarrow_rows) | set(duckdb_rows)):
        difference = compare_rows(pyarrow_rows.get(path, []), duckdb_rows.get(path, []))
        if difference:
            problems.append(f"{keys_by_path.get(path, path)}: readers disagree: {difference}")

    rows = sorted((row for rows in pyarrow_rows.values() for row in rows), key=sort_key)
    return len(files), rows, problems


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print("usage: read_events.py BUCKET_DIR", file=sys.stderr)
        return 2
    bucket = Path(argv[1])
    if not bucket.is_dir():
        print(f"read_events: {bucket}: not a directory", file=sys.stderr)
        return 1
    try:
        import duckdb  # noqa: F401  (imported here to fail early with a clear message)
        import pyarrow  # noqa: F401
    except ImportError as error:
        print(
            f"read_events: {error}; run with the test venv's python "
            "(TALLY_TEST_PYTHON, created by scripts/test)",
            file=sys.stderr,
        )
        return 1

    file_count, rows, problems = read_bucket(bucket)
    if problems:
        for problem in problems:
            print(f"read_events: {bucket}: {problem}", file=sys.stderr)
        return 1
    # Every timestamp was range-checked while reading, so formatting cannot fail here.
    output = {"files": file_count, "rows": [row_json(row) for row in rows]}
    json.dump(output, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
