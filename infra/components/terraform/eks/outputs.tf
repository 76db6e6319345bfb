output "cluster_name" {
  description = "The EKS cluster."
  value       = aws_eks_cluster.tally.name
}

output "cluster_arn" {
  description = "The cluster's ARN (the source ARN of Pod Identity trust policies)."
  value       = aws_eks_cluster.tally.arn
}

output "cluster_endpoint" {
  description = "The API server's (private) endpoint."
  value       = aws_eks_cluster.tally.endpoint
}

output "cluster_certificate_authority_data" {
  description = "The API server's certificate authority, base64-encoded PEM."
  value       = aws_eks_cluster.tally.certificate_authority[0].data
}

output "cluster_version" {
  description = "The control plane's Kubernetes version (the add-ons' versions follow it)."
  value       = aws_eks_cluster.tally.version
}

output "cluster_security_group_id" {
  description = "The security group EKS made for the control plane and the nodes."
  value       = aws_eks_cluster.tally.vpc_config[0].cluster_security_group_id
}

output "node_role_arn" {
  description = "The nodes' IAM role."
  value       = aws_iam_role.node.arn
}

output "secrets_kms_key_arn" {
  description = "The key of the secrets' envelope encryption."
  value       = module.secrets_key.key_arn
}

output "log_group_name" {
  description = "The control-plane log group."
  value       = aws_cloudwatch_log_group.cluster.name
}
