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
  description = "The VPC of the cache and its clients (network's vpc_id)."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets in at least two availability zones (network's private_subnet_ids)."
  type        = list(string)
  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must name at least two subnets (the replica goes to another zone)."
  }
}

variable "replication_group_id" {
  description = "The replication group's id; also its subnet group's, user group's and log groups' names."
  type        = string
  default     = "tally-platform-cache"
}

variable "engine_version" {
  description = "Valkey major.minor version (7.2 or later: IAM authentication needs it)."
  type        = string
  default     = "8.0"
}

variable "node_type" {
  description = "The nodes' instance type (Graviton)."
  type        = string
  default     = "cache.r7g.large"
}

variable "num_cache_clusters" {
  description = "Nodes: a primary and its replicas, spread over the subnets' zones."
  type        = number
  default     = 2
  validation {
    condition     = var.num_cache_clusters >= 1 && var.num_cache_clusters <= 6
    error_message = "num_cache_clusters must be between 1 and 6."
  }
}

variable "multi_az" {
  description = "Automatic failover to a replica in another zone (prod); needs num_cache_clusters >= 2."
  type        = bool
  default     = true
}

variable "snapshot_retention_days" {
  description = "Days the daily snapshots are kept."
  type        = number
  default     = 7
  validation {
    condition     = var.snapshot_retention_days >= 1 && var.snapshot_retention_days <= 35
    error_message = "snapshot_retention_days must be between 1 and 35."
  }
}

variable "snapshot_window" {
  description = "Daily UTC window of the snapshot (at least an hour, apart from the maintenance window)."
  type        = string
  default     = "03:00-04:00"
}

variable "maintenance_window" {
  description = "Weekly UTC maintenance window."
  type        = string
  default     = "sun:05:00-sun:06:00"
}

variable "app_access_string" {
  description = "The application user's ACL: keys, channels and commands it may use."
  type        = string
  default     = "on ~* &* +@all -@dangerous"
}

variable "log_retention_days" {
  description = "Days the slow and engine logs are kept."
  type        = number
  default     = 365
}
