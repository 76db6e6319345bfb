# The invoice runs on EventBridge Scheduler: every day the current month's drafts
# ({"action": "draft"}), and once a month, after the grace period, last month's final invoices
# ({"action": "finalize"}); functions/invoice-generator/src/lib.rs reads these payloads.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  # Hours from the start of a month to the finalize run, which must not fall inside the grace
  # (the function refuses to finalize then, and the month would wait for the next one).
  finalize_after_hours = (var.finalize_day_of_month - 1) * 24 + var.finalize_hour_utc
  schedules = {
    draft = {
      expression  = var.draft_schedule_expression
      description = "Recompute the current month's draft invoices."
      input       = { action = "draft" }
    }
    finalize = {
      expression  = "cron(0 ${var.finalize_hour_utc} ${var.finalize_day_of_month} * ? *)"
      description = "Finalize last month's invoices after the grace period."
      input       = { action = "finalize" }
    }
  }
}

resource "aws_kms_key" "schedules" {
  description             = "Tally invoice schedules and their dead-letter queue"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministersTheKey"
      Effect    = "Allow"
      Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_kms_alias" "schedules" {
  name          = "alias/${var.namespace}-${var.stage}-tally-schedules"
  target_key_id = aws_kms_key.schedules.key_id
}

# Invocations the scheduler could not deliver after its retries.
resource "aws_sqs_queue" "undelivered" {
  name                              = "tally-schedules-undelivered"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = aws_kms_key.schedules.arn
  kms_data_key_reuse_period_seconds = 300
}

resource "aws_iam_role" "scheduler" {
  name = "${var.namespace}-${var.stage}-tally-schedules"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "InvokeTheInvoiceGenerator"
    actions   = ["lambda:InvokeFunction"]
    resources = [var.invoice_generator_function_arn]
  }

  statement {
    sid       = "KeepUndeliveredInvocations"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.undelivered.arn]
  }

  statement {
    sid       = "UseTheSchedulesKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.schedules.arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "invoke-invoice-generator"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "invoices" {
  for_each                     = local.schedules
  name                         = "tally-invoices-${each.key}"
  description                  = each.value.description
  schedule_expression          = each.value.expression
  schedule_expression_timezone = "UTC"
  kms_key_arn                  = aws_kms_key.schedules.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = var.invoice_generator_function_arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode(each.value.input)

    retry_policy {
      maximum_retry_attempts       = 3
      maximum_event_age_in_seconds = 3600
    }

    dead_letter_config {
      arn = aws_sqs_queue.undelivered.arn
    }
  }

  lifecycle {
    precondition {
      condition     = local.finalize_after_hours >= var.invoice_grace_hours
      error_message = "The finalize schedule runs ${local.finalize_after_hours} hours into the month, inside the invoice generator's grace of ${var.invoice_grace_hours} hours."
    }
  }
}
