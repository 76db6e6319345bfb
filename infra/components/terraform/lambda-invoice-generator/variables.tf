variable "region" {
  description = "AWS region of every resource of the stack."
  type        = string
}

variable "namespace" {
  description = "Organisation prefix of globally unique names (S3 buckets), e.g. acme."
  type        = string
}

variable "stage" {
  description = "Stage of the stack (dev, prod); one stage per AWS account."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource by the provider."
  type        = map(string)
  default     = {}
}


variable "function_name" {
  description = "The Lambda function's name."
  type        = string
  default     = "invoice-generator"
}

variable "package_path" {
  description = "The function's zip, relative to this component's directory (where atmos runs terraform): cargo-lambda's target/lambda/{binary}/bootstrap.zip, written by scripts/package-lambdas."
  type        = string
  default     = "../../../../target/lambda/invoice-generator/bootstrap.zip"
}

variable "memory_size_mb" {
  description = "Memory of the function: a run loads every tenant's ledger to bring its gauges up to date."
  type        = number
  default     = 1024
}

variable "timeout_secs" {
  description = "Longest a run may take; a run prices every tenant of the period."
  type        = number
  default     = 900
  validation {
    condition     = var.timeout_secs >= 60 && var.timeout_secs <= 900
    error_message = "timeout_secs must be between 60 and 900."
  }
}

variable "reserved_concurrency" {
  description = "Concurrent runs: one, so a daily draft run and a finalization never overlap (the invoice table's conditions would refuse the second writer anyway)."
  type        = number
  default     = 1
}

variable "log_retention_days" {
  description = "Days the run summaries are kept."
  type        = number
  default     = 365
}

variable "stream_name" {
  description = "TALLY_STREAM_NAME: the source name of the gauge commits a run makes (usage-stream's stream_name)."
  type        = string
}

variable "tenant_data_bucket_name" {
  description = "The tenant data bucket (TALLY_BUCKET_NAME; s3-tenant-data's bucket_name)."
  type        = string
}

variable "tenant_data_bucket_arn" {
  description = "The tenant data bucket's ARN (s3-tenant-data's bucket_arn)."
  type        = string
}

variable "tenant_data_kms_key_arn" {
  description = "The tenant data bucket's key (s3-tenant-data's kms_key_arn)."
  type        = string
}

variable "rollups_table_name" {
  description = "The rollups table (TALLY_ROLLUPS_TABLE; metering-tables' rollups_table_name)."
  type        = string
}

variable "rollups_table_arn" {
  description = "The rollups table's ARN (metering-tables' rollups_table_arn)."
  type        = string
}

variable "state_table_name" {
  description = "The ledger table (TALLY_STATE_TABLE; metering-tables' state_table_name)."
  type        = string
}

variable "state_table_arn" {
  description = "The ledger table's ARN (metering-tables' state_table_arn)."
  type        = string
}

variable "invoices_table_name" {
  description = "The invoices table (TALLY_INVOICES_TABLE; metering-tables' invoices_table_name)."
  type        = string
}

variable "invoices_table_arn" {
  description = "The invoices table's ARN (metering-tables' invoices_table_arn)."
  type        = string
}

variable "tenants_table_name" {
  description = "The tenants table (tenant-management-db's tenants_table_name), for the quota check."
  type        = string
}

variable "tenants_table_arn" {
  description = "The tenants table's ARN (tenant-management-db's tenants_table_arn)."
  type        = string
}

variable "tenants_kms_key_arn" {
  description = "The tenants table's KMS key (tenant-management-db's kms_key_arn)."
  type        = string
}

variable "tables_kms_key_arn" {
  description = "The tables' key (metering-tables' kms_key_arn)."
  type        = string
}

variable "max_event_age_days" {
  description = "The acceptance window (TALLY_MAX_EVENT_AGE_DAYS); the same as the consumer's."
  type        = number
  default     = 35
  validation {
    condition     = var.max_event_age_days >= 1 && var.max_event_age_days <= 400
    error_message = "max_event_age_days must be between 1 and 400."
  }
}

variable "invoice_grace_hours" {
  description = "TALLY_INVOICE_GRACE_HOURS: hours after a period ends before its invoices may be finalized. The finalize schedule (eventbridge-schedules) must run after it."
  type        = number
  default     = 24
  validation {
    condition     = var.invoice_grace_hours >= 0 && var.invoice_grace_hours <= 720
    error_message = "invoice_grace_hours must be between 0 and 720."
  }
}

variable "meters_file" {
  description = "TALLY_METERS_FILE: path of the operator's meters inside the package (scripts/package-lambdas --meters puts it at /var/task/meters.toml); empty for the default catalog. Must be the consumer's file."
  type        = string
  default     = ""
}

variable "plans_file" {
  description = "TALLY_PLANS_FILE: path of the price plans inside the package (scripts/package-lambdas --plans puts it at /var/task/plans.toml); empty for the default plans."
  type        = string
  default     = ""
}
