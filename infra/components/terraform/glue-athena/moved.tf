# The results bucket moved into infra/modules/secure-bucket: the same resources, under new
# addresses.
moved {
  from = aws_s3_bucket.results
  to   = module.results_bucket.aws_s3_bucket.bucket
}

moved {
  from = aws_s3_bucket_ownership_controls.results
  to   = module.results_bucket.aws_s3_bucket_ownership_controls.bucket
}

moved {
  from = aws_s3_bucket_public_access_block.results
  to   = module.results_bucket.aws_s3_bucket_public_access_block.bucket
}

moved {
  from = aws_s3_bucket_versioning.results
  to   = module.results_bucket.aws_s3_bucket_versioning.bucket
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.results
  to   = module.results_bucket.aws_s3_bucket_server_side_encryption_configuration.bucket
}

moved {
  from = aws_s3_bucket_logging.results
  to   = module.results_bucket.aws_s3_bucket_logging.bucket[0]
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.results
  to   = module.results_bucket.aws_s3_bucket_lifecycle_configuration.bucket
}

moved {
  from = aws_s3_bucket_policy.results
  to   = module.results_bucket.aws_s3_bucket_policy.bucket
}
