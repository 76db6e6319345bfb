# One Lambda function of functions/ as the components deploy it: a key of its own (environment,
# logs and whatever queue the caller encrypts with it), its log group, its execution role (the
# caller's statements plus the function key and the log group), X-Ray, the network interfaces of
# a function placed in a VPC, and the function itself: cargo-lambda's bootstrap on
# provided.al2023 for arm64.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id     = data.aws_caller_identity.current.account_id
  partition      = data.aws_partition.current.partition
  log_group_name = "/aws/lambda/${var.function_name}"
}

resource "aws_kms_key" "function" {
  description             = "Lambda ${var.function_name}: ${var.kms_key_purpose}"
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

# The caller's statements first (what the handler calls), then the function's own key and logs.
data "aws_iam_policy_document" "function" {
  source_policy_documents = [var.policy_json]

  statement {
    sid       = "UseTheFunctionKey"
    actions   = var.function_key_actions
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

# A function in a VPC (onboarding, which reaches the shared PostgreSQL) creates and deletes its
# network interfaces with its own role.
resource "aws_iam_role_policy_attachment" "vpc_access" {
  count      = length(var.vpc_subnet_ids) > 0 ? 1 : 0
  role       = aws_iam_role.function.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_lambda_function" "function" {
  #checkov:skip=CKV_AWS_116:A function dead-letter queue only receives failed asynchronous invocations. usage-consumer is invoked synchronously by its event source mapping (batches given up on go to the mapping's on-failure destination), usage-ingest and tenant-management by API Gateway (every error is the HTTP response) and onboarding by Step Functions (lambda:invoke waits for the answer; errors go to the state's Retry and Catch); invoice-generator, invoked asynchronously by its schedules, passes dead_letter_target_arn.
  #checkov:skip=CKV_AWS_117:Only onboarding needs a private network (the shared PostgreSQL) and passes vpc_subnet_ids; the other functions reach only AWS APIs (Kinesis, S3, DynamoDB, Step Functions, CloudWatch) over their public endpoints with IAM and TLS, where a VPC would add NAT gateways or interface endpoints and nothing else.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile and a signing step in the release pipeline, neither of which exists yet; the package is built by scripts/package-lambdas.
  function_name                  = var.function_name
  description                    = var.description
  role                           = aws_iam_role.function.arn
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
  handler                        = var.handler
  runtime                        = var.runtime
  architectures                  = var.architectures
  memory_size                    = var.memory_size_mb
  timeout                        = var.timeout_secs
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = aws_kms_key.function.arn

  environment {
    variables = var.environment
  }

  dynamic "vpc_config" {
    for_each = length(var.vpc_subnet_ids) > 0 ? [var.vpc_subnet_ids] : []
    content {
      subnet_ids         = vpc_config.value
      security_group_ids = var.vpc_security_group_ids
    }
  }

  dynamic "dead_letter_config" {
    for_each = var.dead_letter_target_arn == null ? [] : [var.dead_letter_target_arn]
    content {
      target_arn = dead_letter_config.value
    }
  }

  logging_config {
    # Text: the handlers print their own JSON lines, and the consumer's EMF lines must reach
    # CloudWatch Logs as printed for the metrics to be extracted.
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function.name
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [
    aws_iam_role_policy.function,
    aws_iam_role_policy_attachment.vpc_access,
    aws_cloudwatch_log_group.function,
  ]
}
