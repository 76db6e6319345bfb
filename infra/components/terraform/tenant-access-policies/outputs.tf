output "tenant_usage_read_policy_arn" {
  description = "The ABAC policy tenant-scoped roles attach."
  value       = aws_iam_policy.tenant_usage_read.arn
}
