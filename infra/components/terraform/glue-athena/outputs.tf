output "database_name" {
  description = "The Glue database of the events and invoice lines tables."
  value       = aws_glue_catalog_database.tally.name
}

output "workgroup_name" {
  description = "The Athena workgroup finance queries in."
  value       = aws_athena_workgroup.finance.name
}

output "results_bucket_name" {
  description = "Where the workgroup writes query results."
  value       = module.results_bucket.bucket_name
}

output "named_query_ids" {
  description = "The finance queries, by name."
  value = {
    (aws_athena_named_query.monthly_usage_per_tenant_and_meter.name) = aws_athena_named_query.monthly_usage_per_tenant_and_meter.id
    (aws_athena_named_query.top_tenants.name)                        = aws_athena_named_query.top_tenants.id
    (aws_athena_named_query.usage_against_invoices.name)             = aws_athena_named_query.usage_against_invoices.id
  }
}

output "finance_query_policy_arn" {
  description = "The managed policy to attach to finance principals."
  value       = aws_iam_policy.finance_query.arn
}
