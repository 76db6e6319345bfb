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

variable "tenants_table_name" {
  description = "The control plane's tenants table (TALLY_TENANTS_TABLE); the code's default is control-aws/src/tenants.rs DEFAULT_TENANTS_TABLE."
  type        = string
  default     = "tenants"
}

variable "deletion_protection" {
  description = "Refuse DeleteTable (set in prod)."
  type        = bool
  default     = true
}
