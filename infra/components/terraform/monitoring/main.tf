# Alarms and the dashboard of the data plane and the control plane. The alarms (alarms.tf) notify
# one encrypted SNS topic. The dashboard shows the consumer's per-tenant EMF figures (namespace Tally, dimension stream:
# Accepted, Duplicates, Rejected, Late; functions/usage-consumer/src/lib.rs) summed over tenants,
# and a Logs Insights table of the same figures by tenant_id, which the EMF lines carry as a
# property rather than a dimension so that tenants do not multiply metrics.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  # The consumer's EMF figures (functions/usage-consumer/src/lib.rs: METRICS_NAMESPACE, the
  # Dimensions and the Metrics of metric_lines); tests/infra/test_drift.py holds them equal.
  metrics_namespace = "Tally"
  emf_dimension     = "stream"
  emf_metrics       = ["Accepted", "Duplicates", "Rejected", "Late"]

  functions = {
    consumer          = var.consumer_function_name
    ingest            = var.ingest_function_name
    invoices          = var.invoice_generator_function_name
    tenant_management = var.tenant_management_function_name
    onboarding        = var.onboarding_function_name
  }
  # The control plane's workflows: an execution that failed, timed out or was aborted left a
  # tenant in onboarding_failed or half offboarded (the state machine compensated what it could).
  workflows = {
    onboarding  = var.onboarding_state_machine_arn
    offboarding = var.offboarding_state_machine_arn
  }
  # Queues that hold work which did not happen: any message is an alarm.
  queues = {
    on_failure = {
      name        = var.on_failure_queue_name
      description = "The consumer's event source mapping gave up on a batch; the message names its shard and sequence numbers. Replay the records before the stream's retention ends (docs/deploy.md)."
    }
    invoice_dead_letter = {
      name        = var.invoice_dead_letter_queue_name
      description = "An invoice run failed after its retries; the message holds its request. Run it again (docs/deploy.md)."
    }
    schedules_undelivered = {
      name        = var.schedules_undelivered_queue_name
      description = "EventBridge Scheduler could not invoke the invoice generator; the message holds the request."
    }
  }
  tables = {
    rollups = var.rollups_table_name
    state   = var.state_table_name
    tenants = var.tenants_table_name
  }
}

resource "aws_kms_key" "alarms" {
  description             = "Tally alarm topic"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersTheKey"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # CloudWatch publishes alarm notifications to the encrypted topic.
        Sid       = "CloudWatchPublishesAlarms"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
    ]
  })
}

resource "aws_kms_alias" "alarms" {
  name          = "alias/${var.namespace}-${var.stage}-tally-alarms"
  target_key_id = aws_kms_key.alarms.key_id
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.namespace}-${var.stage}-tally-alarms"
  kms_master_key_id = aws_kms_key.alarms.arn
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_email_addresses)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_cloudwatch_dashboard" "tally" {
  dashboard_name = var.dashboard_name
  dashboard_body = jsonencode({
    widgets = [
      {
        type   = "metric"
        x      = 0
        y      = 0
        width  = 12
        height = 6
        properties = {
          title  = "Usage events by outcome (EMF, all tenants)"
          region = local.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 300
          metrics = [
            for name in local.emf_metrics :
            [local.metrics_namespace, name, local.emf_dimension, var.stream_name]
          ]
        }
      },
      {
        type   = "metric"
        x      = 12
        y      = 0
        width  = 12
        height = 6
        properties = {
          title  = "Consumer: iterator age (ms, max)"
          region = local.region
          view   = "timeSeries"
          stat   = "Maximum"
          period = 60
          metrics = [
            ["AWS/Lambda", "IteratorAge", "FunctionName", var.consumer_function_name],
          ]
        }
      },
      {
        type   = "log"
        x      = 0
        y      = 6
        width  = 24
        height = 8
        properties = {
          title  = "Usage events by tenant (EMF lines of the consumer)"
          region = local.region
          view   = "table"
          query  = <<-QUERY
            SOURCE '${var.consumer_log_group_name}'
            | filter ispresent(tenant_id) and ispresent(Accepted)
            | stats sum(Accepted) as accepted, sum(Duplicates) as duplicates, sum(Rejected) as rejected, sum(Late) as late by tenant_id
            | sort accepted desc
            | limit 100
          QUERY
        }
      },
      {
        type   = "metric"
        x      = 0
        y      = 14
        width  = 8
        height = 6
        properties = {
          title  = "Functions: errors and throttles"
          region = local.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 300
          # One metric array per (function, metric): setproduct, not flatten, which would also
          # flatten the metric arrays themselves into one list of strings.
          metrics = [
            for pair in setproduct(values(local.functions), ["Errors", "Throttles"]) :
            ["AWS/Lambda", pair[1], "FunctionName", pair[0]]
          ]
        }
      },
      {
        type   = "metric"
        x      = 8
        y      = 14
        width  = 8
        height = 6
        properties = {
          title  = "Functions: duration (ms, p99)"
          region = local.region
          view   = "timeSeries"
          stat   = "p99"
          period = 300
          metrics = [
            for function in values(local.functions) :
            ["AWS/Lambda", "Duration", "FunctionName", function]
          ]
        }
      },
      {
        type   = "metric"
        x      = 16
        y      = 14
        width  = 8
        height = 6
        properties = {
          title  = "Work that did not happen (on-failure and dead-letter queues)"
          region = local.region
          view   = "timeSeries"
          stat   = "Maximum"
          period = 300
          metrics = [
            for queue in values(local.queues) :
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue.name]
          ]
        }
      },
      {
        type   = "metric"
        x      = 0
        y      = 20
        width  = 8
        height = 6
        properties = {
          title  = "Usage stream: records in, write throttles"
          region = local.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 300
          metrics = [
            ["AWS/Kinesis", "IncomingRecords", "StreamName", var.stream_name],
            ["AWS/Kinesis", "WriteProvisionedThroughputExceeded", "StreamName", var.stream_name],
          ]
        }
      },
      {
        type   = "metric"
        x      = 8
        y      = 20
        width  = 8
        height = 6
        properties = {
          title  = "DynamoDB: write units and throttles"
          region = local.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 300
          metrics = [
            for pair in setproduct(
              [var.rollups_table_name, var.state_table_name, var.tenants_table_name],
              ["ConsumedWriteCapacityUnits", "WriteThrottleEvents", "ReadThrottleEvents"],
            ) :
            ["AWS/DynamoDB", pair[1], "TableName", pair[0]]
          ]
        }
      },
      {
        type   = "metric"
        x      = 16
        y      = 20
        width  = 8
        height = 6
        properties = {
          title  = "POST /v1/events: requests, 4xx, 5xx"
          region = local.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 300
          metrics = [
            for name in ["Count", "4xx", "5xx"] :
            ["AWS/ApiGateway", name, "ApiId", var.api_id, "Stage", var.api_stage_name]
          ]
        }
      },
      {
        type   = "log"
        x      = 0
        y      = 26
        width  = 24
        height = 6
        properties = {
          title  = "Ingest requests by outcome"
          region = local.region
          view   = "table"
          query  = <<-QUERY
            SOURCE '${var.ingest_log_group_name}'
            | filter message = "usage request"
            | stats count(*) as requests, sum(events) as events, sum(accepted) as accepted, sum(refused) as refused, sum(failed) as failed by status
            | sort requests desc
          QUERY
        }
      },
      {
        type   = "metric"
        x      = 0
        y      = 32
        width  = 24
        height = 6
        properties = {
          title  = "Onboarding and offboarding executions"
          region = local.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 300
          metrics = [
            for pair in setproduct(
              keys(local.workflows),
              ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"],
            ) :
            ["AWS/States", pair[1], "StateMachineArn", local.workflows[pair[0]], { label = "${pair[0]} ${pair[1]}" }]
          ]
        }
      },
    ]
  })
}
