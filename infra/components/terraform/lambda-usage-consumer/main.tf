# The usage-consumer Lambda (functions/usage-consumer) and its Kinesis event source mapping:
# batches of usage events into Parquet in the tenant data bucket and rollups in DynamoDB, exactly
# once (docs/exactly-once.md).

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
# what the event source mapping calls with the function's role: the ledger statements every
# committing function shares, and the stream.
module "metering_policy" {
  source = "../../../modules/metering-policy"

  tenant_data_bucket_arn  = var.tenant_data_bucket_arn
  tenant_data_kms_key_arn = var.tenant_data_kms_key_arn
  # Events promoted under the tenant's prefix; records without a readable tenant quarantined.
  published_prefixes    = ["tenants/*/usage/events/*", "quarantine/*"]
  state_table_arn       = var.state_table_arn
  state_table_actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
  rollups_table_arn     = var.rollups_table_arn
  rollups_table_actions = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
  tenants_table_arn     = var.tenants_table_arn
  tenants_kms_key_arn   = var.tenants_kms_key_arn
  table_kms_key_arns    = [var.tables_kms_key_arn]
}

data "aws_iam_policy_document" "function" {
  source_policy_documents = [module.metering_policy.json]

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
