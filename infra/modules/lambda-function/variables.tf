variable "namespace" {
  description = "Organisation prefix, part of the key alias."
  type        = string
}

variable "stage" {
  description = "Stage of the stack (dev, prod), part of the key alias."
  type        = string
}

variable "function_name" {
  description = "The Lambda function's name; also its role's, its policy's and (under /aws/lambda/) its log group's."
  type        = string
}

variable "description" {
  description = "The function's description."
  type        = string
}

variable "kms_key_purpose" {
  description = "What the function key encrypts, after \"Lambda {function_name}: \" in its description."
  type        = string
  default     = "environment and logs"
}

variable "package_path" {
  description = "The function's zip, relative to the calling component's directory: cargo-lambda's target/lambda/{binary}/bootstrap.zip."
  type        = string
}

variable "handler" {
  description = "The handler: cargo-lambda's custom runtime executable."
  type        = string
  default     = "bootstrap"
}

variable "runtime" {
  description = "The OS-only runtime the bootstrap executable runs on."
  type        = string
  default     = "provided.al2023"
}

variable "architectures" {
  description = "The instruction set the package is built for (scripts/package-lambdas builds arm64)."
  type        = list(string)
  default     = ["arm64"]
}

variable "memory_size_mb" {
  description = "Memory of the function."
  type        = number
}

variable "timeout_secs" {
  description = "Longest an invocation may run."
  type        = number
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for (and at most used by) the function."
  type        = number
}

variable "log_retention_days" {
  description = "Days the function's logs are kept."
  type        = number
}

variable "environment" {
  description = "The function's environment variables."
  type        = map(string)
}

variable "policy_json" {
  description = "The statements of what the handler calls; the module adds the function key and the log group."
  type        = string
}

variable "function_key_actions" {
  description = "What the role may do with the function key."
  type        = list(string)
  default     = ["kms:GenerateDataKey", "kms:Decrypt"]
}

variable "dead_letter_target_arn" {
  description = "Queue for failed asynchronous invocations; null for a function invoked only synchronously."
  type        = string
  default     = null
}

variable "vpc_subnet_ids" {
  description = "Private subnets to place the function in (its network interfaces); empty for a function that reaches only AWS APIs."
  type        = list(string)
  default     = []
}

variable "vpc_security_group_ids" {
  description = "Security groups of the function's network interfaces, with vpc_subnet_ids."
  type        = list(string)
  default     = []
  validation {
    condition     = length(var.vpc_security_group_ids) <= 5
    error_message = "A Lambda function takes at most 5 security groups."
  }
}
