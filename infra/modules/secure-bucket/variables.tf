variable "bucket_name" {
  description = "The bucket's globally unique name."
  type        = string
}

variable "kms_key_arn" {
  description = "The customer managed key of the bucket's default encryption (SSE-KMS); null for SSE-S3, which only the access log bucket uses (S3 server access logging cannot write to SSE-KMS buckets)."
  type        = string
}

variable "access_log_bucket_name" {
  description = "The bucket receiving this bucket's S3 server access logs, under {bucket_name}/; null only for the access log bucket itself."
  type        = string
}

variable "lifecycle_rule_id" {
  description = "The id of the bucket's one lifecycle rule."
  type        = string
  default     = "noncurrent-versions"
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted object version is kept."
  type        = number
  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "noncurrent_version_expiration_days_by_prefix" {
  description = "Prefixes (ending in /) whose noncurrent versions expire after fewer days than noncurrent_version_expiration_days."
  type        = map(number)
  default     = {}
  validation {
    condition     = alltrue([for prefix, days in var.noncurrent_version_expiration_days_by_prefix : endswith(prefix, "/") && days >= 1])
    error_message = "Each prefix must end in / and keep noncurrent versions at least 1 day."
  }
}

variable "expiration_days" {
  description = "Days after which current objects expire; null for a bucket whose objects are kept until deleted."
  type        = number
  default     = null
}

variable "expire_orphaned_delete_markers" {
  description = "With expiration_days null: remove delete markers that no longer hide any version."
  type        = bool
  default     = false
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which an unfinished multipart upload is aborted and its parts deleted."
  type        = number
  default     = 7
}

variable "policy_statements" {
  description = "Statements of the bucket policy besides DenyInsecureTransport, which the module always adds last."
  type        = any
  default     = []
}
