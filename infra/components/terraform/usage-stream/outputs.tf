output "stream_name" {
  description = "The usage stream's name (TALLY_STREAM_NAME of the functions)."
  value       = aws_kinesis_stream.usage.name
}

output "stream_arn" {
  description = "The usage stream's ARN."
  value       = aws_kinesis_stream.usage.arn
}

output "kms_key_arn" {
  description = "The key the stream is encrypted with: producers need kms:GenerateDataKey on it, readers kms:Decrypt."
  value       = aws_kms_key.stream.arn
}
