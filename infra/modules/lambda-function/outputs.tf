output "function_name" {
  description = "The function's name."
  value       = aws_lambda_function.function.function_name
}

output "function_arn" {
  description = "The function's ARN."
  value       = aws_lambda_function.function.arn
}

output "invoke_arn" {
  description = "The ARN API Gateway integrations invoke."
  value       = aws_lambda_function.function.invoke_arn
}

output "role_arn" {
  description = "The function's execution role."
  value       = aws_iam_role.function.arn
}

output "role_policy_name" {
  description = "The execution role's inline policy, for callers whose resources must wait for it."
  value       = aws_iam_role_policy.function.name
}

output "log_group_name" {
  description = "The function's log group."
  value       = aws_cloudwatch_log_group.function.name
}

output "kms_key_arn" {
  description = "The function key, for queues of the function encrypted with it."
  value       = aws_kms_key.function.arn
}
