# Attribute-based access for tenant-scoped principals, and the ceiling of every tenant role:
# - tenant_usage_read: a principal tagged tenant_id = T reads only T's objects (tenants/T/ in the
#   tenant data bucket) and only T's rollups (items whose leading key, tenant_id, is T);
# - tally-tenant-boundary: the permissions boundary of the roles the onboarding function's
#   ProvisionStorage step creates under /tally/tenants/ (control-aws/src/storage.rs). Whatever
#   policy such a role is given, it can do no more than this: T's objects (read and write), T's
#   listing and T's rollups, with the keys through S3 and DynamoDB. The onboarding function may
#   create a role only with this boundary (lambda-onboarding), so a tenant policy it writes
#   cannot lift a tenant role out of the tenant's prefix. The boundary lives under /tally/, not
#   /tally/tenants/, where the onboarding function may delete and attach policies.

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

data "aws_iam_policy_document" "tenant_boundary" {
  # Everything a tenant's principal may read, as above, and no more.
  source_policy_documents = [data.aws_iam_policy_document.tenant_usage_read.json]

  # The tenant storage policies let the role write its own prefix too (tally-tenancy's
  # storage_policy): PutObject there, and a data key of the bucket's key to do it with.
  statement {
    sid       = "WriteOwnTenantObjects"
    actions   = ["s3:PutObject"]
    resources = ["${var.tenant_data_bucket_arn}/tenants/${local.tenant}/*"]
    condition {
      test     = "Null"
      variable = "aws:PrincipalTag/${var.tenant_tag_key}"
      values   = ["false"]
    }
  }

  statement {
    sid       = "EncryptThroughS3"
    actions   = ["kms:GenerateDataKey"]
    resources = [var.tenant_data_kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.current.name}.amazonaws.com"]
    }
  }
}

resource "aws_iam_policy" "tenant_boundary" {
  name        = "tally-tenant-boundary"
  path        = "/tally/"
  description = "Permissions boundary of every Tally tenant role: its tenant's prefix of the tenant data bucket and its tenant's rollups, the tenant taken from the principal tag ${var.tenant_tag_key}."
  policy      = data.aws_iam_policy_document.tenant_boundary.json
}
