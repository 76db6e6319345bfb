# Every alarm of the stack, one resource for all: each entry of local.alarms is what sets one
# alarm apart (its metric, dimensions and why it matters), local.alarm_defaults what they share.
# Most alarm on any occurrence (a sum above zero over five minutes); missing data is normal and
# does not alarm, except free storage, where silence means the metric stopped arriving.
# moved.tf maps the alarms' addresses from when each kind had its own resource.

locals {
  alarm_defaults = {
    statistic           = "Sum"
    period              = 300
    evaluation_periods  = 1
    datapoints_to_alarm = null
    comparison_operator = "GreaterThanThreshold"
    threshold           = 0
    treat_missing_data  = "notBreaching"
  }

  # Any failed or throttled invocation of a function.
  function_metrics = {
    errors    = { metric = "Errors", description = "failed invocations (an error returned, a panic or a timeout)." }
    throttles = { metric = "Throttles", description = "invocations were throttled: raise its reserved concurrency (the consumer needs one per shard)." }
  }
  function_alarms = {
    for pair in setproduct(keys(local.functions), keys(local.function_metrics)) :
    "${pair[0]}-${pair[1]}" => {
      name        = "${local.functions[pair[0]]}-${pair[1]}"
      description = "${local.functions[pair[0]]} ${local.function_metrics[pair[1]].description}"
      namespace   = "AWS/Lambda"
      metric      = local.function_metrics[pair[1]].metric
      dimensions  = { FunctionName = local.functions[pair[0]] }
    }
  }

  queue_alarms = {
    for key, queue in local.queues : "queue-${key}-depth" => {
      name        = "${queue.name}-depth"
      description = queue.description
      namespace   = "AWS/SQS"
      metric      = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = queue.name }
      statistic   = "Maximum"
    }
  }

  table_alarms = {
    for pair in setproduct(keys(local.tables), ["ReadThrottleEvents", "WriteThrottleEvents"]) :
    "table-${pair[0]}-${pair[1]}" => {
      name        = "${local.tables[pair[0]]}-${pair[1]}"
      description = "DynamoDB throttled requests on ${local.tables[pair[0]]}; the consumer retries the tenant's batch (its iterator age grows), the admin API answers 503, an onboarding step retries."
      namespace   = "AWS/DynamoDB"
      metric      = pair[1]
      dimensions  = { TableName = local.tables[pair[0]] }
    }
  }

  # The control plane's workflows: an execution that failed, timed out or was aborted left a
  # tenant in onboarding_failed or half offboarded (the state machine compensated what it could).
  workflow_alarms = {
    for pair in setproduct(keys(local.workflows), ["ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"]) :
    "workflow-${pair[0]}-${pair[1]}" => {
      name        = "tally-${pair[0]}-${pair[1]}"
      description = "A ${pair[0]} execution ended badly (${pair[1]}). Find it with aws stepfunctions list-executions --status-filter FAILED (or TIMED_OUT, ABORTED), read its failed step in describe-execution, and see the tenant's status and audit log (GET /admin/tenants/{id}, .../audit); docs/deploy.md."
      namespace   = "AWS/States"
      metric      = pair[1]
      dimensions  = { StateMachineArn = local.workflows[pair[0]] }
    }
  }

  single_alarms = {
    consumer-iterator-age = {
      name                = "${var.consumer_function_name}-iterator-age"
      description         = "The consumer is behind the usage stream: its oldest unprocessed record is older than ${var.iterator_age_threshold_ms} ms. Look for throttles, errors or retried batches."
      namespace           = "AWS/Lambda"
      metric              = "IteratorAge"
      dimensions          = { FunctionName = var.consumer_function_name }
      statistic           = "Maximum"
      period              = 60
      evaluation_periods  = 5
      datapoints_to_alarm = 5
      threshold           = var.iterator_age_threshold_ms
    }
    stream-write-throttles = {
      name                = "${var.stream_name}-write-throttles"
      description         = "Producers were throttled by the usage stream; they retry, but sustained throttling means the stream needs more shards."
      namespace           = "AWS/Kinesis"
      metric              = "WriteProvisionedThroughputExceeded"
      dimensions          = { StreamName = var.stream_name }
      evaluation_periods  = 3
      datapoints_to_alarm = 3
    }
    database-cpu = {
      name                = "${var.database_instance_identifier}-cpu"
      description         = "The shared PostgreSQL has been busy for 15 minutes: see its Performance Insights for the statements, and consider a larger instance class (rds-shared)."
      namespace           = "AWS/RDS"
      metric              = "CPUUtilization"
      dimensions          = { DBInstanceIdentifier = var.database_instance_identifier }
      statistic           = "Average"
      evaluation_periods  = 3
      datapoints_to_alarm = 3
      threshold           = 80
    }
    database-free-storage = {
      name                = "${var.database_instance_identifier}-free-storage"
      description         = "The shared PostgreSQL has less than ${var.database_free_storage_threshold_gb} GB free; storage autoscaling stops at rds-shared's max_allocated_storage_gb."
      namespace           = "AWS/RDS"
      metric              = "FreeStorageSpace"
      dimensions          = { DBInstanceIdentifier = var.database_instance_identifier }
      statistic           = "Minimum"
      comparison_operator = "LessThanThreshold"
      threshold           = var.database_free_storage_threshold_gb * 1024 * 1024 * 1024
      treat_missing_data  = "breaching"
    }
    api-5xx = {
      name        = "${var.api_id}-5xx"
      description = "The HTTP API answered 5xx: POST /v1/events (the ingest function) or the admin API (tenant-management) failed or timed out."
      namespace   = "AWS/ApiGateway"
      metric      = "5xx"
      dimensions  = { ApiId = var.api_id, Stage = var.api_stage_name }
    }
  }

  alarms = {
    for key, alarm in merge(
      local.single_alarms, local.function_alarms, local.queue_alarms, local.table_alarms, local.workflow_alarms,
    ) : key => merge(local.alarm_defaults, alarm)
  }
  alarm_actions = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "alarm" {
  for_each            = local.alarms
  alarm_name          = each.value.name
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = each.value.period
  evaluation_periods  = each.value.evaluation_periods
  datapoints_to_alarm = each.value.datapoints_to_alarm
  comparison_operator = each.value.comparison_operator
  threshold           = each.value.threshold
  treat_missing_data  = each.value.treat_missing_data
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}
