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

variable "email_from" {
  description = "The sender of the control plane's email (TALLY_EMAIL_FROM of the onboarding function), e.g. tally@acme.example."
  type        = string
  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.email_from))
    error_message = "email_from must be an email address."
  }
}

variable "email_identity" {
  description = "What SES verifies: the sender's domain (DKIM records to publish, any address of the domain may send) or the address itself (SES emails a confirmation link). null means the domain of email_from."
  type        = string
  default     = null
}
