output "json" {
  description = "The statements as one IAM policy document."
  value       = data.aws_iam_policy_document.metering.json
}
