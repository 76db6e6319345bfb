output "function_name" {
  description = "The ingest function's name."
  value       = module.function.function_name
}

output "function_arn" {
  description = "The ingest function's ARN."
  value       = module.function.function_arn
}

output "invoke_arn" {
  description = "The ARN API Gateway integrations invoke."
  value       = module.function.invoke_arn
}

output "log_group_name" {
  description = "The ingest function's log group: one JSON line per request."
  value       = module.function.log_group_name
}
