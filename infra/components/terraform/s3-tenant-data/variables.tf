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


variable "bucket_name" {
  description = "The tenant data bucket (TALLY_BUCKET_NAME). Bucket names are global, so the code's default tenant-data cannot be used in AWS; null means {namespace}-{stage}-tenant-data."
  type        = string
  default     = null
}

variable "access_log_bucket_name" {
  description = "The bucket receiving S3 server access logs (the tfstate-backend component's access_log_bucket_name)."
  type        = string
}

variable "ledger_noncurrent_version_expiration_days" {
  description = "Days a superseded ledger snapshot or deleted commit record (under _ledger/) is kept as a noncurrent version."
  type        = number
  default     = 1
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted object version is kept. Only noncurrent versions expire: no current object is ever expired by a rule."
  type        = number
  default     = 90
  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}
