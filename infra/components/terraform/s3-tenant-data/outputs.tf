output "bucket_name" {
  description = "The tenant data bucket (TALLY_BUCKET_NAME of the consumer)."
  value       = module.bucket.bucket_name
}

output "bucket_arn" {
  description = "The tenant data bucket's ARN."
  value       = module.bucket.bucket_arn
}

output "kms_key_arn" {
  description = "The bucket's default encryption key: writers need kms:GenerateDataKey, readers kms:Decrypt."
  value       = aws_kms_key.tenant_data.arn
}
