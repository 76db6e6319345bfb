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

variable "vpc_id" {
  description = "The VPC of the database and of the functions that reach it (network's vpc_id)."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets in at least two availability zones (network's private_subnet_ids): the database's subnet group, and where the onboarding function's network interfaces go. They need a route to the AWS APIs onboarding calls, which the network gives them (NAT gateways, and gateway endpoints for DynamoDB and S3)."
  type        = list(string)
  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must name at least two subnets (RDS needs two availability zones)."
  }
}

variable "identifier" {
  description = "The DB instance's identifier."
  type        = string
  default     = "tally-shared"
}

variable "database_name" {
  description = "The database created with the instance: the shared database of the standard tier."
  type        = string
  default     = "tally"
}

variable "master_username" {
  description = "The instance's owner login; its password is generated and rotated by RDS in Secrets Manager, never seen by Terraform."
  type        = string
  default     = "tally_admin"
}

variable "engine_version" {
  description = "PostgreSQL major version; minor versions are upgraded in the maintenance window."
  type        = string
  default     = "15"
  validation {
    condition     = can(regex("^15(\\.[0-9]+)?$", var.engine_version))
    error_message = "engine_version must be PostgreSQL 15 (the parameter group's family is postgres15)."
  }
}

variable "instance_class" {
  description = "The DB instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "allocated_storage_gb" {
  description = "Initial storage."
  type        = number
  default     = 20
}

variable "max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling."
  type        = number
  default     = 200
}

variable "multi_az" {
  description = "A standby in a second availability zone (prod)."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (set in prod)."
  type        = bool
  default     = true
}

variable "backup_retention_days" {
  description = "Days automated backups (point-in-time restore) are kept."
  type        = number
  default     = 14
  validation {
    condition     = var.backup_retention_days >= 7 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be between 7 and 35."
  }
}

variable "monitoring_interval_secs" {
  description = "Enhanced monitoring granularity."
  type        = number
  default     = 60
}

variable "log_retention_days" {
  description = "Days the PostgreSQL logs are kept in CloudWatch Logs."
  type        = number
  default     = 365
}

variable "slow_statement_ms" {
  description = "Statements slower than this are logged (log_min_duration_statement)."
  type        = number
  default     = 1000
}

variable "app_password_version" {
  description = "Raise to generate a new password for the application login role (the CreateDatabase bootstrap sets it in PostgreSQL on its next run)."
  type        = number
  default     = 1
}
