output "tenants_table_name" {
  description = "The tenants table (TALLY_TENANTS_TABLE)."
  value       = aws_dynamodb_table.tenants.name
}

output "tenants_table_arn" {
  description = "The tenants table's ARN."
  value       = aws_dynamodb_table.tenants.arn
}

output "kms_key_arn" {
  description = "The key the tenants table is encrypted with."
  value       = aws_kms_key.tenants.arn
}
