output "rollups_table_name" {
  description = "The rollups table (TALLY_ROLLUPS_TABLE)."
  value       = aws_dynamodb_table.rollups.name
}

output "rollups_table_arn" {
  description = "The rollups table's ARN."
  value       = aws_dynamodb_table.rollups.arn
}

output "state_table_name" {
  description = "The consumer's ledger table (TALLY_STATE_TABLE)."
  value       = aws_dynamodb_table.state.name
}

output "state_table_arn" {
  description = "The consumer's ledger table's ARN."
  value       = aws_dynamodb_table.state.arn
}

output "invoices_table_name" {
  description = "The invoices table (TALLY_INVOICES_TABLE)."
  value       = aws_dynamodb_table.invoices.name
}

output "invoices_table_arn" {
  description = "The invoices table's ARN."
  value       = aws_dynamodb_table.invoices.arn
}

output "kms_key_arn" {
  description = "The key every table is encrypted with."
  value       = aws_kms_key.tables.arn
}
