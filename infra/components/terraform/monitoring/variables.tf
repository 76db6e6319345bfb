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


variable "consumer_function_name" {
  description = "The usage-consumer function (lambda-usage-consumer's function_name)."
  type        = string
}

variable "consumer_log_group_name" {
  description = "The consumer's log group, holding the per-tenant EMF lines (lambda-usage-consumer's log_group_name)."
  type        = string
}

variable "on_failure_queue_name" {
  description = "The consumer's on-failure queue (lambda-usage-consumer's on_failure_queue_name)."
  type        = string
}

variable "ingest_function_name" {
  description = "The usage-ingest function (lambda-usage-ingest's function_name)."
  type        = string
}

variable "ingest_log_group_name" {
  description = "The ingest function's log group (lambda-usage-ingest's log_group_name)."
  type        = string
}

variable "invoice_generator_function_name" {
  description = "The invoice-generator function (lambda-invoice-generator's function_name)."
  type        = string
}

variable "invoice_dead_letter_queue_name" {
  description = "The invoice runs that failed after their retries (lambda-invoice-generator's dead_letter_queue_name)."
  type        = string
}

variable "schedules_undelivered_queue_name" {
  description = "Schedule invocations that were never delivered (eventbridge-schedules' undelivered_queue_name)."
  type        = string
}

variable "tenant_management_function_name" {
  description = "The tenant-management function (lambda-tenant-management's function_name)."
  type        = string
}

variable "onboarding_function_name" {
  description = "The onboarding function (lambda-onboarding's function_name)."
  type        = string
}

variable "onboarding_state_machine_arn" {
  description = "The onboarding workflow (step-functions-onboarding's onboarding_state_machine_arn)."
  type        = string
}

variable "offboarding_state_machine_arn" {
  description = "The offboarding workflow (step-functions-onboarding's offboarding_state_machine_arn)."
  type        = string
}

variable "stream_name" {
  description = "The usage stream (usage-stream's stream_name); also the `stream` dimension of the consumer's EMF metrics."
  type        = string
}

variable "rollups_table_name" {
  description = "The rollups table (metering-tables' rollups_table_name)."
  type        = string
}

variable "state_table_name" {
  description = "The ledger table (metering-tables' state_table_name)."
  type        = string
}

variable "tenants_table_name" {
  description = "The tenants table (tenant-management-db's tenants_table_name)."
  type        = string
}

variable "database_instance_identifier" {
  description = "The shared PostgreSQL (rds-shared's instance_identifier)."
  type        = string
}

variable "database_free_storage_threshold_gb" {
  description = "Alarm when the shared PostgreSQL has less free storage than this."
  type        = number
  default     = 5
}

variable "api_id" {
  description = "The HTTP API (apigateway's api_id)."
  type        = string
}

variable "api_stage_name" {
  description = "The HTTP API's stage (apigateway's stage_name)."
  type        = string
  default     = "$default"
}

variable "iterator_age_threshold_ms" {
  description = "Alarm when the consumer's oldest unprocessed record is older than this for five minutes."
  type        = number
  default     = 300000
}

variable "alarm_email_addresses" {
  description = "Addresses subscribed to the alarm topic (each confirms by email)."
  type        = list(string)
  default     = []
}

variable "dashboard_name" {
  description = "The CloudWatch dashboard's name."
  type        = string
  default     = "tally"
}
