# The usage-consumer Lambda (functions/usage-consumer) and its Kinesis event source mapping:
# batches of usage events into Parquet in the tenant data bucket and rollups in DynamoDB, exactly
# once (docs/exactly-once.md).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id     = data.aws_caller_identity.current.account_id
  partition      = data.aws_partition.current.partition
  log_group_name = "/aws/lambda/${var.function_name}"

  # Every variable AwsSettings::from_env (aws/src/settings.rs) reads. tests/infra/test_drift.py
  # holds these names against runtime/src/env.rs.
  environment_required = {
    TALLY_STREAM_NAME        = var.stream_name
    TALLY_BUCKET_NAME        = var.tenant_data_bucket_name
    TALLY_ROLLUPS_TABLE      = var.rollups_table_name
    TALLY_STATE_TABLE        = var.state_table_name
    TALLY_MAX_EVENT_AGE_DAYS = tostring(var.max_event_age_days)
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

# One key for what belongs to the function alone: its environment variables, its log group and
# its on-failure queue.
resource "aws_kms_key" "function" {
  description             = "Lambda ${var.function_name}: environment, logs, on-failure queue"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersTheKey"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncryptsTheFunctionLogs"
        Effect    = "Allow"
        Principal = { Service = "logs.${data.aws_region.current.name}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnEquals = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${data.aws_region.current.name}:${local.account_id}:log-group:${local.log_group_name}"
          }
        }
      },
    ]
  })
}

resource "aws_kms_alias" "function" {
  name          = "alias/${var.namespace}-${var.stage}-${var.function_name}"
  target_key_id = aws_kms_key.function.key_id
}

resource "aws_cloudwatch_log_group" "function" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.function.arn
}

# For Kinesis the on-failure destination receives a description of the batch given up on (shard,
# first and last sequence numbers), not the records: they are read again from the stream, which
# keeps them for its retention period (docs/deploy.md, "Records the consumer gave up on").
resource "aws_sqs_queue" "on_failure" {
  name                              = "${var.function_name}-on-failure"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = aws_kms_key.function.arn
  kms_data_key_reuse_period_seconds = 300
}

resource "aws_iam_role" "function" {
  name = var.function_name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
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

  statement {
    sid       = "UseTheFunctionKey"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [aws_kms_key.function.arn]
  }

  statement {
    sid       = "WriteTheFunctionLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function.arn}:*"]
  }
}

resource "aws_iam_role_policy" "function" {
  name   = var.function_name
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}

resource "aws_iam_role_policy_attachment" "xray" {
  role       = aws_iam_role.function.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

resource "aws_lambda_function" "consumer" {
  #checkov:skip=CKV_AWS_116:The event source mapping invokes the function synchronously; a function dead-letter queue only receives failed asynchronous invocations. Batches given up on go to the mapping's on-failure destination (aws_sqs_queue.on_failure).
  #checkov:skip=CKV_AWS_117:The function reaches only Kinesis, S3, DynamoDB and CloudWatch, over their public endpoints with IAM and TLS; it needs no private network, and a VPC would add NAT gateways or interface endpoints.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signing step in the release pipeline, neither of which exists yet; the package is built by scripts/package-lambdas.
  function_name                  = var.function_name
  description                    = "Kinesis usage batches into Parquet (S3) and rollups (DynamoDB), exactly once"
  role                           = aws_iam_role.function.arn
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
  handler                        = "bootstrap"
  runtime                        = "provided.al2023"
  architectures                  = ["arm64"]
  memory_size                    = var.memory_size_mb
  timeout                        = var.timeout_secs
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = aws_kms_key.function.arn

  environment {
    variables = local.environment
  }

  logging_config {
    # Text: the handler prints its own JSON lines, and the EMF lines must reach CloudWatch Logs
    # as printed for the metrics to be extracted.
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function.name
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_iam_role_policy.function, aws_cloudwatch_log_group.function]
}

resource "aws_lambda_event_source_mapping" "usage_stream" {
  event_source_arn                   = var.stream_arn
  function_name                      = aws_lambda_function.consumer.arn
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

  depends_on = [aws_iam_role_policy.function]
}
