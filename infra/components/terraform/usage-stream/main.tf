# The Kinesis usage stream every producer writes to (tally emit, usage-ingest, the seed's boto3
# producer) and the usage-consumer Lambda reads, encrypted with its own key.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

resource "aws_kms_key" "stream" {
  description             = "Kinesis stream ${var.stream_name}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      # The account administers the key; the producers' and the consumer's IAM policies grant
      # kms:GenerateDataKey and kms:Decrypt on it.
      Sid       = "AccountAdministersTheKey"
      Effect    = "Allow"
      Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_kms_alias" "stream" {
  name          = "alias/${var.namespace}-${var.stage}-usage-stream"
  target_key_id = aws_kms_key.stream.key_id
}

resource "aws_kinesis_stream" "usage" {
  name             = var.stream_name
  shard_count      = var.stream_mode == "PROVISIONED" ? var.shard_count : null
  retention_period = var.retention_period_hours
  encryption_type  = "KMS"
  kms_key_id       = aws_kms_key.stream.arn

  stream_mode_details {
    stream_mode = var.stream_mode
  }
}
