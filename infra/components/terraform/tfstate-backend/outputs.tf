output "state_bucket_name" {
  description = "The Terraform state bucket; the stacks' backend configuration names it."
  value       = module.state_bucket.bucket_name
}

output "state_kms_key_arn" {
  description = "The key that encrypts the state bucket."
  value       = aws_kms_key.state.arn
}

output "access_log_bucket_name" {
  description = "The bucket that receives the S3 server access logs of every Tally bucket."
  value       = module.access_log_bucket.bucket_name
}
