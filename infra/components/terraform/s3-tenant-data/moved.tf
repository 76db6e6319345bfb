# The bucket moved into infra/modules/secure-bucket: the same resources, under new addresses.
moved {
  from = aws_s3_bucket.tenant_data
  to   = module.bucket.aws_s3_bucket.bucket
}

moved {
  from = aws_s3_bucket_ownership_controls.tenant_data
  to   = module.bucket.aws_s3_bucket_ownership_controls.bucket
}

moved {
  from = aws_s3_bucket_public_access_block.tenant_data
  to   = module.bucket.aws_s3_bucket_public_access_block.bucket
}

moved {
  from = aws_s3_bucket_versioning.tenant_data
  to   = module.bucket.aws_s3_bucket_versioning.bucket
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.tenant_data
  to   = module.bucket.aws_s3_bucket_server_side_encryption_configuration.bucket
}

moved {
  from = aws_s3_bucket_logging.tenant_data
  to   = module.bucket.aws_s3_bucket_logging.bucket[0]
}

moved {
  from = aws_s3_bucket_lifecycle_configuration.tenant_data
  to   = module.bucket.aws_s3_bucket_lifecycle_configuration.bucket
}

moved {
  from = aws_s3_bucket_policy.tenant_data
  to   = module.bucket.aws_s3_bucket_policy.bucket
}
