#!/usr/bin/env python3
"""The drift check (drift.py) on this repository, and proof that it can fail: each mutation
changes one name on one side only (in the code, in the Terraform, or in a stack) in a copy of the
repository, and the check must report it.

Run with the test venv's python (tests/infra/check_infra.sh does):

    target/test-venv/bin/python tests/infra/test_drift.py

Plain asserts, no test framework: each check prints "ok <name>", the first failure stops the run
with a traceback and a non-zero exit. A mutation whose text is no longer in its file fails too:
the code moved, and the mutation must follow it.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

import drift  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Mutation:
    """Replace `old` (which must occur exactly once in `path`) by `new`; the check must then
    report a problem containing `reported`."""

    name: str
    path: str
    old: str
    new: str
    reported: str


MUTATIONS = [
    # The code changes alone.
    Mutation(
        "code: the state table's default name",
        "aws/src/dynamodb.rs",
        'pub const DEFAULT_STATE_TABLE: &str = "metering-state";',
        'pub const DEFAULT_STATE_TABLE: &str = "metering-ledger";',
        "DynamoDB tables named 'metering-ledger'",
    ),
    Mutation(
        "code: the stream's default name",
        "aws/src/settings.rs",
        'pub const DEFAULT_STREAM: &str = "usage-metering";',
        'pub const DEFAULT_STREAM: &str = "usage-events";',
        "the code's DEFAULT_STREAM constants disagree",
    ),
    Mutation(
        "code: the stream the seed's producer writes to",
        "examples/boto3_producer.py",
        "StreamName='usage-metering'",
        "StreamName='usage-events'",
        "examples/boto3_producer.py writes to ['usage-events']",
    ),
    Mutation(
        "code: an environment variable's name",
        "runtime/src/env.rs",
        'pub const TALLY_BUCKET_NAME: &str = "TALLY_BUCKET_NAME";',
        'pub const TALLY_BUCKET_NAME: &str = "TALLY_DATA_BUCKET";',
        "the code reads TALLY_DATA_BUCKET, which the function is not given",
    ),
    Mutation(
        "code: an events column's name",
        "schemas/src/table.rs",
        '    "received_at",\n',
        '    "ingested_at",\n',
        "aws_glue_catalog_table.usage_events: columns",
    ),
    Mutation(
        "code: the value column's scale",
        "schemas/src/table.rs",
        "pub const VALUE_SCALE: i8 = 9;",
        "pub const VALUE_SCALE: i8 = 6;",
        "decimal(38,6)",
    ),
    Mutation(
        "code: the events partition layout",
        "schemas/src/layout.rs",
        'format!("tenants/{tenant_id}/usage/events/dt={}/", day.date_string())',
        'format!("tenants/{tenant_id}/events/dt={}/", day.date_string())',
        "aws_glue_catalog_table.usage_events: projection template",
    ),
    Mutation(
        "code: the EMF namespace",
        "functions/usage-consumer/src/lib.rs",
        'pub const METRICS_NAMESPACE: &str = "Tally";',
        'pub const METRICS_NAMESPACE: &str = "TallyUsage";',
        "metrics_namespace 'Tally'",
    ),
    # The Terraform changes alone.
    Mutation(
        "hcl: the stream's name",
        "infra/components/terraform/usage-stream/main.tf",
        "name             = var.stream_name",
        'name             = "${var.stream_name}-v2"',
        "0 Kinesis streams named 'usage-metering'",
    ),
    Mutation(
        "hcl: the rollups table's name",
        "infra/components/terraform/metering-tables/main.tf",
        "name                        = var.rollups_table_name",
        'name                        = "${var.rollups_table_name}-v2"',
        "DynamoDB tables named 'usage-rollups'",
    ),
    Mutation(
        "hcl: the rollups table's sort key",
        "infra/components/terraform/metering-tables/main.tf",
        '  range_key                   = "window"',
        '  range_key                   = "window_start"',
        "table usage-rollups has keys",
    ),
    Mutation(
        "hcl: an environment variable the consumer needs",
        "infra/components/terraform/lambda-usage-consumer/main.tf",
        "    TALLY_STATE_TABLE        = var.state_table_name",
        "    TALLY_LEDGER_TABLE       = var.state_table_name",
        "the code reads TALLY_STATE_TABLE, which the function is not given",
    ),
    Mutation(
        "hcl: the consumer's package",
        "infra/components/terraform/lambda-usage-consumer/variables.tf",
        '"../../../../target/lambda/usage-consumer/bootstrap.zip"',
        '"../../../../target/lambda/usage-consumr/bootstrap.zip"',
        "package target/lambda/usage-consumr/bootstrap.zip names no binary",
    ),
    Mutation(
        "hcl: a Glue column",
        "infra/components/terraform/glue-athena/main.tf",
        '      name    = "received_at"',
        '      name    = "received"',
        "aws_glue_catalog_table.usage_events: columns",
    ),
    Mutation(
        "hcl: the parallelization factor",
        "infra/components/terraform/lambda-usage-consumer/main.tf",
        "parallelization_factor = 1",
        "parallelization_factor = 2",
        "parallelization_factor must be 1",
    ),
    # The Lambda components pass their function to infra/modules/lambda-function: the check
    # follows the module call, on either side of it.
    Mutation(
        "hcl: the runtime a Lambda component passes to its module",
        "infra/components/terraform/lambda-usage-ingest/main.tf",
        '  runtime              = "provided.al2023"',
        '  runtime              = "provided.al2"',
        "lambda-usage-ingest: module.function.aws_lambda_function.function: runtime is 'provided.al2'",
    ),
    Mutation(
        "hcl: the environment a Lambda component passes to its module",
        "infra/components/terraform/lambda-invoice-generator/main.tf",
        "  environment            = local.environment\n",
        "  environment            = local.environment_required\n",
        "environment variables must be local.environment",
    ),
    Mutation(
        "hcl: the module's function environment",
        "infra/modules/lambda-function/main.tf",
        "    variables = var.environment",
        "    variables = merge(var.environment, { TALLY_DEBUG = \"1\" })",
        "lambda-usage-consumer: module.function.aws_lambda_function.function: environment variables",
    ),
    Mutation(
        "hcl: the module's handler",
        "infra/modules/lambda-function/main.tf",
        "  handler                        = var.handler",
        '  handler                        = "main"',
        "module.function.aws_lambda_function.function: handler is 'main'",
    ),
    # A stack changes alone.
    Mutation(
        "stack: the state table's name",
        "infra/stacks/catalog/metering-tables.yaml",
        "state_table_name: metering-state",
        "state_table_name: metering-ledger",
        "DynamoDB tables named 'metering-state'",
    ),
    Mutation(
        "stack: a var the component does not declare",
        "infra/stacks/catalog/lambda-usage-consumer.yaml",
        "batching_window_secs: 5",
        "batching_window_seconds: 5",
        "is given var batching_window_seconds, which it does not declare",
    ),
    Mutation(
        "stack: a reference to an output that does not exist",
        "infra/stacks/catalog/lambda-usage-ingest.yaml",
        "stream_arn: !terraform.state usage-stream stream_arn",
        "stream_arn: !terraform.state usage-stream arn",
        "reads output arn of usage-stream",
    ),
    Mutation(
        "stack: a workflow applying a component before its dependency",
        "infra/workflows/deploy.yaml",
        "      - command: terraform apply usage-stream\n      - command: terraform apply s3-tenant-data\n      - command: terraform apply metering-tables\n      - command: terraform apply cognito\n      - command: terraform apply lambda-usage-consumer\n",
        "      - command: terraform apply lambda-usage-consumer\n      - command: terraform apply usage-stream\n      - command: terraform apply s3-tenant-data\n      - command: terraform apply metering-tables\n      - command: terraform apply cognito\n",
        "apply-all: lambda-usage-consumer runs before usage-stream",
    ),
    Mutation(
        "stack: the state backend's bucket",
        "infra/stacks/dev.yaml",
        "bucket: acme-dev-tfstate",
        "bucket: acme-tfstate",
        "backend bucket 'acme-tfstate'",
    ),
]


def copy_repository(destination: Path) -> Path:
    """The files the check reads, without build output, state or version control."""
    copy = destination / "repo"
    shutil.copytree(
        REPO,
        copy,
        ignore=shutil.ignore_patterns(
            "target", ".git", ".terraform", "__pycache__", "*.tfstate", "*.tfstate.*"
        ),
    )
    return copy


def check_this_repository_has_no_drift() -> None:
    problems = drift.check(REPO)
    assert problems == [], "drift between infra/ and the code:\n" + "\n".join(problems)
    print("ok this repository: infra/ agrees with the code", flush=True)


def check_mutation(copy: Path, mutation: Mutation) -> None:
    path = copy / mutation.path
    original = path.read_text()
    occurrences = original.count(mutation.old)
    assert occurrences == 1, (
        f"mutation {mutation.name!r}: {mutation.old!r} occurs {occurrences} times in "
        f"{mutation.path}; update tests/infra/test_drift.py to follow the code"
    )
    path.write_text(original.replace(mutation.old, mutation.new))
    try:
        problems = drift.check(copy)
    finally:
        path.write_text(original)
    assert any(mutation.reported in problem for problem in problems), (
        f"mutation {mutation.name!r} was not reported as {mutation.reported!r}; the check "
        "reported:\n" + ("\n".join(problems) or "nothing")
    )
    print(f"ok drift reported: {mutation.name}", flush=True)


def main() -> int:
    started = time.monotonic()
    check_this_repository_has_no_drift()
    with tempfile.TemporaryDirectory(prefix="tally-drift-") as temporary:
        copy = copy_repository(Path(temporary))
        assert drift.check(copy) == [], "the unmutated copy must agree with itself"
        print("ok the copy agrees before any mutation", flush=True)
        for mutation in MUTATIONS:
            check_mutation(copy, mutation)
    print(
        f"{len(MUTATIONS) + 2} drift checks passed in {time.monotonic() - started:.1f}s",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
