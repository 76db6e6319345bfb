"""The baseline of the end-to-end benchmark: DuckDB doing tally ingest's job on the same NDJSON
file. It reads the lines, keeps one event per tenant and event id, writes the events as Parquet
partitioned by tenant and day (the storage layout's partitions), and writes hourly rollups per
tenant and meter (sum of values, event count, distinct users) as Parquet.

It does less than tally ingest: no validation beyond DuckDB's typed read (a bad line fails the
whole job instead of being quarantined), no acceptance window, no daily or monthly windows, no
time-weighted gauge for storage, no crash safety. The comparison flatters DuckDB, not Tally.

    python bench/duckdb_job.py INPUT.ndjson OUTPUT_DIR THREADS

Prints one JSON object: the events kept and the rollup rows written.
"""

import json
import sys
from pathlib import Path

import duckdb

COLUMNS = {
    "event_id": "VARCHAR",
    "tenant_id": "VARCHAR",
    "metric": "VARCHAR",
    "value": "DECIMAL(38,9)",
    "timestamp": "TIMESTAMP",
    "dimensions": "MAP(VARCHAR, VARCHAR)",
}


def main(arguments: list[str]) -> int:
    if len(arguments) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    source, output, threads = Path(arguments[0]), Path(arguments[1]), int(arguments[2])
    output.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect(
        ":memory:", config={"threads": threads, "autoinstall_known_extensions": False}
    )
    columns = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in COLUMNS.items()) + "}"
    # One row per tenant and event id, as Tally deduplicates; api_calls and active_users count
    # 1 when the value is absent (DESIGN.md).
    connection.execute(
        f"""
        CREATE TEMP TABLE events AS
        SELECT event_id, tenant_id, metric, coalesce(value, 1) AS value,
               "timestamp" AS event_time, dimensions
        FROM read_json(?, format = 'newline_delimited', columns = {columns})
        QUALIFY row_number() OVER (PARTITION BY tenant_id, event_id) = 1
        """,
        [str(source)],
    )
    connection.execute(
        f"""
        COPY (SELECT *, strftime(event_time, '%Y-%m-%d') AS dt FROM events)
        TO '{output / "events"}' (FORMAT PARQUET, PARTITION_BY (tenant_id, dt), OVERWRITE)
        """
    )
    connection.execute(
        f"""
        COPY (
            SELECT tenant_id, metric, date_trunc('hour', event_time) AS window_start,
                   sum(value) AS total, count(*) AS events,
                   count(DISTINCT dimensions['user_id']) AS distinct_users
            FROM events GROUP BY ALL
        ) TO '{output / "rollups_hourly.parquet"}' (FORMAT PARQUET)
        """
    )
    kept = connection.execute("SELECT count(*) FROM events").fetchone()[0]
    rollups = connection.execute(
        f"SELECT count(*) FROM read_parquet('{output / 'rollups_hourly.parquet'}')"
    ).fetchone()[0]
    print(json.dumps({"events_kept": kept, "rollup_rows": rollups}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
