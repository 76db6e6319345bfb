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


variable "tenant_data_bucket_arn" {
  description = "The tenant data bucket's ARN (s3-tenant-data's bucket_arn)."
  type        = string
}

variable "tenant_data_kms_key_arn" {
  description = "The tenant data bucket's key (s3-tenant-data's kms_key_arn)."
  type        = string
}

variable "rollups_table_arn" {
  description = "The rollups table's ARN (metering-tables' rollups_table_arn)."
  type        = string
}

variable "tables_kms_key_arn" {
  description = "The tables' key (metering-tables' kms_key_arn)."
  type        = string
}

variable "tenant_tag_key" {
  description = "The principal tag holding a principal's tenant id."
  type        = string
  default     = "tenant_id"
}
