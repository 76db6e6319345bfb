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
  default     = "usage-consumer"
}

variable "package_path" {
  description = "The function's zip, relative to this component's directory (where atmos runs terraform): cargo-lambda's target/lambda/{binary}/bootstrap.zip, written by scripts/package-lambdas."
  type        = string
  default     = "../../../../target/lambda/usage-consumer/bootstrap.zip"
}

variable "memory_size_mb" {
  description = "Memory of the function. Each cached tenant ledger holds its remembered identities (about 20 bytes each for 35 days), so size it for the largest tenants (docs/exactly-once.md)."
  type        = number
  default     = 1024
}

variable "timeout_secs" {
  description = "Longest a batch may run; a batch of 10,000 events writes a few S3 objects and DynamoDB items per tenant."
  type        = number
  default     = 300
  validation {
    condition     = var.timeout_secs >= 30 && var.timeout_secs <= 900
    error_message = "timeout_secs must be between 30 and 900."
  }
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for the consumer: one per shard (parallelization factor 1), so at least the stream's shard count, or batches are throttled and the iterator age grows."
  type        = number
  default     = 50
}

variable "log_retention_days" {
  description = "Days the function's logs (batch summaries, per-tenant EMF lines) are kept."
  type        = number
  default     = 365
}

variable "stream_name" {
  description = "The usage stream (TALLY_STREAM_NAME; usage-stream's stream_name)."
  type        = string
}

variable "stream_arn" {
  description = "The usage stream's ARN (usage-stream's stream_arn)."
  type        = string
}

variable "stream_kms_key_arn" {
  description = "The usage stream's key (usage-stream's kms_key_arn)."
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

variable "tables_kms_key_arn" {
  description = "The tables' key (metering-tables' kms_key_arn)."
  type        = string
}

variable "max_event_age_days" {
  description = "The acceptance window (TALLY_MAX_EVENT_AGE_DAYS)."
  type        = number
  default     = 35
  validation {
    condition     = var.max_event_age_days >= 1 && var.max_event_age_days <= 400
    error_message = "max_event_age_days must be between 1 and 400."
  }
}

variable "meters_file" {
  description = "TALLY_METERS_FILE: path of the operator's meters inside the package (scripts/package-lambdas --meters puts it at /var/task/meters.toml); empty for the default catalog. usage-ingest must get the same file."
  type        = string
  default     = ""
}

variable "batch_size" {
  description = "Most records per batch (the event source mapping's BatchSize)."
  type        = number
  default     = 10000
  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10000
    error_message = "batch_size must be between 1 and 10000."
  }
}

variable "batching_window_secs" {
  description = "How long the mapping gathers records before invoking: larger batches make fewer, larger tenant commits (docs/exactly-once.md, cost per million events)."
  type        = number
  default     = 5
  validation {
    condition     = var.batching_window_secs >= 0 && var.batching_window_secs <= 300
    error_message = "batching_window_secs must be between 0 and 300."
  }
}

variable "maximum_retry_attempts" {
  description = "Retries of a failing batch before its records are named in the on-failure queue."
  type        = number
  default     = 100
  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 10000
    error_message = "maximum_retry_attempts must be between 0 and 10000."
  }
}

variable "maximum_record_age_secs" {
  description = "Age after which the mapping stops retrying a record and names it in the on-failure queue. Keep it well under the stream's retention, so the named records can still be read and replayed."
  type        = number
  default     = 86400
  validation {
    condition     = var.maximum_record_age_secs >= 60 && var.maximum_record_age_secs <= 604800
    error_message = "maximum_record_age_secs must be between 60 and 604800."
  }
}

variable "tenants_table_name" {
  description = "The tenants table (tenant-management-db's tenants_table_name): the registry metering reads."
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
