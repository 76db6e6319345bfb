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

variable "cluster_name" {
  description = "The EKS cluster's name; also its roles' and log group's."
  type        = string
  default     = "tally-platform"
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane; the node group follows it. Raise one minor version at a time."
  type        = string
  default     = "1.33"
}

variable "subnet_ids" {
  description = "Private subnets in at least two availability zones, for the control plane's network interfaces and the nodes (network's private_subnet_ids)."
  type        = list(string)
  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must name at least two subnets (EKS needs two availability zones)."
  }
}

variable "endpoint_public_access" {
  description = "Also expose the API server on a public endpoint, reachable from public_access_cidrs only. Off: the API is reachable from the VPC and networks connected to it."
  type        = bool
  default     = false
}

variable "public_access_cidrs" {
  description = "Networks allowed to the public endpoint when endpoint_public_access is on (an office, a CI runner)."
  type        = list(string)
  default     = []
  validation {
    condition     = !contains(var.public_access_cidrs, "0.0.0.0/0")
    error_message = "public_access_cidrs must not open the API server to the whole internet."
  }
}

variable "admin_principal_arns" {
  description = "IAM roles or users given cluster admin through access entries, besides the identity that creates the cluster (EKS makes its entry; do not list it again)."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Days the control-plane logs are kept."
  type        = number
  default     = 365
}

variable "node_instance_types" {
  description = "Graviton (arm64) instance types of the node group, in order of preference."
  type        = list(string)
  default     = ["m7g.large"]
}

variable "node_min_size" {
  description = "Fewest nodes (also the initial count)."
  type        = number
  default     = 2
}

variable "node_max_size" {
  description = "Most nodes."
  type        = number
  default     = 6
}

variable "node_disk_size_gb" {
  description = "Root volume of each node (images and pods' ephemeral storage)."
  type        = number
  default     = 50
}

variable "node_security_group_ids" {
  description = "Further security groups of the nodes, so that pods reach the platform's services (elasticache's client_security_group_id)."
  type        = list(string)
  default     = []
}
