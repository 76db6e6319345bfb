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


variable "database_name" {
  description = "The Glue database finance queries."
  type        = string
  default     = "tally"
}

variable "workgroup_name" {
  description = "The Athena workgroup finance queries in."
  type        = string
  default     = "tally-finance"
}

variable "tenant_data_bucket_name" {
  description = "The tenant data bucket (s3-tenant-data's bucket_name)."
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

variable "access_log_bucket_name" {
  description = "The bucket receiving S3 server access logs (tfstate-backend's access_log_bucket_name)."
  type        = string
}

variable "results_bucket_name" {
  description = "The Athena query results bucket; null means {namespace}-{stage}-athena-results."
  type        = string
  default     = null
}

variable "results_expiration_days" {
  description = "Days query results are kept."
  type        = number
  default     = 30
}

variable "bytes_scanned_cutoff_per_query" {
  description = "Most bytes one query may scan before Athena cancels it (10 GiB by default)."
  type        = number
  default     = 10737418240
  validation {
    condition     = var.bytes_scanned_cutoff_per_query >= 10485760
    error_message = "bytes_scanned_cutoff_per_query must be at least 10 MiB (Athena's minimum)."
  }
}

variable "first_event_day" {
  description = "The earliest dt (YYYY-MM-DD) the events table projects; queries before it find nothing."
  type        = string
  default     = "2024-01-01"
}

variable "first_invoice_month" {
  description = "The earliest invoice month (YYYY-MM) the invoice lines table projects."
  type        = string
  default     = "2024-01"
}
