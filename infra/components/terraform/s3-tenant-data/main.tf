# The tenant data bucket: the events Parquet (the source of truth finance queries), the
# quarantine, invoices, and the stream consumer's ledgers and staged objects.
#
# Layout (schemas/src/layout.rs): tenants/{tenant_id}/usage/events/dt={YYYY-MM-DD}/,
# tenants/{tenant_id}/invoices/{YYYY-MM}/, quarantine/dt={YYYY-MM-DD}/, _staging/, _ledger/.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  bucket_name = coalesce(var.bucket_name, "${var.namespace}-${var.stage}-tenant-data")
}

resource "aws_kms_key" "tenant_data" {
  description             = "Tenant data bucket ${local.bucket_name}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      # The account administers the key; the functions' and finance's IAM policies grant its use.
      Sid       = "AccountAdministersTheKey"
      Effect    = "Allow"
      Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_kms_alias" "tenant_data" {
  name          = "alias/${var.namespace}-${var.stage}-tenant-data"
  target_key_id = aws_kms_key.tenant_data.key_id
}

# No rule expires a current object. The events under tenants/ are the source of truth. Under
# _staging/ a pending commit needs its staged objects until the next load of the tenant's ledger
# finishes it, and under _ledger/ the commit records and snapshots are the tenant's
# deduplication state (docs/exactly-once.md, "Limits and gaps"); an age-based rule cannot tell
# an abandoned attempt from a pending one. Deleting a current object (a promotion's source, a
# superseded snapshot) leaves a noncurrent version, which the bucket's rule expires, and the
# delete markers left behind once it has gone are removed. Under _ledger/ they go after a day:
# every 16 commits a tenant's snapshot is rewritten whole, and nothing reads a superseded one,
# but kept for the bucket-wide 90 days they would cost more than the rest of the pipeline
# (docs/cost.md).
module "bucket" {
  source = "../../../modules/secure-bucket"

  bucket_name                        = local.bucket_name
  kms_key_arn                        = aws_kms_key.tenant_data.arn
  access_log_bucket_name             = var.access_log_bucket_name
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days
  noncurrent_version_expiration_days_by_prefix = {
    "_ledger/" = var.ledger_noncurrent_version_expiration_days
  }
  expire_orphaned_delete_markers = true
}
