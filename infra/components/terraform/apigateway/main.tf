# The HTTP API of Tally, on the shared Cognito user pool's JWTs:
# - POST /v1/events in front of usage-ingest, for producers' client-credentials tokens with the
#   events.write scope;
# - the admin API in front of tenant-management: every route of its route table
#   (functions/tenant-management/src/routes.rs ROUTES, held equal by tests/infra/drift.py), for
#   tokens of the admin app client. API Gateway checks the issuer, audience and expiry; the
#   function checks them again and requires the tally-admins group.
# No custom domain yet: clients use the API's execute-api endpoint (outputs events_url, admin_url).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id     = data.aws_caller_identity.current.account_id
  partition      = data.aws_partition.current.partition
  log_group_name = "/aws/apigateway/${var.api_name}"
  # The admin API's routes: exactly the route table of tenant-management, so a path it does not
  # serve never reaches it (API Gateway answers 404).
  admin_routes = [
    "GET /admin/openapi.json",
    "POST /admin/tenants",
    "GET /admin/tenants",
    "GET /admin/tenants/{id}",
    "PATCH /admin/tenants/{id}",
    "DELETE /admin/tenants/{id}",
    "POST /admin/tenants/{id}/suspend",
    "POST /admin/tenants/{id}/activate",
    "POST /admin/tenants/{id}/onboard",
    "GET /admin/tenants/{id}/audit",
  ]
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
  description   = "Tally: usage events (POST /v1/events) and the admin API (/admin/tenants)"
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

# A second authorizer on the same pool, for the admin app client only: a producer's token is
# refused at the admin routes, an operator's at the events route (which also needs a scope that
# user tokens do not carry).
resource "aws_apigatewayv2_authorizer" "admins" {
  api_id           = aws_apigatewayv2_api.usage.id
  name             = "cognito-admins"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = var.jwt_issuer_url
    audience = [var.admin_client_id]
  }
}

resource "aws_apigatewayv2_integration" "tenant_management" {
  api_id                 = aws_apigatewayv2_api.usage.id
  integration_type       = "AWS_PROXY"
  integration_uri        = var.tenant_management_invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 30000
}

resource "aws_apigatewayv2_route" "admin" {
  for_each           = toset(local.admin_routes)
  api_id             = aws_apigatewayv2_api.usage.id
  route_key          = each.value
  target             = "integrations/${aws_apigatewayv2_integration.tenant_management.id}"
  authorization_type = "JWT"
  authorizer_id      = aws_apigatewayv2_authorizer.admins.id
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

resource "aws_lambda_permission" "api_invokes_tenant_management" {
  statement_id  = "AllowInvokeFromApiGateway"
  action        = "lambda:InvokeFunction"
  function_name = var.tenant_management_function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.usage.execution_arn}/*/*/admin/*"
}
