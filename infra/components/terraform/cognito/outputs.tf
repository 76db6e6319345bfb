output "user_pool_id" {
  description = "The shared user pool's id."
  value       = aws_cognito_user_pool.shared.id
}

output "user_pool_arn" {
  description = "The shared user pool's ARN."
  value       = aws_cognito_user_pool.shared.arn
}

output "issuer_url" {
  description = "The JWT issuer the API Gateway authorizer trusts."
  value       = "https://${aws_cognito_user_pool.shared.endpoint}"
}

output "producer_client_id" {
  description = "The usage producers' OAuth client id (its secret: aws cognito-idp describe-user-pool-client)."
  value       = aws_cognito_user_pool_client.usage_producers.id
}

output "token_endpoint" {
  description = "Where producers exchange their client credentials for an access token."
  value       = "https://${aws_cognito_user_pool_domain.shared.domain}.auth.${var.region}.amazoncognito.com/oauth2/token"
}

output "events_write_scope" {
  description = "The OAuth scope POST /v1/events requires."
  value       = local.events_write_scope
}

output "admin_client_id" {
  description = "The admin app client: the audience of admin API tokens (TALLY_APP_CLIENT_ID of tenant-management)."
  value       = aws_cognito_user_pool_client.admin.id
}

output "admin_group_name" {
  description = "The group whose members may use the admin API."
  value       = aws_cognito_user_group.admins.name
}
