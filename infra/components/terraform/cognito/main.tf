# The shared Cognito user pool behind the API Gateway JWT authorizer, and the OAuth client
# credentials of the services that send usage to POST /v1/events. Per-tenant pools (the premium
# tier's siloed auth) belong to the onboarding workflow, which does not exist yet.

locals {
  user_pool_name = coalesce(var.user_pool_name, "${var.namespace}-${var.stage}-tally")
  domain_prefix  = coalesce(var.domain_prefix, "${var.namespace}-${var.stage}-tally")
  # The scope the ingest route requires: {resource server identifier}/{scope name}.
  events_write_scope = "${aws_cognito_resource_server.tally.identifier}/events.write"
}

resource "aws_cognito_user_pool" "shared" {
  name                = local.user_pool_name
  deletion_protection = var.deletion_protection ? "ACTIVE" : "INACTIVE"
  mfa_configuration   = "ON"

  software_token_mfa_configuration {
    enabled = true
  }

  # Operators create users; nobody signs up.
  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length                   = 14
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 3
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }
}

resource "aws_cognito_user_pool_domain" "shared" {
  domain       = local.domain_prefix
  user_pool_id = aws_cognito_user_pool.shared.id
}

resource "aws_cognito_resource_server" "tally" {
  identifier   = "tally"
  name         = "Tally usage API"
  user_pool_id = aws_cognito_user_pool.shared.id

  scope {
    scope_name        = "events.write"
    scope_description = "Send usage events to POST /v1/events"
  }
}

# Machine-to-machine credentials for producing services (OAuth client credentials grant).
resource "aws_cognito_user_pool_client" "usage_producers" {
  name                                 = "usage-producers"
  user_pool_id                         = aws_cognito_user_pool.shared.id
  generate_secret                      = true
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["client_credentials"]
  allowed_oauth_scopes                 = [local.events_write_scope]
  supported_identity_providers         = ["COGNITO"]
  explicit_auth_flows                  = ["ALLOW_REFRESH_TOKEN_AUTH"]
  prevent_user_existence_errors        = "ENABLED"
  enable_token_revocation              = true
  access_token_validity                = var.access_token_validity_minutes

  token_validity_units {
    access_token = "minutes"
  }
}
