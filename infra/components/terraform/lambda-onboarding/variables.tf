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
  default     = "onboarding"
}

variable "package_path" {
  description = "The function's zip, relative to this component's directory (where atmos runs terraform): cargo-lambda's target/lambda/{binary}/bootstrap.zip, written by scripts/package-lambdas."
  type        = string
  default     = "../../../../target/lambda/onboarding/bootstrap.zip"
}

variable "memory_size_mb" {
  description = "Memory of the function: one step of one tenant per invocation."
  type        = number
  default     = 512
}

variable "timeout_secs" {
  description = "Longest one step may take (creating a dedicated database or a user pool takes seconds; drafting a final invoice reads the tenant's rollups)."
  type        = number
  default     = 300
  validation {
    condition     = var.timeout_secs >= 30 && var.timeout_secs <= 900
    error_message = "timeout_secs must be between 30 and 900."
  }
}

variable "reserved_concurrency" {
  description = "Concurrent steps: tenants are onboarded a few at a time, and each holds a database connection."
  type        = number
  default     = 5
}

variable "log_retention_days" {
  description = "Days the step logs are kept."
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
  description = "The tenant data bucket: tenant markers, audit log, platform manifests, final invoices (TALLY_BUCKET_NAME; s3-tenant-data's bucket_name)."
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
  description = "The shared user pool of standard tenants (TALLY_USER_POOL_ID; cognito's user_pool_id)."
  type        = string
}

variable "user_pool_arn" {
  description = "The shared user pool's ARN (cognito's user_pool_arn)."
  type        = string
}

variable "email_from" {
  description = "The sender of the welcome email (TALLY_EMAIL_FROM; ses-email's email_from)."
  type        = string
}

variable "email_identity_arn" {
  description = "The SES identity the sender belongs to (ses-email's identity_arn)."
  type        = string
}

variable "tenant_role_principal" {
  description = "TALLY_TENANT_ROLE_PRINCIPAL: the IAM principal (ARN or account id) tenant storage roles trust; empty for the account root, which leaves the decision to the account's IAM policies."
  type        = string
  default     = ""
}

variable "tenant_permissions_boundary_arn" {
  description = "TALLY_TENANT_PERMISSIONS_BOUNDARY_ARN: the managed policy every tenant role is created with as its permissions boundary, and the only one the function may create roles with (tenant-access-policies' tenant_boundary_policy_arn)."
  type        = string
}

variable "database_url" {
  description = "TALLY_DATABASE_URL: the shared database's URL without credentials (rds-shared's database_url)."
  type        = string
}

variable "database_secret_arn" {
  description = "TALLY_DATABASE_SECRET_ARN: the secret holding the owner's user name and password, kept and rotated by RDS (rds-shared's master_user_secret_arn)."
  type        = string
}

variable "app_password_secret_arn" {
  description = "TALLY_APP_DATABASE_PASSWORD_SECRET_ARN: the secret holding the application login's password (rds-shared's app_password_secret_arn)."
  type        = string
}

variable "database_kms_key_arn" {
  description = "The key of both database secrets (rds-shared's kms_key_arn)."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the function's network interfaces, in the database's VPC (rds-shared's subnet_ids)."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the function: the database's clients group (rds-shared's client_security_group_id)."
  type        = list(string)
}

variable "stream_name" {
  description = "TALLY_STREAM_NAME: the source name of the gauge commits the final invoice makes (usage-stream's stream_name)."
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

variable "rollups_table_name" {
  description = "The rollups table the final invoice is drafted from (TALLY_ROLLUPS_TABLE; metering-tables' rollups_table_name)."
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
  description = "The invoices table the final invoice is written to (TALLY_INVOICES_TABLE; metering-tables' invoices_table_name)."
  type        = string
}

variable "invoices_table_arn" {
  description = "The invoices table's ARN (metering-tables' invoices_table_arn)."
  type        = string
}

variable "tables_kms_key_arn" {
  description = "The metering tables' key (metering-tables' kms_key_arn)."
  type        = string
}

variable "meters_file" {
  description = "TALLY_METERS_FILE: path of the operator's meters inside the package (scripts/package-lambdas --meters puts it at /var/task/meters.toml); empty for the default catalog. Must be the consumer's file."
  type        = string
  default     = ""
}

variable "plans_file" {
  description = "TALLY_PLANS_FILE: path of the price plans inside the package (scripts/package-lambdas --plans puts it at /var/task/plans.toml); empty for the default plans. Must be the invoice generator's file."
  type        = string
  default     = ""
}
