output "function_name" {
  description = "The onboarding function's name."
  value       = module.function.function_name
}

output "function_arn" {
  description = "The onboarding function's ARN: what every Task state of the workflows invokes."
  value       = module.function.function_arn
}

output "log_group_name" {
  description = "The function's log group: one line per step."
  value       = module.function.log_group_name
}
