output "alarm_topic_arn" {
  description = "The SNS topic every alarm notifies; subscribe pagers or chat here."
  value       = aws_sns_topic.alarms.arn
}

output "dashboard_name" {
  description = "The CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.tally.dashboard_name
}
