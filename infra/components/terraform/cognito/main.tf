# The shared Cognito user pool behind the API Gateway JWT authorizers: the OAuth client
# credentials of the services that send usage to POST /v1/events, and the operators of the admin
# API /admin/tenants (the admin app client and the tally-admins group). Standard tenants' app
# clients and groups are added to this pool by the onboarding workflow; premium tenants' own
# pools are created by it too, not here.

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

# The operators of the admin API sign in with this client and present its tokens: API Gateway's
# admin authorizer and tenant-management both require its id as the audience (aud of ID tokens,
# client_id of access tokens). No secret, so the AWS CLI can sign in without computing a
# SECRET_HASH. Only the admin flow (AdminInitiateAuth, which needs AWS credentials allowed
# cognito-idp:AdminInitiateAuth on the pool) and SRP take a password: never sent in the clear to
# an unauthenticated endpoint.
resource "aws_cognito_user_pool_client" "admin" {
  name                          = "tally-admin"
  user_pool_id                  = aws_cognito_user_pool.shared.id
  generate_secret               = false
  explicit_auth_flows           = ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  supported_identity_providers  = ["COGNITO"]
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true
  access_token_validity         = var.admin_token_validity_minutes
  id_token_validity             = var.admin_token_validity_minutes
  refresh_token_validity        = var.admin_refresh_token_validity_hours

  token_validity_units {
    access_token  = "minutes"
    id_token      = "minutes"
    refresh_token = "hours"
  }
}

# The group whose members may use the admin API (auth/src/lib.rs ADMIN_GROUP: the verifier of
# tenant-management requires it in the token's cognito:groups).
resource "aws_cognito_user_group" "admins" {
  name         = "tally-admins"
  user_pool_id = aws_cognito_user_pool.shared.id
  description  = "Operators of the Tally admin API (/admin/tenants)"
}
