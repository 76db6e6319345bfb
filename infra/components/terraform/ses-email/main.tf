# The SES identity the control plane's email is sent from (the onboarding function's Notify step:
# the welcome email, from TALLY_EMAIL_FROM). A domain identity is verified by the DKIM records of
# output dkim_records, published in the domain's DNS; an address identity by the link SES emails
# to it. A new account's SES is in the sandbox: it sends only to verified addresses until
# production access is granted (docs/deploy.md).

locals {
  sender_domain  = element(split("@", var.email_from), 1)
  email_identity = coalesce(var.email_identity, local.sender_domain)
  is_domain      = !strcontains(local.email_identity, "@")
}

check "sender_belongs_to_the_identity" {
  assert {
    condition     = local.is_domain ? local.sender_domain == local.email_identity : var.email_from == local.email_identity
    error_message = "email_from must be the address of email_identity, or an address of its domain."
  }
}

resource "aws_sesv2_email_identity" "sender" {
  email_identity = local.email_identity

  dynamic "dkim_signing_attributes" {
    for_each = local.is_domain ? [1] : []
    content {
      next_signing_key_length = "RSA_2048_BIT"
    }
  }
}
