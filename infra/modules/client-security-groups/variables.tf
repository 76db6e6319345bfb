variable "name" {
  description = "The service's name: its groups are {name}-{role} and {name}-clients."
  type        = string
}

variable "role" {
  description = "What the service is to its clients, in the service group's name and the descriptions, e.g. database."
  type        = string
}

variable "service" {
  description = "The service as the descriptions name it, e.g. PostgreSQL tally-shared."
  type        = string
}

variable "service_noun" {
  description = "The service in the clients' egress rule's description, after \"to the\", e.g. shared database."
  type        = string
}

variable "protocol" {
  description = "The protocol on the port, in the rules' descriptions, e.g. PostgreSQL."
  type        = string
}

variable "clients" {
  description = "Who carries the clients group, in its description, e.g. the onboarding function."
  type        = string
}

variable "vpc_id" {
  description = "The VPC of both groups."
  type        = string
}

variable "port" {
  description = "The service's TCP port."
  type        = number
}
