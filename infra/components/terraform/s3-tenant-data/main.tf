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

resource "aws_s3_bucket" "tenant_data" {
  #checkov:skip=CKV_AWS_144:Cross-region replication needs a second region, bucket and key that this deployment does not define yet; versioning keeps overwritten and deleted objects for noncurrent_version_expiration_days.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object events: the consumer records its commits in DynamoDB, and readers list the layout.
  bucket = local.bucket_name
}

resource "aws_s3_bucket_ownership_controls" "tenant_data" {
  bucket = aws_s3_bucket.tenant_data.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "tenant_data" {
  bucket                  = aws_s3_bucket.tenant_data.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "tenant_data" {
  bucket = aws_s3_bucket.tenant_data.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "tenant_data" {
  bucket = aws_s3_bucket.tenant_data.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.tenant_data.arn
    }
    # One data key per bucket instead of one KMS request per object: the consumer writes several
    # objects per tenant commit.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "tenant_data" {
  bucket        = aws_s3_bucket.tenant_data.id
  target_bucket = var.access_log_bucket_name
  target_prefix = "${local.bucket_name}/"
}

# No rule expires a current object. The events under tenants/ are the source of truth. Under
# _staging/ a pending commit needs its staged objects until the next load of the tenant's ledger
# finishes it, and under _ledger/ the commit records and snapshots are the tenant's
# deduplication state (docs/exactly-once.md, "Limits and gaps"); an age-based rule cannot tell
# an abandoned attempt from a pending one. Deleting a current object (a promotion's source, a
# superseded snapshot) leaves a noncurrent version, which this rule expires.
resource "aws_s3_bucket_lifecycle_configuration" "tenant_data" {
  bucket = aws_s3_bucket.tenant_data.id
  rule {
    id     = "noncurrent-versions"
    status = "Enabled"
    # Every object: an empty prefix (an empty filter block warns on some provider versions).
    filter {
      prefix = ""
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
    expiration {
      expired_object_delete_marker = true
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
  depends_on = [aws_s3_bucket_versioning.tenant_data]
}

resource "aws_s3_bucket_policy" "tenant_data" {
  bucket = aws_s3_bucket.tenant_data.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.tenant_data.arn, "${aws_s3_bucket.tenant_data.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
  depends_on = [aws_s3_bucket_public_access_block.tenant_data]
}
