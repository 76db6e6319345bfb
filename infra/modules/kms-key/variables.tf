variable "description" {
  description = "What the key encrypts."
  type        = string
}

variable "alias" {
  description = "The key's alias, alias/{namespace}-{stage}-{purpose}."
  type        = string
  validation {
    condition     = startswith(var.alias, "alias/")
    error_message = "alias must start with alias/."
  }
}

variable "log_group_names" {
  description = "CloudWatch Logs groups (names, * allowed) the logs service may encrypt with the key; empty for a key no log group uses."
  type        = list(string)
  default     = []
}
