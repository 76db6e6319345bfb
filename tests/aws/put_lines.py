"""Puts chosen lines of an NDJSON file on a Kinesis stream as they are, one record each, the way
a producer that skips validation would: the tests use it to get lines the contract refuses (which
`tally emit` will not send) onto the stream.

Usage: put_lines.py STREAM FILE LINE_NUMBER... (line numbers from 1). The partition key is the
line's tenant_id when it has a text one, else "unattributed".
"""

import json
import sys

import boto3


def partition_key(line: str) -> str:
    try:
        tenant = json.loads(line).get("tenant_id")
    except (ValueError, AttributeError):
        return "unattributed"
    return tenant if isinstance(tenant, str) and tenant else "unattributed"


def main() -> None:
    stream, path, *numbers = sys.argv[1:]
    with open(path, "rb") as file:
        lines = file.read().split(b"\n")
    kinesis = boto3.client("kinesis")
    for number in numbers:
        line = lines[int(number) - 1]
        kinesis.put_record(
            StreamName=stream,
            Data=line,
            PartitionKey=partition_key(line.decode("utf-8", "replace")),
        )
    print(f"put {len(numbers)} lines on {stream}")


if __name__ == "__main__":
    main()
