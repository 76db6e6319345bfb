output "onboarding_state_machine_arn" {
  description = "The onboarding workflow (TALLY_ONBOARDING_STATE_MACHINE_ARN of tenant-management)."
  value       = aws_sfn_state_machine.onboarding.arn
}

output "offboarding_state_machine_arn" {
  description = "The offboarding workflow (TALLY_OFFBOARDING_STATE_MACHINE_ARN of tenant-management)."
  value       = aws_sfn_state_machine.offboarding.arn
}

output "onboarding_state_machine_name" {
  description = "The onboarding workflow's name."
  value       = aws_sfn_state_machine.onboarding.name
}

output "offboarding_state_machine_name" {
  description = "The offboarding workflow's name."
  value       = aws_sfn_state_machine.offboarding.name
}

output "log_group_name" {
  description = "The executions' log group (history events, without input and output)."
  value       = aws_cloudwatch_log_group.executions.name
}
