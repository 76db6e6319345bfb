output "primary_endpoint_address" {
  description = "The primary's address (writes; TLS on the port)."
  value       = aws_elasticache_replication_group.cache.primary_endpoint_address
}

output "reader_endpoint_address" {
  description = "The replicas' address (reads)."
  value       = aws_elasticache_replication_group.cache.reader_endpoint_address
}

output "port" {
  description = "The port of both endpoints."
  value       = aws_elasticache_replication_group.cache.port
}

output "replication_group_id" {
  description = "The replication group (the name an IAM authentication token is signed for)."
  value       = aws_elasticache_replication_group.cache.id
}

output "app_user_name" {
  description = "The user applications sign in as, with an IAM authentication token."
  value       = aws_elasticache_user.app.user_name
}

output "connect_policy_arn" {
  description = "The managed policy a tenant application's role attaches to connect (elasticache:Connect)."
  value       = aws_iam_policy.connect.arn
}

output "client_security_group_id" {
  description = "The security group a client must carry to reach the cache (the EKS nodes')."
  value       = module.security_groups.client_security_group_id
}

output "kms_key_arn" {
  description = "The key of the data at rest, the snapshots and the logs."
  value       = module.key.key_arn
}
