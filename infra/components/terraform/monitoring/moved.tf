# Each kind of alarm had a resource of its own; they are now entries of
# aws_cloudwatch_metric_alarm.alarm (alarms.tf). These blocks move each alarm in the state, so that
# none is deleted and created again under its own name. The queue alarms were keyed by queue name:
# their old addresses are those of the default names (usage-consumer, invoice-generator), which
# the stacks keep.

moved {
  from = aws_cloudwatch_metric_alarm.consumer_iterator_age
  to   = aws_cloudwatch_metric_alarm.alarm["consumer-iterator-age"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["consumer"]
  to   = aws_cloudwatch_metric_alarm.alarm["consumer-errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_throttles["consumer"]
  to   = aws_cloudwatch_metric_alarm.alarm["consumer-throttles"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["ingest"]
  to   = aws_cloudwatch_metric_alarm.alarm["ingest-errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_throttles["ingest"]
  to   = aws_cloudwatch_metric_alarm.alarm["ingest-throttles"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["invoices"]
  to   = aws_cloudwatch_metric_alarm.alarm["invoices-errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_throttles["invoices"]
  to   = aws_cloudwatch_metric_alarm.alarm["invoices-throttles"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["tenant_management"]
  to   = aws_cloudwatch_metric_alarm.alarm["tenant_management-errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_throttles["tenant_management"]
  to   = aws_cloudwatch_metric_alarm.alarm["tenant_management-throttles"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_errors["onboarding"]
  to   = aws_cloudwatch_metric_alarm.alarm["onboarding-errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.function_throttles["onboarding"]
  to   = aws_cloudwatch_metric_alarm.alarm["onboarding-throttles"]
}

moved {
  from = aws_cloudwatch_metric_alarm.queue_depth["usage-consumer-on-failure"]
  to   = aws_cloudwatch_metric_alarm.alarm["queue-on_failure-depth"]
}

moved {
  from = aws_cloudwatch_metric_alarm.queue_depth["invoice-generator-dead-letter"]
  to   = aws_cloudwatch_metric_alarm.alarm["queue-invoice_dead_letter-depth"]
}

moved {
  from = aws_cloudwatch_metric_alarm.queue_depth["tally-schedules-undelivered"]
  to   = aws_cloudwatch_metric_alarm.alarm["queue-schedules_undelivered-depth"]
}

moved {
  from = aws_cloudwatch_metric_alarm.table_throttles["rollups-ReadThrottleEvents"]
  to   = aws_cloudwatch_metric_alarm.alarm["table-rollups-ReadThrottleEvents"]
}

moved {
  from = aws_cloudwatch_metric_alarm.table_throttles["rollups-WriteThrottleEvents"]
  to   = aws_cloudwatch_metric_alarm.alarm["table-rollups-WriteThrottleEvents"]
}

moved {
  from = aws_cloudwatch_metric_alarm.table_throttles["state-ReadThrottleEvents"]
  to   = aws_cloudwatch_metric_alarm.alarm["table-state-ReadThrottleEvents"]
}

moved {
  from = aws_cloudwatch_metric_alarm.table_throttles["state-WriteThrottleEvents"]
  to   = aws_cloudwatch_metric_alarm.alarm["table-state-WriteThrottleEvents"]
}

moved {
  from = aws_cloudwatch_metric_alarm.table_throttles["tenants-ReadThrottleEvents"]
  to   = aws_cloudwatch_metric_alarm.alarm["table-tenants-ReadThrottleEvents"]
}

moved {
  from = aws_cloudwatch_metric_alarm.table_throttles["tenants-WriteThrottleEvents"]
  to   = aws_cloudwatch_metric_alarm.alarm["table-tenants-WriteThrottleEvents"]
}

moved {
  from = aws_cloudwatch_metric_alarm.stream_write_throttles
  to   = aws_cloudwatch_metric_alarm.alarm["stream-write-throttles"]
}

moved {
  from = aws_cloudwatch_metric_alarm.workflow_failures["onboarding-ExecutionsFailed"]
  to   = aws_cloudwatch_metric_alarm.alarm["workflow-onboarding-ExecutionsFailed"]
}

moved {
  from = aws_cloudwatch_metric_alarm.workflow_failures["onboarding-ExecutionsTimedOut"]
  to   = aws_cloudwatch_metric_alarm.alarm["workflow-onboarding-ExecutionsTimedOut"]
}

moved {
  from = aws_cloudwatch_metric_alarm.workflow_failures["onboarding-ExecutionsAborted"]
  to   = aws_cloudwatch_metric_alarm.alarm["workflow-onboarding-ExecutionsAborted"]
}

moved {
  from = aws_cloudwatch_metric_alarm.workflow_failures["offboarding-ExecutionsFailed"]
  to   = aws_cloudwatch_metric_alarm.alarm["workflow-offboarding-ExecutionsFailed"]
}

moved {
  from = aws_cloudwatch_metric_alarm.workflow_failures["offboarding-ExecutionsTimedOut"]
  to   = aws_cloudwatch_metric_alarm.alarm["workflow-offboarding-ExecutionsTimedOut"]
}

moved {
  from = aws_cloudwatch_metric_alarm.workflow_failures["offboarding-ExecutionsAborted"]
  to   = aws_cloudwatch_metric_alarm.alarm["workflow-offboarding-ExecutionsAborted"]
}

moved {
  from = aws_cloudwatch_metric_alarm.database_cpu
  to   = aws_cloudwatch_metric_alarm.alarm["database-cpu"]
}

moved {
  from = aws_cloudwatch_metric_alarm.database_storage
  to   = aws_cloudwatch_metric_alarm.alarm["database-free-storage"]
}

moved {
  from = aws_cloudwatch_metric_alarm.api_server_errors
  to   = aws_cloudwatch_metric_alarm.alarm["api-5xx"]
}
