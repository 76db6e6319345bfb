# The invoice-generator Lambda (functions/invoice-generator), invoked by the schedules of the
# eventbridge-schedules component: daily drafts and monthly final invoices from the DynamoDB
# rollups, written to the invoices table and the tenant data bucket. Before pricing, a run brings
# every tenant's gauges up to its processing time, which commits to the tenant's ledger like the
# consumer does; so it needs the consumer's ledger permissions too.

locals {
  # Every variable functions/invoice-generator/src/main.rs reads, with AwsSettings::from_env
  # (aws/src/settings.rs). tests/infra/test_drift.py holds these names against runtime/src/env.rs.
  environment_required = {
    TALLY_STREAM_NAME         = var.stream_name
    TALLY_BUCKET_NAME         = var.tenant_data_bucket_name
    TALLY_ROLLUPS_TABLE       = var.rollups_table_name
    TALLY_STATE_TABLE         = var.state_table_name
    TALLY_INVOICES_TABLE      = var.invoices_table_name
    TALLY_MAX_EVENT_AGE_DAYS  = tostring(var.max_event_age_days)
    TALLY_INVOICE_GRACE_HOURS = tostring(var.invoice_grace_hours)
    TALLY_TENANTS_TABLE       = var.tenants_table_name
  }
  # Read when set; left out when empty, which the code treats as unset.
  environment_optional = {
    TALLY_METERS_FILE = var.meters_file
    TALLY_PLANS_FILE  = var.plans_file
  }
  environment = merge(
    local.environment_required,
    { for name, value in local.environment_optional : name => value if value != "" },
  )
}

# The schedules invoke the function asynchronously; a run that still fails after the retries of
# aws_lambda_function_event_invoke_config.runs lands here with its request.
resource "aws_sqs_queue" "dead_letter" {
  name                              = "${var.function_name}-dead-letter"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = module.function.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
}

# Loading a ledger finishes its pending commit (promoting the consumer's staged objects), and
# bringing gauges up to date commits a record: the ledger statements every committing function
# shares. A run without a tenant lists the ledger heads (Scan) and reads the month's rollups of
# every tenant (Scan); with a tenant it queries.
module "metering_policy" {
  source = "../../../modules/metering-policy"

  tenant_data_bucket_arn  = var.tenant_data_bucket_arn
  tenant_data_kms_key_arn = var.tenant_data_kms_key_arn
  published_prefixes = [
    "tenants/*/usage/events/*",
    "tenants/*/invoices/*",
    "tenants/*/quota-events/*",
    "quarantine/*",
  ]
  state_table_arn       = var.state_table_arn
  state_table_actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:Scan"]
  rollups_table_arn     = var.rollups_table_arn
  rollups_table_actions = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:Scan"]
  invoices_table_arn    = var.invoices_table_arn
  tenants_table_arn     = var.tenants_table_arn
  tenants_kms_key_arn   = var.tenants_kms_key_arn
  table_kms_key_arns    = [var.tables_kms_key_arn]
}

data "aws_iam_policy_document" "function" {
  source_policy_documents = [module.metering_policy.json]

  statement {
    sid       = "KeepFailedRuns"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter.arn]
  }
}

# The module adds the function key and the log group to the statements above.
module "function" {
  source = "../../../modules/lambda-function"

  namespace              = var.namespace
  stage                  = var.stage
  function_name          = var.function_name
  description            = "Scheduled invoice runs: daily drafts, monthly finals, from the DynamoDB rollups"
  kms_key_purpose        = "environment, logs, dead-letter queue"
  package_path           = var.package_path
  handler                = "bootstrap"
  runtime                = "provided.al2023"
  architectures          = ["arm64"]
  memory_size_mb         = var.memory_size_mb
  timeout_secs           = var.timeout_secs
  reserved_concurrency   = var.reserved_concurrency
  log_retention_days     = var.log_retention_days
  environment            = local.environment
  policy_json            = data.aws_iam_policy_document.function.json
  dead_letter_target_arn = aws_sqs_queue.dead_letter.arn
}

# Runs are safe to repeat (invoices are deterministic and stored under conditions), so a failed
# asynchronous run is retried; one older than an hour is left to the dead-letter queue and the
# next scheduled run.
resource "aws_lambda_function_event_invoke_config" "runs" {
  function_name                = module.function.function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 3600
}
