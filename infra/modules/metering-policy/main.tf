# The statements every function that commits usage needs, written once: the usage consumer, the
# invoice generator (a run brings each tenant's gauges up to date, which commits like the consumer
# does) and the onboarding function (offboarding's final invoice does the same for one tenant).
# Each caller says which objects it publishes and what it does with each table; the module gives
# the statements as one policy document (output json), which the caller adds to its own with
# source_policy_documents.

data "aws_region" "current" {}

locals {
  through_dynamodb = "dynamodb.${data.aws_region.current.name}.amazonaws.com"
}

data "aws_iam_policy_document" "metering" {
  # Staged objects and ledger records are written, read back, promoted (CopyObject reads the
  # source) and deleted once promoted or superseded.
  statement {
    sid     = "StageAndKeepLedgers"
    actions = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    resources = [
      "${var.tenant_data_bucket_arn}/_staging/stream/*",
      "${var.tenant_data_bucket_arn}/_ledger/*",
    ]
  }

  # Promotion targets (CopyObject writes them, HeadObject checks them after a crash), the
  # quarantine, and whatever else the caller publishes under the layout. Nothing is deleted here.
  statement {
    sid       = "PublishUnderTheLayout"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = [for prefix in var.published_prefixes : "${var.tenant_data_bucket_arn}/${prefix}"]
  }

  # Without s3:ListBucket, HeadObject and GetObject of a missing key answer 403 instead of 404,
  # and the code tells a missing object by the 404 (a promotion's "source gone, target present"
  # check, a new invoice). HeadObject carries no s3:prefix, so this cannot be narrowed by prefix.
  statement {
    sid       = "TellMissingKeysApart"
    actions   = ["s3:ListBucket"]
    resources = [var.tenant_data_bucket_arn]
  }

  statement {
    sid       = "UseTheTenantDataKey"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.tenant_data_kms_key_arn]
  }

  # Ledger heads (GetItem, conditional PutItem), quality counts (UpdateItem), the dedup key and
  # meter signatures (Query, GetItem, PutItem); Scan only for a caller that runs over every
  # tenant.
  statement {
    sid       = "KeepLedgerHeadsAndCounts"
    actions   = var.state_table_actions
    resources = [var.state_table_arn]
  }

  # Sums and counts are one conditional UpdateItem; max and latest rollups are read (GetItem)
  # and written back (conditional PutItem).
  statement {
    sid       = "ApplyRollups"
    actions   = var.rollups_table_actions
    resources = [var.rollups_table_arn]
  }

  # An invoice is stored with one TransactWriteItems of conditional Puts (aws/src/invoices.rs);
  # IAM authorizes each Put as dynamodb:PutItem.
  dynamic "statement" {
    for_each = var.invoices_table_arn == null ? [] : [var.invoices_table_arn]
    content {
      sid       = "StoreInvoices"
      actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
      resources = [statement.value]
    }
  }

  # Metering counts only registered tenants: the registry is read at most once a minute
  # (runtime/src/registry.rs), and each invoice run checks their quotas (runtime/src/quotas.rs).
  dynamic "statement" {
    for_each = var.tenants_table_arn == null ? [] : [var.tenants_table_arn]
    content {
      sid       = "ReadTheTenantRegistry"
      actions   = ["dynamodb:Query"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.tenants_table_arn == null ? [] : [var.tenants_kms_key_arn]
    content {
      sid       = "UseTheTenantsKeyThroughDynamoDB"
      actions   = ["kms:Decrypt", "kms:DescribeKey"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = [local.through_dynamodb]
      }
    }
  }

  statement {
    sid       = "UseTheTablesKeysThroughDynamoDB"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*"]
    resources = var.table_kms_key_arns
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = [local.through_dynamodb]
    }
  }
}
