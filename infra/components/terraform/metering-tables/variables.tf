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


variable "rollups_table_name" {
  description = "The rollups table (TALLY_ROLLUPS_TABLE); the code's default is aws/src/dynamodb.rs DEFAULT_ROLLUPS_TABLE."
  type        = string
  default     = "usage-rollups"
}

variable "state_table_name" {
  description = "The stream consumer's ledger table (TALLY_STATE_TABLE); the code's default is aws/src/dynamodb.rs DEFAULT_STATE_TABLE."
  type        = string
  default     = "metering-state"
}

variable "invoices_table_name" {
  description = "The invoices table (TALLY_INVOICES_TABLE); the code's default is aws/src/invoices.rs DEFAULT_INVOICES_TABLE."
  type        = string
  default     = "invoices"
}

variable "deletion_protection" {
  description = "Refuse DeleteTable on every table (set in prod)."
  type        = bool
  default     = true
}
