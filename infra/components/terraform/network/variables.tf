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

variable "cidr_block" {
  description = "The VPC's IPv4 range, a /16 (the subnets are cut from it): pick one that no network the VPC may be peered or connected with uses."
  type        = string
  default     = "10.0.0.0/16"
  validation {
    condition     = can(cidrnetmask(var.cidr_block)) && endswith(var.cidr_block, "/16")
    error_message = "cidr_block must be an IPv4 /16."
  }
}

variable "availability_zones" {
  description = "The zones the subnets span, by name (e.g. us-east-1a): at least two (RDS and EKS need two), at most six. Subnet ranges follow the order: add zones at the end."
  type        = list(string)
  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 6 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "availability_zones must name two to six distinct zones."
  }
}

variable "nat_gateway_per_availability_zone" {
  description = "One NAT gateway in each zone (prod: a zone's failure leaves the others their way out), or one for the whole VPC (dev: cheaper, but every private subnet depends on its zone)."
  type        = bool
  default     = true
}

variable "flow_log_retention_days" {
  description = "Days the VPC flow logs are kept."
  type        = number
  default     = 365
}
