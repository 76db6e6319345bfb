# Attribute-based access for tenant-scoped principals: one managed policy that lets a principal
# tagged tenant_id = T read only T's objects (tenants/T/ in the tenant data bucket) and only T's
# rollups (items whose leading key, tenant_id, is T). The tenant roles that would carry the tag
# (tenant-management and onboarding) do not exist yet; this policy is what they attach.

data "aws_region" "current" {}

locals {
  tenant = "$${aws:PrincipalTag/${var.tenant_tag_key}}"
}

data "aws_iam_policy_document" "tenant_usage_read" {
  statement {
    sid       = "ReadOwnTenantObjects"
    actions   = ["s3:GetObject"]
    resources = ["${var.tenant_data_bucket_arn}/tenants/${local.tenant}/*"]
    condition {
      test     = "Null"
      variable = "aws:PrincipalTag/${var.tenant_tag_key}"
      values   = ["false"]
    }
  }

  statement {
    sid       = "ListOwnTenantPrefix"
    actions   = ["s3:ListBucket"]
    resources = [var.tenant_data_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["tenants/${local.tenant}/*"]
    }
    condition {
      test     = "Null"
      variable = "aws:PrincipalTag/${var.tenant_tag_key}"
      values   = ["false"]
    }
  }

  statement {
    sid       = "ReadOwnRollups"
    actions   = ["dynamodb:GetItem", "dynamodb:Query"]
    resources = [var.rollups_table_arn]
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "dynamodb:LeadingKeys"
      values   = [local.tenant]
    }
    condition {
      test     = "Null"
      variable = "aws:PrincipalTag/${var.tenant_tag_key}"
      values   = ["false"]
    }
  }

  statement {
    sid       = "DecryptThroughS3AndDynamoDB"
    actions   = ["kms:Decrypt"]
    resources = [var.tenant_data_kms_key_arn, var.tables_kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values = [
        "s3.${data.aws_region.current.name}.amazonaws.com",
        "dynamodb.${data.aws_region.current.name}.amazonaws.com",
      ]
    }
  }
}

resource "aws_iam_policy" "tenant_usage_read" {
  name        = "${var.namespace}-${var.stage}-tally-tenant-usage-read"
  description = "Read one tenant's usage objects and rollups, the tenant taken from the principal tag ${var.tenant_tag_key}."
  policy      = data.aws_iam_policy_document.tenant_usage_read.json
}
