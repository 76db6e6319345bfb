output "instance_identifier" {
  description = "The DB instance's identifier (the RDS metrics' DBInstanceIdentifier)."
  value       = aws_db_instance.shared.identifier
}

output "instance_resource_id" {
  description = "The instance's resource id, the {DbiResourceId} of rds-db:connect ARNs for IAM database authentication."
  value       = aws_db_instance.shared.resource_id
}

output "endpoint_address" {
  description = "The instance's host name."
  value       = aws_db_instance.shared.address
}

output "port" {
  description = "The instance's port."
  value       = aws_db_instance.shared.port
}

output "database_name" {
  description = "The shared database of the standard tier."
  value       = aws_db_instance.shared.db_name
}

output "database_url" {
  description = "The shared database's URL without credentials (the user and password are in master_user_secret_arn's secret), TLS required."
  value       = "postgres://${aws_db_instance.shared.address}:${aws_db_instance.shared.port}/${aws_db_instance.shared.db_name}?sslmode=require"
}

output "master_user_secret_arn" {
  description = "The Secrets Manager secret RDS keeps the owner's credentials in: JSON {\"username\", \"password\"}, rotated by RDS."
  value       = aws_db_instance.shared.master_user_secret[0].secret_arn
}

output "app_password_secret_arn" {
  description = "The Secrets Manager secret holding the application login's password (plain text)."
  value       = aws_secretsmanager_secret.app_password.arn
}

output "kms_key_arn" {
  description = "The key of the instance and of both secrets: readers of the secrets need kms:Decrypt through Secrets Manager."
  value       = aws_kms_key.database.arn
}

output "client_security_group_id" {
  description = "The security group a function must carry to reach the database."
  value       = module.security_groups.client_security_group_id
}

output "subnet_ids" {
  description = "The private subnets of the database, where its clients' network interfaces go too."
  value       = var.subnet_ids
}
