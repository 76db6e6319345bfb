# The buckets moved into infra/modules/secure-bucket: the same resources, under new addresses.
moved {
  from = aws_s3_bucket.state
  to   = module.state_bucket.aws_s3_bucket.bucket
}

moved {
  from = aws_s3_bucket_ownership_controls.state
  to   = module.state_bucket.aws_s3_bucket_ownership_controls.bucket
}

moved {
  from = aws_s3_bucket_public_access_block.state
  to   = module.state_bucket.aws_s3_bucket_public_access_block.bucket
}

moved {
  from = aws_s3_bucket_versioning.state
  to   = module.state_bucket.aws_s3_bucket_versioning.bucket
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.state
  to   = module.state_bucket.aws_s3_bucket_server_side_encryption_configuration.bucket
}

moved {
  from = aws_s3_bucket_logging.state
  to   = module.state_bucket.aws_s3_bucket_logging.bucket[0]
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.state
  to   = module.state_bucket.aws_s3_bucket_lifecycle_configuration.bucket
}

moved {
  from = aws_s3_bucket_policy.state
  to   = module.state_bucket.aws_s3_bucket_policy.bucket
}

moved {
  from = aws_s3_bucket.access_logs
  to   = module.access_log_bucket.aws_s3_bucket.bucket
}

moved {
  from = aws_s3_bucket_ownership_controls.access_logs
  to   = module.access_log_bucket.aws_s3_bucket_ownership_controls.bucket
}

moved {
  from = aws_s3_bucket_public_access_block.access_logs
  to   = module.access_log_bucket.aws_s3_bucket_public_access_block.bucket
}

moved {
  from = aws_s3_bucket_versioning.access_logs
  to   = module.access_log_bucket.aws_s3_bucket_versioning.bucket
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.access_logs
  to   = module.access_log_bucket.aws_s3_bucket_server_side_encryption_configuration.bucket
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.access_logs
  to   = module.access_log_bucket.aws_s3_bucket_lifecycle_configuration.bucket
}

moved {
  from = aws_s3_bucket_policy.access_logs
  to   = module.access_log_bucket.aws_s3_bucket_policy.bucket
}
