output "email_from" {
  description = "The sender (TALLY_EMAIL_FROM)."
  value       = var.email_from
}

output "identity_arn" {
  description = "The SES identity's ARN: the resource of the onboarding function's ses:SendEmail."
  value       = aws_sesv2_email_identity.sender.arn
}

output "dkim_records" {
  description = "The CNAME records that verify a domain identity (publish them in the domain's DNS); empty for an address."
  value = [
    for token in try(aws_sesv2_email_identity.sender.dkim_signing_attributes[0].tokens, []) : {
      name  = "${token}._domainkey.${local.email_identity}"
      type  = "CNAME"
      value = "${token}.dkim.amazonses.com"
    }
  ]
}
