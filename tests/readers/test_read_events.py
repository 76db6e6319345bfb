#!/usr/bin/env python3
"""Self-checks of read_events.py: it must accept files written with exactly the events table's
schema in the bucket layout, print the documented JSON, and refuse (exit 1, naming the file)
every schema, layout or partition error.

Run with the test venv's python (scripts/test does):

    target/test-venv/bin/python tests/readers/test_read_events.py

Plain asserts, no test framework: each check prints "ok <name>", the first failure stops the run
with a traceback and a non-zero exit.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa
import pyarrow.parquet as pq

READER = Path(__file__).resolve().with_name("read_events.py")
# Loading read_events.py as a module must not leave a __pycache__ in the work tree.
sys.dont_write_bytecode = True

# The events table's schema, written out independently of the reader's own checks.
EVENTS_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=True),
        pa.field("tenant_id", pa.string(), nullable=False),
        pa.field("metric", pa.string(), nullable=False),
        pa.field("value", pa.decimal128(38, 9), nullable=False),
        pa.field("event_time", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("received_at", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("dimensions", pa.map_(pa.string(), pa.string()), nullable=False),
    ]
)


def load_reader_module() -> Any:
    """read_events.py as a module, for checking its helpers directly."""
    spec = importlib.util.spec_from_file_location("read_events", READER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["read_events"] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


# -- Building buckets -----------------------------------------------------------------------------


def instant(text: str) -> dt.datetime:
    """An RFC 3339 UTC text ("...Z") as an aware datetime."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def event(
    tenant_id: str,
    metric: str,
    value: str,
    event_time: str,
    received_at: str | None = None,
    event_id: str | None = None,
    dimensions: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One row as pyarrow takes it."""
    return {
        "event_id": event_id,
        "tenant_id": tenant_id,
        "metric": metric,
        "value": Decimal(value),
        "event_time": instant(event_time),
        "received_at": instant(received_at or event_time),
        "dimensions": list((dimensions or {}).items()),
    }


def events_key(tenant_id: str, day: str, name: str) -> str:
    return f"tenants/{tenant_id}/usage/events/dt={day}/{name}.parquet"


def write_parquet(
    bucket: Path, key: str, rows: list[dict[str, Any]], schema: pa.Schema = EVENTS_SCHEMA
) -> None:
    path = bucket / key
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)


def write_text(bucket: Path, key: str, text: str = "not parquet\n") -> None:
    path = bucket / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def schema_with(
    name: str, kind: pa.DataType | None = None, nullable: bool | None = None
) -> pa.Schema:
    """EVENTS_SCHEMA with one field's type or nullability changed."""
    index = EVENTS_SCHEMA.get_field_index(name)
    field = EVENTS_SCHEMA.field(index)
    changed = pa.field(
        name,
        kind if kind is not None else field.type,
        nullable=field.nullable if nullable is None else nullable,
    )
    return EVENTS_SCHEMA.set(index, changed)


class Run:
    """The outcome of one read_events.py process."""

    def __init__(self, bucket: Path, *extra: str) -> None:
        completed = subprocess.run(
            [sys.executable, str(READER), str(bucket), *extra],
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.code = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr

    def json(self) -> Any:
        assert self.code == 0, f"exit {self.code}, stderr:\n{self.stderr}"
        assert self.stderr == "", self.stderr
        return json.loads(self.stdout)

    def fails_with(self, *fragments: str) -> None:
        """Asserts exit 1, nothing on stdout, and every fragment in stderr."""
        assert self.code == 1, f"exit {self.code}, stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        assert self.stdout == "", self.stdout
        for fragment in fragments:
            assert fragment in self.stderr, f"{fragment!r} not in stderr:\n{self.stderr}"


# -- Checks ---------------------------------------------------------------------------------------

CHECKS: list[Callable[[Path], None]] = []


def check(function: Callable[[Path], None]) -> Callable[[Path], None]:
    CHECKS.append(function)
    return function


def good_bucket(bucket: Path) -> None:
    """Two tenants, three partitions, four files (one empty), plus data the reader must skip."""
    write_parquet(
        bucket,
        events_key("acme", "2026-11-26", "part-1"),
        [
            event("acme", "api_calls", "1.500000000", "2026-11-26T14:02:03.123Z",
                  "2026-11-26T14:02:04Z", event_id="e-2",
                  dimensions={"region": "eu", "user": "ü-1"}),
            event("acme", "api_calls", "100", "2026-11-26T14:02:03Z", "2026-11-26T14:02:03.5Z"),
            event("acme", "storage_gb", "0", "2026-11-26T00:00:00Z", event_id="e-9"),
        ],
    )
    write_parquet(
        bucket,
        events_key("acme", "2026-11-26", "part-2"),
        [
            # Same instant and id as a row above: value decides; the duplicate row stays twice.
            event("acme", "api_calls", "-0.000000001", "2026-11-26T14:02:03.123Z", event_id="e-2"),
            event("acme", "api_calls", "-0.000000001", "2026-11-26T14:02:03.123Z", event_id="e-2"),
        ],
    )
    write_parquet(
        bucket,
        events_key("acme", "2026-11-27", "part-1"),
        [event("acme", "api_calls", "99999999999999999999999999999.999999999",
               "2026-11-27T23:59:59.999Z", event_id="e-3")],
    )
    write_parquet(bucket, events_key("b-2", "1969-12-31", "empty"), [])
    write_parquet(
        bucket,
        events_key("b-2", "1969-12-31", "old"),
        [event("b-2", "seats", "12.340", "1969-12-31T23:59:59.999Z", "1970-01-01T00:00:00.001Z")],
    )
    # Not events data: staging, quarantine, invoices, a file at the bucket's top.
    write_parquet(bucket, "_staging/" + events_key("acme", "2026-11-26", "tmp"),
                  [event("other", "x", "1", "2020-01-01T00:00:00Z")])
    write_text(bucket, "_staging/half-written.parquet")
    write_text(bucket, "quarantine/dt=2026-11-26/q-1.ndjson", "{}\n")
    write_text(bucket, "tenants/acme/invoices/2026-11/invoice.pdf")
    write_text(bucket, "tenants/acme/audit/0001795732156726-0000000001.json")
    write_text(bucket, "tenants/acme/quota-events/2026-11/api_calls.json")
    write_text(bucket, "tenants/acme/.tenant")
    write_text(bucket, "README")


EXPECTED_GOOD_ROWS = [
    {"event_id": None, "tenant_id": "acme", "metric": "api_calls", "value": "100",
     "event_time": "2026-11-26T14:02:03Z", "received_at": "2026-11-26T14:02:03.500Z",
     "dimensions": {}},
    {"event_id": "e-2", "tenant_id": "acme", "metric": "api_calls", "value": "-0.000000001",
     "event_time": "2026-11-26T14:02:03.123Z", "received_at": "2026-11-26T14:02:03.123Z",
     "dimensions": {}},
    {"event_id": "e-2", "tenant_id": "acme", "metric": "api_calls", "value": "-0.000000001",
     "event_time": "2026-11-26T14:02:03.123Z", "received_at": "2026-11-26T14:02:03.123Z",
     "dimensions": {}},
    {"event_id": "e-2", "tenant_id": "acme", "metric": "api_calls", "value": "1.5",
     "event_time": "2026-11-26T14:02:03.123Z", "received_at": "2026-11-26T14:02:04Z",
     "dimensions": {"region": "eu", "user": "ü-1"}},
    {"event_id": "e-3", "tenant_id": "acme", "metric": "api_calls",
     "value": "99999999999999999999999999999.999999999",
     "event_time": "2026-11-27T23:59:59.999Z", "received_at": "2026-11-27T23:59:59.999Z",
     "dimensions": {}},
    {"event_id": "e-9", "tenant_id": "acme", "metric": "storage_gb", "value": "0",
     "event_time": "2026-11-26T00:00:00Z", "received_at": "2026-11-26T00:00:00Z",
     "dimensions": {}},
    {"event_id": None, "tenant_id": "b-2", "metric": "seats", "value": "12.34",
     "event_time": "1969-12-31T23:59:59.999Z", "received_at": "1970-01-01T00:00:00.001Z",
     "dimensions": {}},
]


@check
def reads_a_good_bucket(bucket: Path) -> None:
    good_bucket(bucket)
    document = Run(bucket).json()
    assert list(document) == ["files", "rows"], document
    assert document["files"] == 5, document["files"]
    assert document["rows"] == EXPECTED_GOOD_ROWS, json.dumps(document["rows"], indent=1)
    assert all(list(row) == list(EXPECTED_GOOD_ROWS[0]) for row in document["rows"])


@check
def an_empty_bucket_has_no_files(bucket: Path) -> None:
    assert Run(bucket).json() == {"files": 0, "rows": []}


@check
def a_bucket_with_only_staging_and_quarantine_has_no_files(bucket: Path) -> None:
    write_parquet(bucket, "_staging/" + events_key("acme", "2026-11-26", "tmp"),
                  [event("acme", "x", "1", "2026-11-26T00:00:00Z")])
    write_text(bucket, "quarantine/dt=2026-11-26/q.ndjson", "{}\n")
    (bucket / "tenants" / "acme" / "usage" / "events").mkdir(parents=True)
    assert Run(bucket).json() == {"files": 0, "rows": []}


# Wrong schemas: each is written under a good bucket, so the message must name that one file.
WRONG_SCHEMAS = {
    "value decimal(18, 2)": (
        schema_with("value", pa.decimal128(18, 2)), "value is decimal128(18, 2)"),
    "event_time in microseconds": (
        schema_with("event_time", pa.timestamp("us", tz="UTC")),
        "event_time is timestamp[us, tz=UTC]"),
    "received_at without time zone": (
        schema_with("received_at", pa.timestamp("ms")), "TIMESTAMP WITH TIME ZONE"),
    "map of integers": (
        schema_with("dimensions", pa.map_(pa.string(), pa.int64())),
        "dimensions is map<string, int64>"),
    "nullable tenant_id": (schema_with("tenant_id", nullable=True), "tenant_id is nullable"),
    "required event_id": (schema_with("event_id", nullable=False), "event_id is required"),
    "large_string metric": (schema_with("metric", pa.large_string()), "metric is large_string"),
    "columns swapped": (
        pa.schema([EVENTS_SCHEMA.field(i) for i in (1, 0, 2, 3, 4, 5, 6)]), "expected ['event_id'"),
    "extra column": (EVENTS_SCHEMA.append(pa.field("extra", pa.string())), "columns are"),
}


@check
def refuses_wrong_types(bucket: Path) -> None:
    for index, (label, (schema, message)) in enumerate(WRONG_SCHEMAS.items()):
        case = bucket / f"case-{index}"
        good_bucket(case)
        row = event("acme", "api_calls", "1.5", "2026-11-26T10:00:00Z", event_id="x")
        if "extra" in schema.names:
            row["extra"] = "?"
        key = events_key("acme", "2026-11-26", "wrong")
        write_parquet(case, key, [row], schema)
        try:
            Run(case).fails_with(key, message)
        except AssertionError as error:
            raise AssertionError(f"{label}: {error}") from None


@check
def refuses_a_row_in_the_wrong_dt_folder(bucket: Path) -> None:
    good_bucket(bucket)
    key = events_key("acme", "2026-11-25", "late")
    write_parquet(bucket, key, [
        event("acme", "api_calls", "1", "2026-11-25T23:59:59.999Z"),
        event("acme", "api_calls", "1", "2026-11-26T00:00:00Z"),  # the next UTC day
    ])
    Run(bucket).fails_with(key, "1 row(s) have an event_time whose UTC date is not the folder's "
                                "dt=2026-11-25: ['2026-11-26T00:00:00Z']")


@check
def refuses_a_tenant_mismatch(bucket: Path) -> None:
    good_bucket(bucket)
    key = events_key("acme", "2026-11-26", "leak")
    write_parquet(bucket, key, [event("b-2", "api_calls", "1", "2026-11-26T10:00:00Z")])
    Run(bucket).fails_with(key, "1 row(s) have a tenant_id other than the folder's 'acme': ['b-2']")


@check
def refuses_files_outside_the_layout(bucket: Path) -> None:
    row = [event("acme", "api_calls", "1", "2026-11-26T10:00:00Z")]
    cases = {
        "tenants/acme/usage/events/no-partition.parquet": "not an events file",
        "tenants/acme/elsewhere.parquet": "not an events file",
        "tenants/top.parquet": "not an events file",
        "tenants/acme/usage/events/dt=2026-11-26/deeper/x.parquet": "not an events file",
        "tenants/acme/usage/events/day=2026-11-26/x.parquet": "is not dt=YYYY-MM-DD",
        "tenants/acme/usage/events/dt=2026-13-01/x.parquet": "is not dt=YYYY-MM-DD",
        "tenants/acme/usage/events/dt=2026-11-26/.parquet": "the name must be {name}.parquet",
        "tenants/_acme/usage/events/dt=2026-11-26/x.parquet": "'_acme' is not a valid tenant id",
        "tenants/acme/usage/events/_staging/x.parquet": "partition folder '_staging'",
    }
    for index, (key, message) in enumerate(cases.items()):
        case = bucket / f"case-{index}"
        good_bucket(case)
        write_parquet(case, key, row)
        Run(case).fails_with(f"{key}: ", message)
    # Anything that is not Parquet inside an events partition is an error too.
    case = bucket / "not-parquet"
    good_bucket(case)
    write_text(case, "tenants/acme/usage/events/dt=2026-11-26/notes.txt")
    Run(case).fails_with("tenants/acme/usage/events/dt=2026-11-26/notes.txt: not an events file")


@check
def refuses_a_corrupt_file(bucket: Path) -> None:
    good_bucket(bucket)
    key = events_key("acme", "2026-11-26", "corrupt")
    write_text(bucket, key, "PAR1 but not really\n")
    Run(bucket).fails_with(f"{key}: pyarrow cannot read the file")


@check
def refuses_repeated_dimension_keys(bucket: Path) -> None:
    good_bucket(bucket)
    key = events_key("acme", "2026-11-26", "dup")
    row = event("acme", "api_calls", "1", "2026-11-26T10:00:00Z")
    row["dimensions"] = [("k", "a"), ("k", "b")]
    write_parquet(bucket, key, [row])
    Run(bucket).fails_with(f"{key}: row 0: dimensions repeat the key 'k'")


@check
def refuses_a_missing_bucket_and_bad_usage(bucket: Path) -> None:
    Run(bucket / "absent").fails_with("absent: not a directory")
    usage = subprocess.run([sys.executable, str(READER)], capture_output=True, text=True)
    assert usage.returncode == 2 and "usage: read_events.py BUCKET_DIR" in usage.stderr, usage


@check
def reports_rows_the_readers_disagree_on(_bucket: Path) -> None:
    reader = load_reader_module()
    a = reader.Row("e", "acme", "m", "1.5", 0, 0, (("k", "v"),))
    b = a._replace(value="1.25")
    assert reader.compare_rows([a, b], [b, a]) is None  # order does not matter
    difference = reader.compare_rows([a, a, b], [a, b, b])
    assert difference is not None
    assert "pyarrow read 3 row(s), DuckDB 3" in difference, difference
    assert "1 row(s) only from pyarrow" in difference and "'value': '1.5'" in difference, difference
    assert "1 row(s) only from DuckDB" in difference and "'value': '1.25'" in difference, difference


@check
def formats_values_and_times(_bucket: Path) -> None:
    reader = load_reader_module()
    for text, expected in [("1.500000000", "1.5"), ("0E-9", "0"), ("-0E-9", "0"), ("100", "100"),
                           ("1E+2", "100"), ("-0.000000001", "-0.000000001"),
                           ("12345678901234567890123456789.123456780",
                            "12345678901234567890123456789.12345678")]:
        assert reader.normalize_decimal(Decimal(text)) == expected, (text, expected)
    for millis, expected in [(0, "1970-01-01T00:00:00Z"), (-1, "1969-12-31T23:59:59.999Z"),
                             (1_795_701_723_123, "2026-11-26T14:02:03.123Z"),
                             (1_795_701_723_100, "2026-11-26T14:02:03.100Z"),
                             (reader.MIN_MILLIS, "0001-01-01T00:00:00Z"),
                             (reader.MAX_MILLIS, "9999-12-31T23:59:59.999Z")]:
        assert reader.format_timestamp(millis) == expected, (millis, expected)
    try:
        reader.format_timestamp(reader.MAX_MILLIS + 1)
    except reader.Problem:
        pass
    else:
        raise AssertionError("a timestamp after 9999 was formatted")


def main() -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tally-read-events-") as temporary:
        for index, function in enumerate(CHECKS):
            bucket = Path(temporary) / f"{index:02d}-{function.__name__}"
            bucket.mkdir()
            function(bucket)
            print(f"ok {function.__name__}", flush=True)
    print(f"{len(CHECKS)} checks of read_events.py passed in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
