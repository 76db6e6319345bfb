# The control plane's tenants table, with the key schema `tally aws init` creates
# (control-aws/src/tenants.rs create_table): pk (S) and sk (S), on demand.
# - tenant records: pk = "tenant", sk = {tenant_id}, with the tenant as JSON, its version and
#   status;
# - idempotency keys of POST /admin/tenants: pk = "idempotency", sk = SHA-256 of the key, with
#   expires_at (epoch seconds) 24 hours after the claim: the table's TTL attribute. DynamoDB
#   deletes expired keys within days, not at once, so the code also compares expires_at with
#   the time itself.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

resource "aws_kms_key" "tenants" {
  description             = "DynamoDB table ${var.tenants_table_name} (the control plane's tenants)"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      # The account administers the key; callers of the table need kms:Decrypt, kms:Encrypt,
      # kms:GenerateDataKey* and kms:DescribeKey on it through DynamoDB (kms:ViaService).
      Sid       = "AccountAdministersTheKey"
      Effect    = "Allow"
      Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_kms_alias" "tenants" {
  name          = "alias/${var.namespace}-${var.stage}-tenant-management-db"
  target_key_id = aws_kms_key.tenants.key_id
}

resource "aws_dynamodb_table" "tenants" {
  name                        = var.tenants_table_name
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

  # Only idempotency keys carry the attribute; tenant records never expire.
  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.tenants.arn
  }
}
