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


variable "function_name" {
  description = "The Lambda function's name."
  type        = string
  default     = "usage-ingest"
}

variable "package_path" {
  description = "The function's zip, relative to this component's directory (where atmos runs terraform): cargo-lambda's target/lambda/{binary}/bootstrap.zip, written by scripts/package-lambdas."
  type        = string
  default     = "../../../../target/lambda/usage-ingest/bootstrap.zip"
}

variable "memory_size_mb" {
  description = "Memory of the function (a request holds at most MAX_BODY_BYTES of events)."
  type        = number
  default     = 512
}

variable "timeout_secs" {
  description = "Longest a request may run; API Gateway HTTP APIs wait at most 30 seconds for an integration."
  type        = number
  default     = 29
  validation {
    condition     = var.timeout_secs >= 3 && var.timeout_secs <= 30
    error_message = "timeout_secs must be between 3 and 30."
  }
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for (and at most used by) the function."
  type        = number
  default     = 100
}

variable "log_retention_days" {
  description = "Days the function's request logs are kept."
  type        = number
  default     = 365
}

variable "stream_name" {
  description = "The usage stream (TALLY_STREAM_NAME; usage-stream's stream_name)."
  type        = string
}

variable "stream_arn" {
  description = "The usage stream's ARN (usage-stream's stream_arn)."
  type        = string
}

variable "stream_kms_key_arn" {
  description = "The usage stream's key (usage-stream's kms_key_arn)."
  type        = string
}

variable "meters_file" {
  description = "TALLY_METERS_FILE: path of the operator's meters inside the package (scripts/package-lambdas --meters puts it at /var/task/meters.toml); empty for the default catalog. usage-consumer must get the same file."
  type        = string
  default     = ""
}
