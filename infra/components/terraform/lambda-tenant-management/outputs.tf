output "function_name" {
  description = "The tenant-management function's name."
  value       = module.function.function_name
}

output "function_arn" {
  description = "The tenant-management function's ARN."
  value       = module.function.function_arn
}

output "invoke_arn" {
  description = "The ARN the API Gateway integration invokes."
  value       = module.function.invoke_arn
}

output "log_group_name" {
  description = "The function's log group: one line per admin request."
  value       = module.function.log_group_name
}
