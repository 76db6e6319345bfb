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
    # The buckets are made by infra/modules/secure-bucket: the check follows the module call.
    Mutation(
        "hcl: the tenant data bucket's output naming no bucket",
        "infra/components/terraform/s3-tenant-data/outputs.tf",
        "  value       = module.bucket.bucket_name\n",
        "  value       = local.bucket_name\n",
        "TALLY_BUCKET_NAME resolves to '${coalesce(var.bucket_name, ",
    ),
    Mutation(
        "hcl: the bucket module's output naming no bucket",
        "infra/modules/secure-bucket/outputs.tf",
        "  value       = aws_s3_bucket.bucket.id\n",
        "  value       = var.bucket_name\n",
        "TALLY_BUCKET_NAME resolves to '${coalesce(var.bucket_name, ",
    ),
    # The control plane: the tenants table, on either side.
    Mutation(
        "code: the tenants table's default name",
        "control-aws/src/tenants.rs",
        'pub const DEFAULT_TENANTS_TABLE: &str = "tenants";',
        'pub const DEFAULT_TENANTS_TABLE: &str = "tenant-registry";',
        "DynamoDB tables named 'tenant-registry'",
    ),
    Mutation(
        "code: the tenants table's sort key",
        "control-aws/src/tenants.rs",
        '.key_schema(key("sk", KeyType::Range))',
        '.key_schema(key("id", KeyType::Range))',
        "table tenants has keys",
    ),
    Mutation(
        "code: the tenants table's TTL attribute",
        "control-aws/src/tenants.rs",
        'pub const EXPIRES_AT_ATTRIBUTE: &str = "expires_at";',
        'pub const EXPIRES_AT_ATTRIBUTE: &str = "ttl";',
        "expires items by 'ttl'",
    ),
    Mutation(
        "hcl: the tenants table's name",
        "infra/components/terraform/tenant-management-db/main.tf",
        "name                        = var.tenants_table_name",
        'name                        = "${var.tenants_table_name}-v2"',
        "0 DynamoDB tables named 'tenants'",
    ),
    Mutation(
        "hcl: the tenants table's partition key",
        "infra/components/terraform/tenant-management-db/main.tf",
        '  hash_key                    = "pk"',
        '  hash_key                    = "tenant_id"',
        "table tenants has keys",
    ),
    Mutation(
        "hcl: the tenants table's TTL attribute",
        "infra/components/terraform/tenant-management-db/main.tf",
        '    attribute_name = "expires_at"',
        '    attribute_name = "expiry"',
        "expires items by 'expires_at'",
    ),
    Mutation(
        "stack: the tenants table's name",
        "infra/stacks/catalog/tenant-management-db.yaml",
        "tenants_table_name: tenants",
        "tenants_table_name: tally-tenants",
        "DynamoDB tables named 'tenants'",
    ),
    # The control plane's functions: what they read, on either side.
    Mutation(
        "code: a variable the control plane's settings read",
        "runtime/src/env.rs",
        'pub const TALLY_EMAIL_FROM: &str = "TALLY_EMAIL_FROM";',
        'pub const TALLY_EMAIL_FROM: &str = "TALLY_MAIL_FROM";',
        "lambda-onboarding: module.function.aws_lambda_function.function: the code reads TALLY_MAIL_FROM",
    ),
    Mutation(
        "code: the admin API's audience variable",
        "runtime/src/env.rs",
        'pub const TALLY_APP_CLIENT_ID: &str = "TALLY_APP_CLIENT_ID";',
        'pub const TALLY_APP_CLIENT_ID: &str = "TALLY_ADMIN_CLIENT_ID";',
        "lambda-tenant-management: module.function.aws_lambda_function.function: the code reads TALLY_ADMIN_CLIENT_ID",
    ),
    Mutation(
        "hcl: a variable tenant-management needs",
        "infra/components/terraform/lambda-tenant-management/main.tf",
        "    TALLY_USER_POOL_ID                  = var.user_pool_id",
        "    TALLY_COGNITO_USER_POOL_ID = var.user_pool_id",
        "the code reads TALLY_USER_POOL_ID, which the function is not given",
    ),
    Mutation(
        "hcl: a variable onboarding needs",
        "infra/components/terraform/lambda-onboarding/main.tf",
        "    TALLY_TENANTS_TABLE                    = var.tenants_table_name",
        "    TALLY_TENANT_TABLE                     = var.tenants_table_name",
        "lambda-onboarding: module.function.aws_lambda_function.function: the code reads TALLY_TENANTS_TABLE",
    ),
    Mutation(
        "hcl: the database secret onboarding is given",
        "infra/components/terraform/lambda-onboarding/main.tf",
        "    TALLY_APP_DATABASE_PASSWORD_SECRET_ARN = var.app_password_secret_arn\n",
        "",
        "the code reads TALLY_APP_DATABASE_PASSWORD, which the function is not given",
    ),
    Mutation(
        "hcl: onboarding's package",
        "infra/components/terraform/lambda-onboarding/variables.tf",
        '"../../../../target/lambda/onboarding/bootstrap.zip"',
        '"../../../../target/lambda/onboardng/bootstrap.zip"',
        "package target/lambda/onboardng/bootstrap.zip names no binary",
    ),
    Mutation(
        "stack: onboarding given another stream",
        "infra/stacks/catalog/lambda-onboarding.yaml",
        "stream_name: !terraform.state usage-stream stream_name",
        "stream_name: usage-events",
        "TALLY_STREAM_NAME resolves to 'usage-events'",
    ),
    # The state machines: the committed definitions, their function and their role.
    Mutation(
        "code: a Task invoking another function",
        "infra/components/terraform/step-functions-onboarding/onboarding.asl.json",
        '"Next": "Validate",\n      "Parameters": {\n        "FunctionName": "${onboarding_function_arn}",',
        '"Next": "Validate",\n      "Parameters": {\n        "FunctionName": "arn:aws:lambda:us-east-1:123456789012:function:other",',
        "onboarding.asl.json: Task Begin has Resource",
    ),
    Mutation(
        "code: the definitions the generator's test keeps",
        "tenancy/src/state_machine/tests.rs",
        '("offboarding.asl.json", offboarding()),',
        '("offboarding-v2.asl.json", offboarding()),',
        "is not one of the committed ASL files",
    ),
    Mutation(
        "hcl: a state machine made from another file",
        "infra/components/terraform/step-functions-onboarding/main.tf",
        'templatefile("${path.module}/offboarding.asl.json",',
        'templatefile("${path.module}/offboarding-draft.asl.json",',
        "aws_sfn_state_machine.offboarding: definition step-functions-onboarding/offboarding-draft.asl.json is not one of the committed ASL files",
    ),
    Mutation(
        "hcl: a state machine's template variable",
        "infra/components/terraform/step-functions-onboarding/main.tf",
        '"${path.module}/onboarding.asl.json", { onboarding_function_arn = var.onboarding_function_arn }',
        '"${path.module}/onboarding.asl.json", { function_arn = var.onboarding_function_arn }',
        "aws_sfn_state_machine.onboarding: template variables ['function_arn']",
    ),
    Mutation(
        "hcl: the workflows' role invoking any function",
        "infra/components/terraform/step-functions-onboarding/main.tf",
        'resources = [var.onboarding_function_arn, "${var.onboarding_function_arn}:*"]',
        'resources = ["*"]',
        "the role may ['lambda:InvokeFunction'] on ['*']",
    ),
    Mutation(
        "stack: the state machines given another function",
        "infra/stacks/catalog/step-functions-onboarding.yaml",
        "onboarding_function_arn: !terraform.state lambda-onboarding function_arn",
        "onboarding_function_arn: !terraform.state lambda-invoice-generator function_arn",
        "onboarding_function_arn resolves to ResourceRef(component='lambda-invoice-generator'",
    ),
    Mutation(
        "hcl: tenant-management given the wrong state machine",
        "infra/components/terraform/lambda-tenant-management/main.tf",
        "    TALLY_ONBOARDING_STATE_MACHINE_ARN  = var.onboarding_state_machine_arn\n",
        "    TALLY_ONBOARDING_STATE_MACHINE_ARN  = var.offboarding_state_machine_arn\n",
        "TALLY_ONBOARDING_STATE_MACHINE_ARN resolves to ResourceRef(component='step-functions-onboarding', kind='aws_sfn_state_machine', name='offboarding', attribute='arn'), not the ARN of the state machine made from onboarding.asl.json",
    ),
    # The admin API: its routes, its authorizer, the admin group.
    Mutation(
        "code: a route of the admin API",
        "functions/tenant-management/src/routes.rs",
        '        "/admin/tenants/{id}/audit",',
        '        "/admin/tenants/{id}/history",',
        "misses ['GET /admin/tenants/{id}/history'], which it does",
    ),
    Mutation(
        "hcl: a route of the admin API",
        "infra/components/terraform/apigateway/main.tf",
        '    "POST /admin/tenants/{id}/suspend",',
        '    "POST /admin/tenants/{id}/pause",',
        "routes ['POST /admin/tenants/{id}/pause'] to tenant-management, which functions/tenant-management/src/routes.rs does not serve",
    ),
    Mutation(
        "hcl: the admin routes' audience",
        "infra/components/terraform/apigateway/main.tf",
        "    audience = [var.admin_client_id]",
        "    audience = var.jwt_audience",
        "the authorizer's audience resolves to",
    ),
    Mutation(
        "code: the admin group",
        "auth/src/lib.rs",
        'pub const ADMIN_GROUP: &str = "tally-admins";',
        'pub const ADMIN_GROUP: &str = "tally-operators";',
        "not auth/src/lib.rs ADMIN_GROUP 'tally-operators'",
    ),
    Mutation(
        "hcl: the admin group",
        "infra/components/terraform/cognito/main.tf",
        '  name         = "tally-admins"',
        '  name         = "admins"',
        "not auth/src/lib.rs ADMIN_GROUP 'tally-admins'",
    ),
    Mutation(
        "stack: tenant-management given the producers' client",
        "infra/stacks/catalog/lambda-tenant-management.yaml",
        "admin_client_id: !terraform.state cognito admin_client_id",
        "admin_client_id: !terraform.state cognito producer_client_id",
        "TALLY_APP_CLIENT_ID to ResourceRef(component='cognito', kind='aws_cognito_user_pool_client', name='usage_producers'",
    ),
    # The network: every component in the VPC takes it from the network component.
    Mutation(
        "stack: the shared database given a VPC id of its own",
        "infra/stacks/catalog/rds-shared.yaml",
        "vpc_id: !terraform.state network vpc_id",
        "vpc_id: vpc-0123456789abcdef0",
        "rds-shared.vpc_id is 'vpc-0123456789abcdef0', not the network component's vpc_id",
    ),
    Mutation(
        "stack: the cluster's nodes in the public subnets",
        "infra/stacks/catalog/eks.yaml",
        "subnet_ids: !terraform.state network private_subnet_ids",
        "subnet_ids: !terraform.state network public_subnet_ids",
        "eks.subnet_ids is ('network', 'public_subnet_ids'), not the network component's private_subnet_ids",
    ),
    # The GitOps agent: the manifests prefix it syncs, on either side, and who may read it.
    Mutation(
        "hcl: the ledger's early expiry under another prefix",
        "infra/components/terraform/s3-tenant-data/main.tf",
        '"_ledger/" = var.ledger_noncurrent_version_expiration_days',
        '"_ledgers/" = var.ledger_noncurrent_version_expiration_days',
        "but the code writes its ledger under LEDGER_PREFIX '_ledger/'",
    ),
    Mutation(
        "code: a tenant manifest named so the GitOps agent skips it",
        "tenancy/src/manifests.rs",
        '"10-network-policy.yaml".to_owned()',
        '"10-network-policy.json".to_owned()',
        "DeployApp writes ['10-network-policy.json']",
    ),
    Mutation(
        "code: the manifests prefix",
        "control-aws/src/manifests.rs",
        'pub const MANIFESTS_PREFIX: &str = "_platform/manifests/";',
        'pub const MANIFESTS_PREFIX: &str = "_platform/apps/";',
        "but control-aws/src/manifests.rs MANIFESTS_PREFIX is '_platform/apps/'",
    ),
    Mutation(
        "hcl: the manifests prefix of the agent",
        "infra/components/terraform/eks-addons/main.tf",
        'manifests_prefix = "_platform/manifests/"',
        'manifests_prefix = "_platform/manifest/"',
        "eks-addons: helm_release.tenant_manifests syncs bucket prefix '_platform/manifest/'",
    ),
    Mutation(
        "hcl: the Bucket source given another prefix",
        "infra/components/terraform/eks-addons/main.tf",
        "    value = local.manifests_prefix\n",
        '    value = "_platform/"\n',
        "syncs bucket prefix '_platform/'",
    ),
    Mutation(
        "hcl: the Bucket source without its prefix",
        "infra/components/terraform/eks-addons/charts/tenant-manifests/templates/bucket.yaml",
        '  prefix: {{ required "bucket.prefix" .Values.bucket.prefix | quote }}\n',
        "",
        "has no prefix from bucket.prefix",
    ),
    Mutation(
        "hcl: the agent's role reading the whole bucket",
        "infra/components/terraform/eks-addons/main.tf",
        '"${var.tenant_data_bucket_arn}/${local.manifests_prefix}*",',
        '"${var.tenant_data_bucket_arn}/*",',
        "eks-addons: aws_iam_role.source_controller may s3:GetObject '*', outside '_platform/manifests/'",
    ),
    Mutation(
        "hcl: the onboarding function writing the manifests elsewhere",
        "infra/components/terraform/lambda-onboarding/main.tf",
        '"${var.tenant_data_bucket_arn}/_platform/manifests/*",',
        '"${var.tenant_data_bucket_arn}/_platform/apps/*",',
        "the onboarding function may not write _platform/manifests/*",
    ),
    Mutation(
        "stack: the agent syncing another bucket",
        "infra/stacks/catalog/eks-addons.yaml",
        "tenant_data_bucket_name: !terraform.state s3-tenant-data bucket_name",
        "tenant_data_bucket_name: !terraform.state glue-athena results_bucket_name",
        "eks-addons: helm_release.tenant_manifests syncs bucket ResourceRef(component='glue-athena'",
    ),
    # The tenant roles' permissions boundary: given to onboarding, required by its role.
    Mutation(
        "code: the boundary variable's name",
        "runtime/src/env.rs",
        'pub const TALLY_TENANT_PERMISSIONS_BOUNDARY_ARN: &str = "TALLY_TENANT_PERMISSIONS_BOUNDARY_ARN";',
        'pub const TALLY_TENANT_PERMISSIONS_BOUNDARY_ARN: &str = "TALLY_TENANT_BOUNDARY_ARN";',
        "lambda-onboarding: module.function.aws_lambda_function.function: the code reads TALLY_TENANT_BOUNDARY_ARN",
    ),
    Mutation(
        "hcl: onboarding not given the boundary",
        "infra/components/terraform/lambda-onboarding/main.tf",
        "    TALLY_TENANT_PERMISSIONS_BOUNDARY_ARN  = var.tenant_permissions_boundary_arn\n",
        "",
        "the code reads TALLY_TENANT_PERMISSIONS_BOUNDARY_ARN, which the function is not given",
    ),
    Mutation(
        "hcl: onboarding creating roles without the boundary",
        "infra/components/terraform/lambda-onboarding/main.tf",
        'sid       = "TagTenantRoles"\n    actions   = ["iam:TagRole"]',
        'sid       = "TagTenantRoles"\n    actions   = ["iam:TagRole", "iam:CreateRole"]',
        "statement TagTenantRoles allows iam:CreateRole without iam:PermissionsBoundary",
    ),
    Mutation(
        "hcl: onboarding removing the boundary",
        "infra/components/terraform/lambda-onboarding/main.tf",
        'actions   = ["iam:PutRolePermissionsBoundary"]',
        'actions   = ["iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary"]',
        "statement BoundTenantRoles may remove a tenant role's boundary",
    ),
    Mutation(
        "hcl: the boundary widened beyond the tenant's prefix",
        "infra/components/terraform/tenant-access-policies/main.tf",
        'actions   = ["s3:PutObject"]\n    resources = ["${var.tenant_data_bucket_arn}/tenants/${local.tenant}/*"]',
        'actions   = ["s3:PutObject"]\n    resources = ["${var.tenant_data_bucket_arn}/*"]',
        "the tenant boundary's WriteOwnTenantObjects allows objects '*', outside 'tenants/${aws:PrincipalTag/tenant_id}/'",
    ),
    Mutation(
        "hcl: the boundary under the tenant path",
        "infra/components/terraform/tenant-access-policies/main.tf",
        'path        = "/tally/"',
        'path        = "/tally/tenants/"',
        "the boundary's path '/tally/tenants/' is under control-aws/src/names.rs IAM_PATH",
    ),
    Mutation(
        "stack: onboarding given another policy as the boundary",
        "infra/stacks/catalog/lambda-onboarding.yaml",
        "tenant_permissions_boundary_arn: !terraform.state tenant-access-policies tenant_boundary_policy_arn",
        "tenant_permissions_boundary_arn: !terraform.state tenant-access-policies tenant_usage_read_policy_arn",
        "stack dev: lambda-onboarding: TALLY_TENANT_PERMISSIONS_BOUNDARY_ARN resolves to the policy 'acme-dev-tally-tenant-usage-read', not tally-tenant-boundary",
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
        "      - command: terraform apply metering-tables\n      - command: terraform apply tenant-management-db\n      - command: terraform apply cognito\n      - command: terraform apply ses-email\n      - command: terraform apply rds-shared\n      - command: terraform apply lambda-usage-consumer\n",
        "      - command: terraform apply lambda-usage-consumer\n      - command: terraform apply metering-tables\n      - command: terraform apply tenant-management-db\n      - command: terraform apply cognito\n      - command: terraform apply ses-email\n      - command: terraform apply rds-shared\n",
        "apply-all: lambda-usage-consumer runs before metering-tables",
    ),
    Mutation(
        "stack: a workflow applying the state machines before their function",
        "infra/workflows/deploy.yaml",
        "      - command: terraform apply lambda-onboarding\n      - command: terraform apply step-functions-onboarding\n",
        "      - command: terraform apply step-functions-onboarding\n      - command: terraform apply lambda-onboarding\n",
        "apply-all: step-functions-onboarding runs before lambda-onboarding",
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
    for pending in drift.PENDING:
        print(f"   pending: {pending}", flush=True)


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
