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


variable "stream_name" {
  description = "The Kinesis usage stream. The code's default (aws/src/settings.rs DEFAULT_STREAM) and the seed's boto3 producer use usage-metering; tests/infra/test_drift.py holds them equal."
  type        = string
  default     = "usage-metering"
}

variable "stream_mode" {
  description = "ON_DEMAND (shards follow the load) or PROVISIONED (shard_count shards)."
  type        = string
  default     = "ON_DEMAND"
  validation {
    condition     = contains(["ON_DEMAND", "PROVISIONED"], var.stream_mode)
    error_message = "stream_mode must be ON_DEMAND or PROVISIONED."
  }
}

variable "shard_count" {
  description = "Shards of a PROVISIONED stream; ignored ON_DEMAND. The consumer runs one batch per shard at a time, so this is also its concurrency."
  type        = number
  default     = 2
  validation {
    condition     = var.shard_count >= 1 && var.shard_count <= 500
    error_message = "shard_count must be between 1 and 500."
  }
}

variable "retention_period_hours" {
  description = "How long records stay readable. Keep it well above the consumer's maximum_record_age_secs: a record the consumer gives up on is named in its on-failure queue and must still be in the stream to be replayed."
  type        = number
  default     = 168
  validation {
    condition     = var.retention_period_hours >= 24 && var.retention_period_hours <= 8760
    error_message = "retention_period_hours must be between 24 and 8760."
  }
}
