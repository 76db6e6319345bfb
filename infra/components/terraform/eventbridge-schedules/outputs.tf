output "schedule_names" {
  description = "The invoice schedules, by action."
  value       = { for action, schedule in aws_scheduler_schedule.invoices : action => schedule.name }
}

output "undelivered_queue_name" {
  description = "The queue keeping invocations the scheduler could not deliver."
  value       = aws_sqs_queue.undelivered.name
}
