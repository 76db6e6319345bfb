# The usage-ingest Lambda (functions/usage-ingest): POST /v1/events from the API Gateway HTTP API,
# each event checked against the contract and the valid ones put on the usage stream
# (PutRecords, partition key = tenant id). The apigateway component routes to it and allows
# API Gateway to invoke it.

locals {
  # Every variable usage_ingest::Settings::from_env (functions/usage-ingest/src/lib.rs) reads.
  # tests/infra/test_drift.py holds these names against that file.
  environment_required = {
    TALLY_STREAM_NAME = var.stream_name
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

data "aws_iam_policy_document" "function" {
  # tally_producer sends every batch with PutRecords (producer/src/kinesis.rs).
  statement {
    sid       = "PutOnTheUsageStream"
    actions   = ["kinesis:PutRecords"]
    resources = [var.stream_arn]
  }

  # Writing to a KMS-encrypted stream needs a data key from the stream's key.
  statement {
    sid       = "EncryptForTheUsageStream"
    actions   = ["kms:GenerateDataKey"]
    resources = [var.stream_kms_key_arn]
  }
}

# The module adds the function key and the log group to the statements above.
module "function" {
  source = "../../../modules/lambda-function"

  namespace            = var.namespace
  stage                = var.stage
  function_name        = var.function_name
  description          = "POST /v1/events: usage events checked against the contract and put on the usage stream"
  kms_key_purpose      = "environment and logs"
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
  function_key_actions = ["kms:Decrypt"]
}

