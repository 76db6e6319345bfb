# The Terraform state bucket of a stack and the bucket that receives the S3 server access logs of
# every other bucket. Applied first, with local state (see docs/deploy.md); every other component
# keeps its state in the bucket this one creates.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id        = data.aws_caller_identity.current.account_id
  state_bucket      = "${var.namespace}-${var.stage}-tfstate"
  access_log_bucket = "${var.namespace}-${var.stage}-s3-access-logs"
}

resource "aws_kms_key" "state" {
  description             = "Terraform state of ${var.namespace}-${var.stage}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      # The account administers the key; IAM policies decide who may use it.
      Sid       = "AccountAdministersTheKey"
      Effect    = "Allow"
      Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${local.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_kms_alias" "state" {
  name          = "alias/${var.namespace}-${var.stage}-tfstate"
  target_key_id = aws_kms_key.state.key_id
}

# Every earlier state is kept as a noncurrent version for noncurrent_version_expiration_days.
module "state_bucket" {
  source = "../../../modules/secure-bucket"

  bucket_name                        = local.state_bucket
  kms_key_arn                        = aws_kms_key.state.arn
  access_log_bucket_name             = local.access_log_bucket
  noncurrent_version_expiration_days = var.noncurrent_version_expiration_days

  # The access log bucket must exist before this bucket's logging can name it.
  depends_on = [module.access_log_bucket]
}

# The access log bucket is encrypted with SSE-S3 (S3 server access log delivery supports no
# other default encryption) and logs nothing itself (it would log its own log deliveries without
# end). Logs expire after access_log_expiration_days.
module "access_log_bucket" {
  source = "../../../modules/secure-bucket"

  bucket_name                        = local.access_log_bucket
  kms_key_arn                        = null
  access_log_bucket_name             = null
  lifecycle_rule_id                  = "expire-access-logs"
  expiration_days                    = var.access_log_expiration_days
  noncurrent_version_expiration_days = 1
  policy_statements = [{
    # With BucketOwnerEnforced, log delivery is granted by this policy, not by an ACL.
    Sid       = "S3ServerAccessLogDelivery"
    Effect    = "Allow"
    Principal = { Service = "logging.s3.amazonaws.com" }
    Action    = "s3:PutObject"
    Resource  = "arn:${data.aws_partition.current.partition}:s3:::${local.access_log_bucket}/*"
    Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
  }]
}
