output "state_bucket_name" {
  description = "The Terraform state bucket; the stacks' backend configuration names it."
  value       = aws_s3_bucket.state.id
}

output "state_kms_key_arn" {
  description = "The key that encrypts the state bucket."
  value       = aws_kms_key.state.arn
}

output "access_log_bucket_name" {
  description = "The bucket that receives the S3 server access logs of every Tally bucket."
  value       = aws_s3_bucket.access_logs.id
}
