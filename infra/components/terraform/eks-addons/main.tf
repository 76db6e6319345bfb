# What the platform's EKS cluster (eks) runs besides the tenants' applications:
# - the EKS managed add-ons: the VPC CNI (with its network policy agent, which enforces the
#   tenants' NetworkPolicies), CoreDNS, kube-proxy and the EKS Pod Identity agent;
# - Flux, the GitOps agent of the DeployApp onboarding step: its source-controller watches the
#   tenant data bucket's _platform/manifests/ prefix (a Flux Bucket source) and its
#   kustomize-controller applies what it finds there (a Flux Kustomization), pruning what
#   offboarding removes. The prefix is control-aws/src/manifests.rs MANIFESTS_PREFIX, held equal
#   by tests/infra/drift.py.
#
# The source-controller gets AWS credentials through EKS Pod Identity, for a role that reads the
# manifests and nothing else of the bucket. The Bucket and the Kustomization are a chart of this
# component (charts/tenant-manifests), installed after Flux: Helm needs Flux's resource kinds to
# exist when it installs them, and a plan needs no cluster at all.

locals {
  # control-aws/src/manifests.rs MANIFESTS_PREFIX: where DeployApp writes every tenant's
  # manifests, _platform/manifests/{tenant_id}/{file}.
  manifests_prefix = "_platform/manifests/"
  flux_namespace   = "flux-system"
  # The service account the flux2 chart gives the source-controller.
  source_controller_service_account = "source-controller"
  # The EKS managed add-ons, each with the configuration it needs (null: the add-on's defaults).
  addons = {
    vpc-cni = jsonencode({
      # The network policy agent: without it, NetworkPolicies are accepted and not enforced.
      enableNetworkPolicy = "true"
    })
    coredns                = null
    kube-proxy             = null
    eks-pod-identity-agent = null
  }
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

# -- Managed add-ons -------------------------------------------------------------------------------

# EKS installed vpc-cni, coredns and kube-proxy itself when it created the cluster; creating them
# as managed add-ons takes them over (OVERWRITE), and later updates put back what Terraform says.
# A version left out is the add-on's default for the cluster's Kubernetes version.
resource "aws_eks_addon" "addon" {
  for_each                    = local.addons
  cluster_name                = var.cluster_name
  addon_name                  = each.key
  addon_version               = lookup(var.addon_versions, each.key, null)
  configuration_values        = each.value
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
}

# -- The source-controller's role ------------------------------------------------------------------

resource "aws_iam_role" "source_controller" {
  name = "${var.cluster_name}-flux-source-controller"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "pods.eks.amazonaws.com" }
      Action    = ["sts:AssumeRole", "sts:TagSession"]
      Condition = {
        StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id }
        ArnEquals    = { "aws:SourceArn" = var.cluster_arn }
      }
    }]
  })
}

data "aws_iam_policy_document" "source_controller" {
  # The manifests, and Flux's optional ignore file at the bucket's root, which it reads before
  # every listing (DeployApp never writes one: the read answers 404).
  statement {
    sid     = "ReadTheManifests"
    actions = ["s3:GetObject"]
    resources = [
      "${var.tenant_data_bucket_arn}/${local.manifests_prefix}*",
      "${var.tenant_data_bucket_arn}/.sourceignore",
    ]
  }

  # A listing must name the manifests prefix. IfExists: Flux first checks the bucket with
  # HeadBucket, which S3 authorizes as s3:ListBucket but without a prefix, and a missing object
  # answers 404 (not 403) only to a caller allowed s3:ListBucket. A listing that names no prefix
  # is allowed too, and would show the bucket's key names; never an object's content, which only
  # the statement above grants.
  statement {
    sid       = "ListTheManifests"
    actions   = ["s3:ListBucket"]
    resources = [var.tenant_data_bucket_arn]
    condition {
      test     = "StringLikeIfExists"
      variable = "s3:prefix"
      values   = ["${local.manifests_prefix}*"]
    }
  }

  # The bucket's objects are encrypted with its key (with a bucket key, so S3 asks KMS once per
  # bucket and period, not per object).
  statement {
    sid       = "DecryptThroughS3"
    actions   = ["kms:Decrypt"]
    resources = [var.tenant_data_kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.current.name}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "source_controller" {
  name   = "read-tenant-manifests"
  role   = aws_iam_role.source_controller.id
  policy = data.aws_iam_policy_document.source_controller.json
}

# The agent gives the pod its credentials when the pod starts, so the association (and the agent,
# with the other add-ons) exists before Flux is installed.
resource "aws_eks_pod_identity_association" "source_controller" {
  cluster_name    = var.cluster_name
  namespace       = local.flux_namespace
  service_account = local.source_controller_service_account
  role_arn        = aws_iam_role.source_controller.arn

  depends_on = [aws_eks_addon.addon]
}

# -- Flux ------------------------------------------------------------------------------------------

# Only the two controllers the tenants' manifests need: the Helm, image automation and
# notification controllers are left out.
resource "helm_release" "flux" {
  name             = "flux2"
  repository       = "https://fluxcd-community.github.io/helm-charts"
  chart            = "flux2"
  version          = var.flux_chart_version
  namespace        = local.flux_namespace
  create_namespace = true
  atomic           = true
  timeout          = 600

  values = [yamlencode({
    helmController            = { create = false }
    imageAutomationController = { create = false }
    imageReflectionController = { create = false }
    notificationController    = { create = false }
  })]

  depends_on = [
    aws_eks_addon.addon,
    aws_eks_pod_identity_association.source_controller,
    aws_iam_role_policy.source_controller,
  ]
}

# The Bucket source and the Kustomization (charts/tenant-manifests/templates). The artifact keeps
# every object under its full key, so the Kustomization applies the directory named like the
# prefix; kustomize-controller builds it from the files found there, recursively, and prunes
# what disappears: a tenant offboarded loses its namespace.
resource "helm_release" "tenant_manifests" {
  name      = "tenant-manifests"
  chart     = "${path.module}/charts/tenant-manifests"
  namespace = local.flux_namespace
  atomic    = true

  set {
    name  = "bucket.name"
    value = var.tenant_data_bucket_name
  }

  set {
    name  = "bucket.region"
    value = data.aws_region.current.name
  }

  set {
    name  = "bucket.prefix"
    value = local.manifests_prefix
  }

  set {
    name  = "interval"
    value = var.sync_interval
  }

  depends_on = [helm_release.flux]
}
