# The invoice-generator Lambda (functions/invoice-generator), invoked by the schedules of the
# eventbridge-schedules component: daily drafts and monthly final invoices from the DynamoDB
# rollups, written to the invoices table and the tenant data bucket. Before pricing, a run brings
# every tenant's gauges up to its processing time, which commits to the tenant's ledger like the
# consumer does; so it needs the consumer's ledger permissions too.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id     = data.aws_caller_identity.current.account_id
  partition      = data.aws_partition.current.partition
  log_group_name = "/aws/lambda/${var.function_name}"

  # Every variable functions/invoice-generator/src/main.rs reads, with AwsSettings::from_env
  # (aws/src/settings.rs). tests/infra/test_drift.py holds these names against runtime/src/env.rs.
  environment_required = {
    TALLY_STREAM_NAME         = var.stream_name
    TALLY_BUCKET_NAME         = var.tenant_data_bucket_name
    TALLY_ROLLUPS_TABLE       = var.rollups_table_name
    TALLY_STATE_TABLE         = var.state_table_name
    TALLY_INVOICES_TABLE      = var.invoices_table_name
    TALLY_MAX_EVENT_AGE_DAYS  = tostring(var.max_event_age_days)
    TALLY_INVOICE_GRACE_HOURS = tostring(var.invoice_grace_hours)
  }
  # Read when set; left out when empty, which the code treats as unset.
  environment_optional = {
    TALLY_METERS_FILE = var.meters_file
    TALLY_PLANS_FILE  = var.plans_file
  }
  environment = merge(
    local.environment_required,
    { for name, value in local.environment_optional : name => value if value != "" },
  )
}

resource "aws_kms_key" "function" {
  description             = "Lambda ${var.function_name}: environment, logs, dead-letter queue"
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

# The schedules invoke the function asynchronously; a run that still fails after the retries of
# aws_lambda_function_event_invoke_config.runs lands here with its request.
resource "aws_sqs_queue" "dead_letter" {
  name                              = "${var.function_name}-dead-letter"
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

data "aws_iam_policy_document" "function" {
  # Loading a ledger finishes its pending commit (promoting the consumer's staged objects), and
  # bringing gauges up to date commits a record; the same keys as the consumer's.
  statement {
    sid     = "StageAndKeepLedgers"
    actions = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    resources = [
      "${var.tenant_data_bucket_arn}/_staging/stream/*",
      "${var.tenant_data_bucket_arn}/_ledger/*",
    ]
  }

  statement {
    sid     = "PublishEventsQuarantineAndInvoices"
    actions = ["s3:PutObject", "s3:GetObject"]
    resources = [
      "${var.tenant_data_bucket_arn}/tenants/*/usage/events/*",
      "${var.tenant_data_bucket_arn}/tenants/*/invoices/*",
      "${var.tenant_data_bucket_arn}/quarantine/*",
    ]
  }

  # HeadObject and GetObject of a missing key answer 404 only with s3:ListBucket; the code tells
  # a missing object (a new invoice, a finished promotion) by it.
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

  # A run without a tenant lists the ledger heads (Scan) and reads the month's rollups of every
  # tenant (Scan); with a tenant it queries.
  statement {
    sid       = "KeepLedgerHeadsAndCounts"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:Scan"]
    resources = [var.state_table_arn]
  }

  statement {
    sid       = "ReadAndApplyRollups"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:Scan"]
    resources = [var.rollups_table_arn]
  }

  # An invoice is stored with one TransactWriteItems of conditional Puts (aws/src/invoices.rs);
  # IAM authorizes each Put as dynamodb:PutItem.
  statement {
    sid       = "StoreInvoices"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
    resources = [var.invoices_table_arn]
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

  statement {
    sid       = "KeepFailedRuns"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter.arn]
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

resource "aws_lambda_function" "invoices" {
  #checkov:skip=CKV_AWS_117:The function reaches only S3, DynamoDB and CloudWatch, over their public endpoints with IAM and TLS; it needs no private network, and a VPC would add NAT gateways or interface endpoints.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signing step in the release pipeline, neither of which exists yet; the package is built by scripts/package-lambdas.
  function_name                  = var.function_name
  description                    = "Scheduled invoice runs: daily drafts, monthly finals, from the DynamoDB rollups"
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

  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letter.arn
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

# Runs are safe to repeat (invoices are deterministic and stored under conditions), so a failed
# asynchronous run is retried; one older than an hour is left to the dead-letter queue and the
# next scheduled run.
resource "aws_lambda_function_event_invoke_config" "runs" {
  function_name                = aws_lambda_function.invoices.function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 3600
}
