output "function_name" {
  description = "The consumer function's name."
  value       = module.function.function_name
}

output "function_arn" {
  description = "The consumer function's ARN."
  value       = module.function.function_arn
}

output "role_arn" {
  description = "The consumer's execution role."
  value       = module.function.role_arn
}

output "log_group_name" {
  description = "The consumer's log group: batch summaries and per-tenant EMF lines."
  value       = module.function.log_group_name
}

output "on_failure_queue_name" {
  description = "The queue naming the batches the event source mapping gave up on."
  value       = aws_sqs_queue.on_failure.name
}

output "on_failure_queue_url" {
  description = "The on-failure queue's URL."
  value       = aws_sqs_queue.on_failure.url
}

output "event_source_mapping_uuid" {
  description = "The Kinesis event source mapping's id."
  value       = aws_lambda_event_source_mapping.usage_stream.uuid
}
