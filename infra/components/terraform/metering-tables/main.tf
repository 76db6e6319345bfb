# The DynamoDB tables, with the key schemas `tally aws init` creates (aws/src/dynamodb.rs,
# aws/src/invoices.rs):
# - usage-rollups (tenant_id S, window S): one item per tenant, meter, granularity and window;
# - metering-state (pk S, sk S): ledger heads, quality counts, settings and the shard checkpoints
#   of `tally consume`;
# - invoices (tenant_id S, sk S): every revision of every invoice, each tenant's invoice number
#   sequence, and the quantities billed for each final period.
# No item carries an expiry attribute, so TTL stays off: rollups and invoices are kept forever,
# and a ledger head or a setting must never disappear (docs/exactly-once.md).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

resource "aws_kms_key" "tables" {
  description             = "DynamoDB tables ${var.rollups_table_name}, ${var.state_table_name} and ${var.invoices_table_name}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      # The account administers the key; callers of the tables need kms:Decrypt, kms:Encrypt,
      # kms:GenerateDataKey* and kms:DescribeKey on it through DynamoDB (kms:ViaService).
      Sid       = "AccountAdministersTheKey"
      Effect    = "Allow"
      Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_kms_alias" "tables" {
  name          = "alias/${var.namespace}-${var.stage}-metering-tables"
  target_key_id = aws_kms_key.tables.key_id
}

resource "aws_dynamodb_table" "rollups" {
  name                        = var.rollups_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "tenant_id"
  range_key                   = "window"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "tenant_id"
    type = "S"
  }

  attribute {
    name = "window"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.tables.arn
  }
}

resource "aws_dynamodb_table" "state" {
  name                        = var.state_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.tables.arn
  }
}

resource "aws_dynamodb_table" "invoices" {
  name                        = var.invoices_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "tenant_id"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "tenant_id"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.tables.arn
  }
}
