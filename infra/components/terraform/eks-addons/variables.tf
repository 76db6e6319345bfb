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
  description = "The EKS cluster (eks' cluster_name)."
  type        = string
}

variable "cluster_arn" {
  description = "The cluster's ARN, which Pod Identity names as the source of its role sessions (eks' cluster_arn)."
  type        = string
}

variable "cluster_endpoint" {
  description = "The API server's endpoint (eks' cluster_endpoint)."
  type        = string
}

variable "cluster_certificate_authority_data" {
  description = "The API server's certificate authority, base64-encoded (eks' cluster_certificate_authority_data)."
  type        = string
}

variable "addon_versions" {
  description = "Versions of the managed add-ons by name (vpc-cni, coredns, kube-proxy, eks-pod-identity-agent); one left out is the add-on's default for the cluster's version."
  type        = map(string)
  default     = {}
}

variable "flux_chart_version" {
  description = "Version of the flux2 chart of fluxcd-community (each release pins a Flux release)."
  type        = string
  default     = "2.19.0"
}

variable "sync_interval" {
  description = "How often Flux lists the manifests prefix and applies what changed (a Go duration)."
  type        = string
  default     = "1m"
}

variable "tenant_data_bucket_name" {
  description = "The tenant data bucket (s3-tenant-data's bucket_name)."
  type        = string
}

variable "tenant_data_bucket_arn" {
  description = "The tenant data bucket's ARN (s3-tenant-data's bucket_arn)."
  type        = string
}

variable "tenant_data_kms_key_arn" {
  description = "The tenant data bucket's key (s3-tenant-data's kms_key_arn)."
  type        = string
}
