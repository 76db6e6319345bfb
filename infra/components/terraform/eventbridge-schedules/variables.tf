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


variable "invoice_generator_function_arn" {
  description = "The invoice-generator function (lambda-invoice-generator's function_arn)."
  type        = string
}

variable "invoice_grace_hours" {
  description = "The function's grace after a period ends (lambda-invoice-generator's invoice_grace_hours); the finalize schedule must run after it."
  type        = number
}

variable "draft_schedule_expression" {
  description = "When the current month's drafts are recomputed (EventBridge Scheduler expression, UTC)."
  type        = string
  default     = "cron(15 1 * * ? *)"
}

variable "finalize_day_of_month" {
  description = "Day of the month (UTC) the previous month's invoices are finalized."
  type        = number
  default     = 2
  validation {
    condition     = var.finalize_day_of_month >= 1 && var.finalize_day_of_month <= 28
    error_message = "finalize_day_of_month must be between 1 and 28."
  }
}

variable "finalize_hour_utc" {
  description = "Hour (UTC) of finalize_day_of_month the finalization runs."
  type        = number
  default     = 3
  validation {
    condition     = var.finalize_hour_utc >= 0 && var.finalize_hour_utc <= 23
    error_message = "finalize_hour_utc must be between 0 and 23."
  }
}
