output "flux_namespace" {
  description = "The namespace of Flux and of the tenant-manifests Bucket and Kustomization (flux get sources bucket -n flux-system)."
  value       = helm_release.flux.namespace
}

output "manifests_prefix" {
  description = "The prefix of the tenant data bucket Flux applies (control-aws/src/manifests.rs MANIFESTS_PREFIX)."
  value       = local.manifests_prefix
}

output "source_controller_role_arn" {
  description = "The role Flux's source-controller reads the manifests with (EKS Pod Identity)."
  value       = aws_iam_role.source_controller.arn
}

output "addon_versions" {
  description = "The managed add-ons' versions, as installed."
  value       = { for name, addon in aws_eks_addon.addon : name => addon.addon_version }
}
