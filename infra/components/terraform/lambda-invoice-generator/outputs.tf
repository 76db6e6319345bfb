output "function_name" {
  description = "The invoice-generator function's name."
  value       = module.function.function_name
}

output "function_arn" {
  description = "The invoice-generator function's ARN (the schedules' target)."
  value       = module.function.function_arn
}

output "log_group_name" {
  description = "The function's log group: one summary line per run."
  value       = module.function.log_group_name
}

output "dead_letter_queue_name" {
  description = "The queue keeping runs that failed after their retries."
  value       = aws_sqs_queue.dead_letter.name
}

output "invoice_grace_hours" {
  description = "Hours after a period ends before its invoices may be finalized (the finalize schedule runs after them)."
  value       = var.invoice_grace_hours
}
