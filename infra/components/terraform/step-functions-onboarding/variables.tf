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

variable "onboarding_function_arn" {
  description = "The onboarding function every Task state invokes (lambda-onboarding's function_arn): the ASL files' ${onboarding_function_arn}."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of the state machines' names: {prefix}-onboarding and {prefix}-offboarding."
  type        = string
  default     = "tally"
}

variable "log_retention_days" {
  description = "Days the executions' history events are kept."
  type        = number
  default     = 365
}
