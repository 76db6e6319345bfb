# Alarms and the dashboard of the data plane and the control plane. Alarms notify one encrypted
# SNS topic. The
# dashboard shows the consumer's per-tenant EMF figures (namespace Tally, dimension stream:
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
  workflow_alarms = {
    for pair in setproduct(keys(local.workflows), ["ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"]) :
    "${pair[0]}-${pair[1]}" => {
      workflow = pair[0]
      arn      = local.workflows[pair[0]]
      metric   = pair[1]
    }
  }
  # Queues that hold work which did not happen: any message is an alarm.
  queues = {
    (var.on_failure_queue_name)            = "The consumer's event source mapping gave up on a batch; the message names its shard and sequence numbers. Replay the records before the stream's retention ends (docs/deploy.md)."
    (var.invoice_dead_letter_queue_name)   = "An invoice run failed after its retries; the message holds its request. Run it again (docs/deploy.md)."
    (var.schedules_undelivered_queue_name) = "EventBridge Scheduler could not invoke the invoice generator; the message holds the request."
  }
  tables = {
    rollups = var.rollups_table_name
    state   = var.state_table_name
    tenants = var.tenants_table_name
  }
  table_throttles = {
    for pair in setproduct(keys(local.tables), ["ReadThrottleEvents", "WriteThrottleEvents"]) :
    "${pair[0]}-${pair[1]}" => {
      table  = local.tables[pair[0]]
      metric = pair[1]
    }
  }
  alarm_actions = [aws_sns_topic.alarms.arn]
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

resource "aws_cloudwatch_metric_alarm" "consumer_iterator_age" {
  alarm_name          = "${var.consumer_function_name}-iterator-age"
  alarm_description   = "The consumer is behind the usage stream: its oldest unprocessed record is older than ${var.iterator_age_threshold_ms} ms. Look for throttles, errors or retried batches."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = var.consumer_function_name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.iterator_age_threshold_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each            = local.functions
  alarm_name          = "${each.value}-errors"
  alarm_description   = "${each.value} failed invocations (an error returned, a panic or a timeout)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "function_throttles" {
  for_each            = local.functions
  alarm_name          = "${each.value}-throttles"
  alarm_description   = "${each.value} invocations were throttled: raise its reserved concurrency (the consumer needs one per shard)."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "queue_depth" {
  for_each            = local.queues
  alarm_name          = "${each.key}-depth"
  alarm_description   = each.value
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.key }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "table_throttles" {
  for_each            = local.table_throttles
  alarm_name          = "${each.value.table}-${each.value.metric}"
  alarm_description   = "DynamoDB throttled requests on ${each.value.table}; the consumer retries the tenant's batch (its iterator age grows), the admin API answers 503, an onboarding step retries."
  namespace           = "AWS/DynamoDB"
  metric_name         = each.value.metric
  dimensions          = { TableName = each.value.table }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "stream_write_throttles" {
  alarm_name          = "${var.stream_name}-write-throttles"
  alarm_description   = "Producers were throttled by the usage stream; they retry, but sustained throttling means the stream needs more shards."
  namespace           = "AWS/Kinesis"
  metric_name         = "WriteProvisionedThroughputExceeded"
  dimensions          = { StreamName = var.stream_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "workflow_failures" {
  for_each            = local.workflow_alarms
  alarm_name          = "tally-${each.value.workflow}-${each.value.metric}"
  alarm_description   = "A ${each.value.workflow} execution ended badly (${each.value.metric}). Find it with aws stepfunctions list-executions --status-filter FAILED (or TIMED_OUT, ABORTED), read its failed step in describe-execution, and see the tenant's status and audit log (GET /admin/tenants/{id}, .../audit); docs/deploy.md."
  namespace           = "AWS/States"
  metric_name         = each.value.metric
  dimensions          = { StateMachineArn = each.value.arn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "database_cpu" {
  alarm_name          = "${var.database_instance_identifier}-cpu"
  alarm_description   = "The shared PostgreSQL has been busy for 15 minutes: see its Performance Insights for the statements, and consider a larger instance class (rds-shared)."
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  dimensions          = { DBInstanceIdentifier = var.database_instance_identifier }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 80
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "database_storage" {
  alarm_name          = "${var.database_instance_identifier}-free-storage"
  alarm_description   = "The shared PostgreSQL has less than ${var.database_free_storage_threshold_gb} GB free; storage autoscaling stops at rds-shared's max_allocated_storage_gb."
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  dimensions          = { DBInstanceIdentifier = var.database_instance_identifier }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "LessThanThreshold"
  threshold           = var.database_free_storage_threshold_gb * 1024 * 1024 * 1024
  treat_missing_data  = "breaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "api_server_errors" {
  alarm_name          = "${var.api_id}-5xx"
  alarm_description   = "The HTTP API answered 5xx: POST /v1/events (the ingest function) or the admin API (tenant-management) failed or timed out."
  namespace           = "AWS/ApiGateway"
  metric_name         = "5xx"
  dimensions          = { ApiId = var.api_id, Stage = var.api_stage_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
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
            for queue in keys(local.queues) :
            ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue]
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
