# The HTTP API in front of usage-ingest: POST /v1/events, authorized by a JWT from the shared
# Cognito user pool with the events.write scope. No custom domain yet: producers use the API's
# execute-api endpoint (output events_url).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id     = data.aws_caller_identity.current.account_id
  partition      = data.aws_partition.current.partition
  log_group_name = "/aws/apigateway/${var.api_name}"
}

resource "aws_kms_key" "access_logs" {
  description             = "Access logs of the ${var.api_name} HTTP API"
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
        Sid       = "CloudWatchLogsEncryptsTheAccessLogs"
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

resource "aws_kms_alias" "access_logs" {
  name          = "alias/${var.namespace}-${var.stage}-${var.api_name}-access-logs"
  target_key_id = aws_kms_key.access_logs.key_id
}

resource "aws_cloudwatch_log_group" "access_logs" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.access_logs.arn
}

resource "aws_apigatewayv2_api" "usage" {
  name          = var.api_name
  protocol_type = "HTTP"
  description   = "Tally usage events: POST /v1/events"
}

resource "aws_apigatewayv2_authorizer" "producers" {
  api_id           = aws_apigatewayv2_api.usage.id
  name             = "cognito-producers"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = var.jwt_issuer_url
    audience = var.jwt_audience
  }
}

resource "aws_apigatewayv2_integration" "ingest" {
  api_id                 = aws_apigatewayv2_api.usage.id
  integration_type       = "AWS_PROXY"
  integration_uri        = var.ingest_invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 30000
}

resource "aws_apigatewayv2_route" "post_events" {
  api_id               = aws_apigatewayv2_api.usage.id
  route_key            = "POST /v1/events"
  target               = "integrations/${aws_apigatewayv2_integration.ingest.id}"
  authorization_type   = "JWT"
  authorizer_id        = aws_apigatewayv2_authorizer.producers.id
  authorization_scopes = [var.events_write_scope]
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.usage.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_burst_limit   = var.throttling_burst_limit
    throttling_rate_limit    = var.throttling_rate_limit
    detailed_metrics_enabled = true
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access_logs.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      requestTime        = "$context.requestTime"
      sourceIp           = "$context.identity.sourceIp"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      responseLength     = "$context.responseLength"
      integrationStatus  = "$context.integrationStatus"
      integrationLatency = "$context.integrationLatency"
      clientId           = "$context.authorizer.claims.client_id"
      authorizerError    = "$context.authorizer.error"
    })
  }
}

resource "aws_lambda_permission" "api_invokes_ingest" {
  statement_id  = "AllowInvokeFromApiGateway"
  action        = "lambda:InvokeFunction"
  function_name = var.ingest_function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.usage.execution_arn}/*/POST/v1/events"
}
