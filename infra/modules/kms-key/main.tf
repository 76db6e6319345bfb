# A customer managed KMS key with rotation, a 30-day deletion window and an alias, whose policy
# lets the account administer it (IAM policies then decide who may use it) and, when the caller
# names log groups, lets CloudWatch Logs encrypt exactly those groups. The components that came
# before this module still declare their keys inline; new ones use it.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  account_administers = {
    Sid       = "AccountAdministersTheKey"
    Effect    = "Allow"
    Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
    Action    = "kms:*"
    Resource  = "*"
  }
  # CloudWatch Logs asks for the key with the log group's ARN as encryption context, so the
  # condition keeps the service to the groups named here.
  logs_encrypt = {
    Sid       = "CloudWatchLogsEncryptsTheNamedLogGroups"
    Effect    = "Allow"
    Principal = { Service = "logs.${local.region}.amazonaws.com" }
    Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    Resource  = "*"
    Condition = {
      ArnLike = {
        "kms:EncryptionContext:aws:logs:arn" = [
          for name in var.log_group_names :
          "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${name}"
        ]
      }
    }
  }
}

resource "aws_kms_key" "this" {
  description             = var.description
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [local.account_administers],
      length(var.log_group_names) > 0 ? [local.logs_encrypt] : [],
    )
  })
}

resource "aws_kms_alias" "this" {
  name          = var.alias
  target_key_id = aws_kms_key.this.key_id
}
