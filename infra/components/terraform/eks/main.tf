# The EKS cluster of the tenant applications: the DeployApp onboarding step writes each tenant's
# Namespace, NetworkPolicy and ResourceQuota under _platform/manifests/{tenant_id}/ of the tenant
# data bucket (control-aws/src/manifests.rs), and the GitOps agent of eks-addons applies them
# here. Tally's own functions do not run in the cluster.
#
# - The API server has a private endpoint only (endpoint_public_access stays off unless a stage
#   turns it on for given networks): kubectl and the eks-addons component reach it from inside
#   the VPC or a network connected to it.
# - Secrets are envelope-encrypted with a key of this component; every control-plane log type
#   goes to an encrypted log group with a retention.
# - Access is by EKS access entries only (authentication mode API, no aws-auth ConfigMap), and
#   workloads get AWS roles through EKS Pod Identity (the agent is an add-on of eks-addons), not
#   through the nodes' role or an OIDC provider.
# - One managed node group of Graviton (arm64) instances in the network's private subnets, from
#   a launch template that requires IMDSv2 and keeps pods off the instance metadata service.

data "aws_partition" "current" {}

locals {
  partition      = data.aws_partition.current.partition
  log_group_name = "/aws/eks/${var.cluster_name}/cluster"
  # Every control-plane log type EKS offers.
  log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
  # AWS managed policies, by the name they have under arn:{partition}:iam::aws:policy/.
  cluster_policies = ["AmazonEKSClusterPolicy"]
  # The VPC CNI runs on every node before any pod identity could be given to it, so the nodes'
  # role carries its policy.
  node_policies = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"]
}

module "secrets_key" {
  source = "../../../modules/kms-key"

  description = "Kubernetes secrets of the EKS cluster ${var.cluster_name} (envelope encryption)"
  alias       = "alias/${var.namespace}-${var.stage}-eks-${var.cluster_name}-secrets"
}

module "logs_key" {
  source = "../../../modules/kms-key"

  description     = "Control-plane logs of the EKS cluster ${var.cluster_name}"
  alias           = "alias/${var.namespace}-${var.stage}-eks-${var.cluster_name}-logs"
  log_group_names = [local.log_group_name]
}

# EKS writes the control-plane logs to this group; created first so that it has the key and the
# retention rather than the defaults EKS would give a group it creates itself.
resource "aws_cloudwatch_log_group" "cluster" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = module.logs_key.key_arn
}

# -- The cluster -----------------------------------------------------------------------------------

resource "aws_iam_role" "cluster" {
  name = "${var.cluster_name}-eks-cluster"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "eks.amazonaws.com" }
      Action    = ["sts:AssumeRole", "sts:TagSession"]
    }]
  })
}

resource "aws_iam_role_policy_attachment" "cluster" {
  for_each   = toset(local.cluster_policies)
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value}"
}

# The envelope encryption of secrets: EKS uses the key with the cluster's role.
data "aws_iam_policy_document" "cluster_encryption" {
  statement {
    sid       = "EncryptSecrets"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"]
    resources = [module.secrets_key.key_arn]
  }
}

resource "aws_iam_role_policy" "cluster_encryption" {
  name   = "encrypt-secrets"
  role   = aws_iam_role.cluster.id
  policy = data.aws_iam_policy_document.cluster_encryption.json
}

resource "aws_eks_cluster" "tally" {
  name     = var.cluster_name
  version  = var.kubernetes_version
  role_arn = aws_iam_role.cluster.arn

  vpc_config {
    subnet_ids              = var.subnet_ids
    endpoint_private_access = true
    endpoint_public_access  = var.endpoint_public_access
    # Only consulted when the public endpoint is on; never the whole internet.
    public_access_cidrs = var.endpoint_public_access ? var.public_access_cidrs : null
  }

  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = module.secrets_key.key_arn
    }
  }

  enabled_cluster_log_types = local.log_types

  access_config {
    authentication_mode = "API"
    # The identity that applies this component becomes a cluster admin (an access entry EKS
    # makes), so that eks-addons can install the add-ons and the GitOps agent right after;
    # further admins are admin_principal_arns.
    bootstrap_cluster_creator_admin_permissions = true
  }

  # Standard support only: a version past it is upgraded rather than billed for extended support.
  upgrade_policy {
    support_type = "STANDARD"
  }

  depends_on = [
    aws_cloudwatch_log_group.cluster,
    aws_iam_role_policy_attachment.cluster,
    aws_iam_role_policy.cluster_encryption,
  ]
}

# Operators (an SSO role, a CI role) who administer the whole cluster.
resource "aws_eks_access_entry" "admin" {
  for_each      = toset(var.admin_principal_arns)
  cluster_name  = aws_eks_cluster.tally.name
  principal_arn = each.value
  type          = "STANDARD"
}

resource "aws_eks_access_policy_association" "admin" {
  for_each      = aws_eks_access_entry.admin
  cluster_name  = aws_eks_cluster.tally.name
  principal_arn = each.value.principal_arn
  policy_arn    = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"

  access_scope {
    type = "cluster"
  }
}

# -- The nodes -------------------------------------------------------------------------------------

resource "aws_iam_role" "node" {
  name = "${var.cluster_name}-eks-node"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each   = toset(local.node_policies)
  role       = aws_iam_role.node.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/${each.value}"
}

resource "aws_launch_template" "node" {
  name_prefix = "${var.cluster_name}-node-"
  description = "Nodes of the EKS cluster ${var.cluster_name}"
  # The cluster's own group (control plane to nodes and node to node), and the groups that let
  # pods reach the platform's services (elasticache's clients group). Naming groups here
  # replaces the one EKS would attach, so the cluster's group is named too.
  vpc_security_group_ids = concat(
    [aws_eks_cluster.tally.vpc_config[0].cluster_security_group_id],
    var.node_security_group_ids,
  )

  metadata_options {
    http_endpoint = "enabled"
    http_tokens   = "required"
    # One hop: the node's own processes and host-network pods (the VPC CNI, the Pod Identity
    # agent) reach the metadata service, other pods do not, and so cannot take the node's role.
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = var.node_disk_size_gb
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = { Name = "${var.cluster_name}-node" }
  }
}

resource "aws_eks_node_group" "graviton" {
  cluster_name    = aws_eks_cluster.tally.name
  node_group_name = "graviton"
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = var.subnet_ids
  # Amazon Linux 2023 for arm64: the AMI EKS picks for the cluster's version.
  ami_type       = "AL2023_ARM_64_STANDARD"
  capacity_type  = "ON_DEMAND"
  instance_types = var.node_instance_types

  launch_template {
    id      = aws_launch_template.node.id
    version = aws_launch_template.node.latest_version
  }

  scaling_config {
    min_size     = var.node_min_size
    desired_size = var.node_min_size
    max_size     = var.node_max_size
  }

  update_config {
    max_unavailable = 1
  }

  # A cluster autoscaler may change the desired size between applies.
  lifecycle {
    ignore_changes = [scaling_config[0].desired_size]
  }

  depends_on = [aws_iam_role_policy_attachment.node]
}
