# The usage-consumer Lambda (functions/usage-consumer) and its Kinesis event source mapping:
# batches of usage events into Parquet in the tenant data bucket and rollups in DynamoDB, exactly
# once (docs/exactly-once.md).

data "aws_region" "current" {}

locals {
  # Every variable AwsSettings::from_env (aws/src/settings.rs) reads. tests/infra/test_drift.py
  # holds these names against runtime/src/env.rs.
  environment_required = {
    TALLY_STREAM_NAME        = var.stream_name
    TALLY_BUCKET_NAME        = var.tenant_data_bucket_name
    TALLY_ROLLUPS_TABLE      = var.rollups_table_name
    TALLY_STATE_TABLE        = var.state_table_name
    TALLY_MAX_EVENT_AGE_DAYS = tostring(var.max_event_age_days)
    TALLY_TENANTS_TABLE      = var.tenants_table_name
  }
  # Read when set; left out when empty, which the code treats as unset.
  environment_optional = {
    TALLY_METERS_FILE = var.meters_file
  }
  environment = merge(
    local.environment_required,
    { for name, value in local.environment_optional : name => value if value != "" },
  )
}

# For Kinesis the on-failure destination receives a description of the batch given up on (shard,
# first and last sequence numbers), not the records: they are read again from the stream, which
# keeps them for its retention period (docs/deploy.md, "Records the consumer gave up on").
resource "aws_sqs_queue" "on_failure" {
  name                              = "${var.function_name}-on-failure"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = module.function.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
}

# Exactly what the handler calls (aws/src/s3.rs, aws/src/dynamodb.rs, runtime/src/stream/) and
# what the event source mapping calls with the function's role.
data "aws_iam_policy_document" "function" {
  statement {
    sid = "ReadTheUsageStream"
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:GetRecords",
      "kinesis:GetShardIterator",
      "kinesis:ListShards",
    ]
    resources = [var.stream_arn]
  }

  statement {
    sid       = "DecryptTheUsageStream"
    actions   = ["kms:Decrypt"]
    resources = [var.stream_kms_key_arn]
  }

  # Staged objects and ledger records are written, read back, promoted (CopyObject reads the
  # source) and deleted once promoted or superseded.
  statement {
    sid     = "StageAndKeepLedgers"
    actions = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    resources = [
      "${var.tenant_data_bucket_arn}/_staging/stream/*",
      "${var.tenant_data_bucket_arn}/_ledger/*",
    ]
  }

  # Promotion targets (CopyObject writes them, HeadObject checks them after a crash) and the
  # quarantine of records without a readable tenant (PutObject). Nothing is deleted here.
  statement {
    sid     = "PublishEventsAndQuarantine"
    actions = ["s3:PutObject", "s3:GetObject"]
    resources = [
      "${var.tenant_data_bucket_arn}/tenants/*/usage/events/*",
      "${var.tenant_data_bucket_arn}/quarantine/*",
    ]
  }

  # Without s3:ListBucket, HeadObject of a missing key answers 403 instead of 404, and the
  # promotion's "source gone, target present" check (aws/src/s3.rs) needs the 404. HeadObject
  # carries no s3:prefix, so the permission cannot be narrowed by prefix.
  statement {
    sid       = "TellMissingKeysApart"
    actions   = ["s3:ListBucket"]
    resources = [var.tenant_data_bucket_arn]
  }

  statement {
    sid       = "UseTheTenantDataKey"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.tenant_data_kms_key_arn]
  }

  # Ledger heads (GetItem, conditional PutItem), quality counts (UpdateItem), the dedup key and
  # meter signatures (Query, GetItem, PutItem). No Scan: only `tally consume` and `tally usage`
  # list the tables.
  statement {
    sid       = "KeepLedgerHeadsAndCounts"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
    resources = [var.state_table_arn]
  }

  # Sums and counts are one conditional UpdateItem; max and latest rollups are read (GetItem)
  # and written back (conditional PutItem).
  # Metering counts only registered tenants: the registry is read at most once a minute
  # (runtime/src/registry.rs).
  statement {
    sid       = "ReadTheTenantRegistry"
    actions   = ["dynamodb:Query"]
    resources = [var.tenants_table_arn]
  }

  statement {
    sid       = "UseTheTenantsKeyThroughDynamoDB"
    actions   = ["kms:Decrypt", "kms:DescribeKey"]
    resources = [var.tenants_kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["dynamodb.${data.aws_region.current.name}.amazonaws.com"]
    }
  }

  statement {
    sid       = "ApplyRollups"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [var.rollups_table_arn]
  }

  statement {
    sid       = "UseTheTablesKeyThroughDynamoDB"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*"]
    resources = [var.tables_kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["dynamodb.${data.aws_region.current.name}.amazonaws.com"]
    }
  }

  # The event source mapping sends the description of a batch it gave up on with this role.
  statement {
    sid       = "ReportBatchesGivenUpOn"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.on_failure.arn]
  }
}

# The module adds the function key and the log group to the statements above.
module "function" {
  source = "../../../modules/lambda-function"

  namespace            = var.namespace
  stage                = var.stage
  function_name        = var.function_name
  description          = "Kinesis usage batches into Parquet (S3) and rollups (DynamoDB), exactly once"
  kms_key_purpose      = "environment, logs, on-failure queue"
  package_path         = var.package_path
  handler              = "bootstrap"
  runtime              = "provided.al2023"
  architectures        = ["arm64"]
  memory_size_mb       = var.memory_size_mb
  timeout_secs         = var.timeout_secs
  reserved_concurrency = var.reserved_concurrency
  log_retention_days   = var.log_retention_days
  environment          = local.environment
  policy_json          = data.aws_iam_policy_document.function.json
}

resource "aws_lambda_event_source_mapping" "usage_stream" {
  event_source_arn                   = var.stream_arn
  function_name                      = module.function.function_arn
  starting_position                  = "TRIM_HORIZON"
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.batching_window_secs
  function_response_types            = ["ReportBatchItemFailures"]
  bisect_batch_on_function_error     = true
  maximum_retry_attempts             = var.maximum_retry_attempts
  maximum_record_age_in_seconds      = var.maximum_record_age_secs

  # Must stay 1 (docs/exactly-once.md). With more than one concurrent batch per shard the mapping
  # keeps order only per partition key, so a tenant whose events carry several partition keys
  # could have a later record committed before an earlier one of the same shard, and the
  # ledger's per-shard `seen` position would then skip the earlier record. Scale with shards.
  parallelization_factor = 1

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.on_failure.arn
    }
  }

  # The mapping reads the stream with the function's role: its policy first.
  depends_on = [module.function]
}
