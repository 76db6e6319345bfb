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


variable "api_name" {
  description = "The HTTP API's name."
  type        = string
  default     = "tally-usage"
}

variable "ingest_function_name" {
  description = "The usage-ingest function (lambda-usage-ingest's function_name)."
  type        = string
}

variable "ingest_invoke_arn" {
  description = "The usage-ingest function's invoke ARN (lambda-usage-ingest's invoke_arn)."
  type        = string
}

variable "tenant_management_function_name" {
  description = "The tenant-management function (lambda-tenant-management's function_name)."
  type        = string
}

variable "tenant_management_invoke_arn" {
  description = "The tenant-management function's invoke ARN (lambda-tenant-management's invoke_arn)."
  type        = string
}

variable "jwt_issuer_url" {
  description = "Issuer of the access tokens (cognito's issuer_url)."
  type        = string
}

variable "jwt_audience" {
  description = "Client ids whose tokens are accepted (cognito's producer_client_id). Cognito access tokens carry the client id in client_id, which HTTP API JWT authorizers match against this list."
  type        = list(string)
}

variable "admin_client_id" {
  description = "The admin app client, the only audience the admin routes accept (cognito's admin_client_id)."
  type        = string
}

variable "events_write_scope" {
  description = "The OAuth scope POST /v1/events requires (cognito's events_write_scope)."
  type        = string
}

variable "throttling_burst_limit" {
  description = "Requests the stage accepts in a burst before answering 429."
  type        = number
  default     = 500
}

variable "throttling_rate_limit" {
  description = "Steady requests per second the stage accepts before answering 429."
  type        = number
  default     = 200
}

variable "log_retention_days" {
  description = "Days the access logs are kept."
  type        = number
  default     = 365
}
