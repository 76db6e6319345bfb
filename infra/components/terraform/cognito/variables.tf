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


variable "user_pool_name" {
  description = "The shared user pool; null means {namespace}-{stage}-tally."
  type        = string
  default     = null
}

variable "domain_prefix" {
  description = "Prefix of the pool's hosted domain (the OAuth token endpoint); unique within the region. null means {namespace}-{stage}-tally."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Refuse to delete the user pool (set in prod)."
  type        = bool
  default     = true
}

variable "access_token_validity_minutes" {
  description = "Lifetime of a producer's access token."
  type        = number
  default     = 60
  validation {
    condition     = var.access_token_validity_minutes >= 5 && var.access_token_validity_minutes <= 1440
    error_message = "access_token_validity_minutes must be between 5 and 1440."
  }
}

variable "admin_token_validity_minutes" {
  description = "Lifetime of an operator's access and ID tokens for the admin API."
  type        = number
  default     = 60
  validation {
    condition     = var.admin_token_validity_minutes >= 5 && var.admin_token_validity_minutes <= 1440
    error_message = "admin_token_validity_minutes must be between 5 and 1440."
  }
}

variable "admin_refresh_token_validity_hours" {
  description = "Lifetime of an operator's refresh token: how long a sign-in lasts."
  type        = number
  default     = 12
  validation {
    condition     = var.admin_refresh_token_validity_hours >= 1 && var.admin_refresh_token_validity_hours <= 87600
    error_message = "admin_refresh_token_validity_hours must be between 1 and 87600."
  }
}
