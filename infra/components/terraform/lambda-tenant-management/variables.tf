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
  default     = "tenant-management"
}

variable "package_path" {
  description = "The function's zip, relative to this component's directory (where atmos runs terraform): cargo-lambda's target/lambda/{binary}/bootstrap.zip, written by scripts/package-lambdas."
  type        = string
  default     = "../../../../target/lambda/tenant-management/bootstrap.zip"
}

variable "memory_size_mb" {
  description = "Memory of the function: one admin request at a time per instance."
  type        = number
  default     = 512
}

variable "timeout_secs" {
  description = "Longest a request may take; API Gateway gives up after 30 seconds."
  type        = number
  default     = 29
  validation {
    condition     = var.timeout_secs >= 3 && var.timeout_secs <= 30
    error_message = "timeout_secs must be between 3 and 30 (the HTTP API's integration limit)."
  }
}

variable "reserved_concurrency" {
  description = "Concurrent admin requests: a few operators, so a handful; it also bounds what a leaked token can do per second."
  type        = number
  default     = 5
}

variable "log_retention_days" {
  description = "Days the request logs are kept."
  type        = number
  default     = 365
}

variable "tenants_table_name" {
  description = "The tenants table (TALLY_TENANTS_TABLE; tenant-management-db's tenants_table_name)."
  type        = string
}

variable "tenants_table_arn" {
  description = "The tenants table's ARN (tenant-management-db's tenants_table_arn)."
  type        = string
}

variable "tenants_kms_key_arn" {
  description = "The tenants table's key (tenant-management-db's kms_key_arn)."
  type        = string
}

variable "tenant_data_bucket_name" {
  description = "The tenant data bucket, holding the audit log under tenants/{id}/audit/ (TALLY_BUCKET_NAME; s3-tenant-data's bucket_name)."
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

variable "user_pool_id" {
  description = "The shared user pool whose tokens the API accepts (TALLY_USER_POOL_ID; cognito's user_pool_id)."
  type        = string
}

variable "admin_client_id" {
  description = "The admin app client: the audience of the tokens the API accepts (TALLY_APP_CLIENT_ID; cognito's admin_client_id)."
  type        = string
}

variable "onboarding_state_machine_arn" {
  description = "The onboarding workflow the API starts (TALLY_ONBOARDING_STATE_MACHINE_ARN; step-functions-onboarding's onboarding_state_machine_arn)."
  type        = string
}

variable "offboarding_state_machine_arn" {
  description = "The offboarding workflow the API starts (TALLY_OFFBOARDING_STATE_MACHINE_ARN; step-functions-onboarding's offboarding_state_machine_arn)."
  type        = string
}

variable "meters_file" {
  description = "TALLY_METERS_FILE: path of the operator's meters inside the package (scripts/package-lambdas --meters puts it at /var/task/meters.toml); empty for the default catalog. Must be the consumer's file: tenant requests are checked against it."
  type        = string
  default     = ""
}
