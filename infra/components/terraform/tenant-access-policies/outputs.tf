output "tenant_usage_read_policy_arn" {
  description = "The ABAC policy tenant-scoped roles attach."
  value       = aws_iam_policy.tenant_usage_read.arn
}

output "tenant_boundary_policy_arn" {
  description = "The permissions boundary every tenant role gets (TALLY_TENANT_PERMISSIONS_BOUNDARY_ARN of the onboarding function)."
  value       = aws_iam_policy.tenant_boundary.arn
}
