variable "tenant_data_bucket_arn" {
  description = "The tenant data bucket's ARN (s3-tenant-data's bucket_arn)."
  type        = string
}

variable "tenant_data_kms_key_arn" {
  description = "The tenant data bucket's key (s3-tenant-data's kms_key_arn)."
  type        = string
}

variable "published_prefixes" {
  description = "Key patterns of the bucket the caller writes and reads besides the ledgers, e.g. tenants/*/usage/events/*."
  type        = list(string)
}

variable "state_table_arn" {
  description = "The ledger table's ARN (metering-tables' state_table_arn)."
  type        = string
}

variable "state_table_actions" {
  description = "What the caller does with the ledger table."
  type        = list(string)
}

variable "rollups_table_arn" {
  description = "The rollups table's ARN (metering-tables' rollups_table_arn)."
  type        = string
}

variable "rollups_table_actions" {
  description = "What the caller does with the rollups table."
  type        = list(string)
}

variable "invoices_table_arn" {
  description = "The invoices table's ARN, for a caller that stores invoices; null otherwise."
  type        = string
  default     = null
}

variable "tenants_table_arn" {
  description = "The tenants table's ARN, for a caller that reads the tenant registry (Query); null otherwise."
  type        = string
  default     = null
}

variable "tenants_kms_key_arn" {
  description = "The tenants table's key, with tenants_table_arn."
  type        = string
  default     = null
}

variable "table_kms_key_arns" {
  description = "The keys of the tables the caller writes (metering-tables' kms_key_arn, and tenant-management-db's for a caller that writes tenants)."
  type        = list(string)
}
