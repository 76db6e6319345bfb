# The usage-ingest Lambda (functions/usage-ingest): POST /v1/events from the API Gateway HTTP API,
# each event checked against the contract and the valid ones put on the usage stream
# (PutRecords, partition key = tenant id). The apigateway component routes to it and allows
# API Gateway to invoke it.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id     = data.aws_caller_identity.current.account_id
  partition      = data.aws_partition.current.partition
  log_group_name = "/aws/lambda/${var.function_name}"

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

resource "aws_kms_key" "function" {
  description             = "Lambda ${var.function_name}: environment and logs"
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

  statement {
    sid       = "UseTheFunctionKey"
    actions   = ["kms:Decrypt"]
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

resource "aws_lambda_function" "ingest" {
  #checkov:skip=CKV_AWS_116:API Gateway invokes the function synchronously and receives every error as the HTTP response; a function dead-letter queue only receives failed asynchronous invocations.
  #checkov:skip=CKV_AWS_117:The function reaches only Kinesis and CloudWatch, over their public endpoints with IAM and TLS; it needs no private network, and a VPC would add NAT gateways or interface endpoints.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signing step in the release pipeline, neither of which exists yet; the package is built by scripts/package-lambdas.
  function_name                  = var.function_name
  description                    = "POST /v1/events: usage events checked against the contract and put on the usage stream"
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
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function.name
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [aws_iam_role_policy.function, aws_cloudwatch_log_group.function]
}
