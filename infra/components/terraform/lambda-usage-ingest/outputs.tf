output "function_name" {
  description = "The ingest function's name."
  value       = aws_lambda_function.ingest.function_name
}

output "function_arn" {
  description = "The ingest function's ARN."
  value       = aws_lambda_function.ingest.arn
}

output "invoke_arn" {
  description = "The ARN API Gateway integrations invoke."
  value       = aws_lambda_function.ingest.invoke_arn
}

output "log_group_name" {
  description = "The ingest function's log group: one JSON line per request."
  value       = aws_cloudwatch_log_group.function.name
}
