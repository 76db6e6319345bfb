# One S3 bucket as every Tally bucket is made: owner-enforced object ownership (no ACLs), every
# public access blocked, versioning, default encryption (SSE-KMS with a bucket key, or SSE-S3 for
# the access log bucket, which S3 server access logging requires), server access logs to the
# stack's log bucket, one lifecycle rule that always expires noncurrent versions and abandoned
# multipart uploads, and a policy that refuses every request not made over TLS (plus the
# caller's own statements).

resource "aws_s3_bucket" "bucket" {
  #checkov:skip=CKV_AWS_144:Cross-region replication needs a second region, bucket and key that this deployment does not define yet; versioning keeps overwritten and deleted objects for noncurrent_version_expiration_days.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object events of Tally's buckets: the consumer records its commits in DynamoDB, readers list the layout, and state, logs and query results have no subscriber.
  bucket = var.bucket_name
}

resource "aws_s3_bucket_ownership_controls" "bucket" {
  bucket = aws_s3_bucket.bucket.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "bucket" {
  bucket                  = aws_s3_bucket.bucket.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "bucket" {
  bucket = aws_s3_bucket.bucket.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "bucket" {
  bucket = aws_s3_bucket.bucket.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    # One data key per bucket instead of one KMS request per object.
    bucket_key_enabled = var.kms_key_arn == null ? null : true
  }
}

resource "aws_s3_bucket_logging" "bucket" {
  count         = var.access_log_bucket_name == null ? 0 : 1
  bucket        = aws_s3_bucket.bucket.id
  target_bucket = var.access_log_bucket_name
  target_prefix = "${var.bucket_name}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "bucket" {
  bucket = aws_s3_bucket.bucket.id
  rule {
    id     = var.lifecycle_rule_id
    status = "Enabled"
    # Every object: an empty prefix (an empty filter block warns on some provider versions).
    filter {
      prefix = ""
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
    # Either current objects expire after expiration_days, or only the delete markers left
    # without versions behind them go.
    dynamic "expiration" {
      for_each = var.expiration_days != null || var.expire_orphaned_delete_markers ? [1] : []
      content {
        days                         = var.expiration_days
        expired_object_delete_marker = var.expiration_days == null ? true : null
      }
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }
  # Prefixes whose noncurrent versions go sooner. Where rules overlap, S3 applies the earliest
  # expiration, so these shorten the bucket-wide rule for their prefix only.
  dynamic "rule" {
    for_each = var.noncurrent_version_expiration_days_by_prefix
    content {
      id     = "noncurrent-versions-${trim(replace(rule.key, "/", "-"), "-_")}"
      status = "Enabled"
      filter {
        prefix = rule.key
      }
      noncurrent_version_expiration {
        noncurrent_days = rule.value
      }
      abort_incomplete_multipart_upload {
        days_after_initiation = var.abort_incomplete_multipart_upload_days
      }
    }
  }
  depends_on = [aws_s3_bucket_versioning.bucket]
}

resource "aws_s3_bucket_policy" "bucket" {
  bucket = aws_s3_bucket.bucket.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(var.policy_statements, [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.bucket.arn, "${aws_s3_bucket.bucket.arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }])
  })
  depends_on = [aws_s3_bucket_public_access_block.bucket]
}
