# What finance queries with Athena: a Glue database with the events table and the invoice lines
# table over the tenant data bucket (partition projection over exactly the layout of
# schemas/src/layout.rs, columns exactly the Arrow schemas of schemas/src/table.rs), a workgroup
# with an enforced, encrypted result location, the finance queries, and a policy to run them.
#
# The tenant partition column is named `tenant`, not `tenant_id`: the Parquet files already hold
# a tenant_id column, and a Hive table may not have a partition column named like a data column.
# It is projected as `injected`, so every query names its tenant(s) in the WHERE clause (the
# tenant ids are not known in advance, and listing the bucket would defeat projection).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id          = data.aws_caller_identity.current.account_id
  partition           = data.aws_partition.current.partition
  results_bucket_name = coalesce(var.results_bucket_name, "${var.namespace}-${var.stage}-athena-results")
  tenants_location    = "s3://${var.tenant_data_bucket_name}/tenants/"
  parquet_input       = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
  parquet_output      = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
  parquet_serde       = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
}

resource "aws_glue_catalog_database" "tally" {
  name        = var.database_name
  description = "Tally usage events and invoice lines, read from the tenant data bucket."
}

# tenants/{tenant_id}/usage/events/dt={YYYY-MM-DD}/{object}.parquet; dt is the UTC day of
# event_time.
resource "aws_glue_catalog_table" "usage_events" {
  name          = "usage_events"
  database_name = aws_glue_catalog_database.tally.name
  description   = "Every accepted usage event exactly once (schemas/src/table.rs events_schema)."
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    "EXTERNAL"                    = "TRUE"
    "classification"              = "parquet"
    "projection.enabled"          = "true"
    "projection.tenant.type"      = "injected"
    "projection.dt.type"          = "date"
    "projection.dt.format"        = "yyyy-MM-dd"
    "projection.dt.range"         = "${var.first_event_day},NOW"
    "projection.dt.interval"      = "1"
    "projection.dt.interval.unit" = "DAYS"
    "storage.location.template"   = "${local.tenants_location}$${tenant}/usage/events/dt=$${dt}/"
  }

  partition_keys {
    name    = "tenant"
    type    = "string"
    comment = "The tenant prefix; equal to tenant_id. Injected: name it in every query."
  }

  partition_keys {
    name    = "dt"
    type    = "string"
    comment = "UTC day of event_time, YYYY-MM-DD."
  }

  storage_descriptor {
    location      = local.tenants_location
    input_format  = local.parquet_input
    output_format = local.parquet_output

    ser_de_info {
      serialization_library = local.parquet_serde
    }

    columns {
      name    = "event_id"
      type    = "string"
      comment = "The producer's idempotency key; null when it sent none."
    }
    columns {
      name = "tenant_id"
      type = "string"
    }
    columns {
      name = "metric"
      type = "string"
    }
    columns {
      name    = "value"
      type    = "decimal(38,9)"
      comment = "Exact quantity, nine fraction digits."
    }
    columns {
      name    = "event_time"
      type    = "timestamp"
      comment = "When the usage happened (UTC, milliseconds)."
    }
    columns {
      name    = "received_at"
      type    = "timestamp"
      comment = "When Tally accepted the event (UTC, milliseconds)."
    }
    columns {
      name = "dimensions"
      type = "map<string,string>"
    }
  }
}

# tenants/{tenant_id}/invoices/{YYYY-MM}/lines/{number}.parquet (schemas/src/layout.rs
# invoice_lines_key, runtime/src/invoice_parquet.rs): a prefix of their own, apart from the
# invoice's .json and .html, because Athena reads every object under a partition's location.
resource "aws_glue_catalog_table" "invoice_lines" {
  name          = "invoice_lines"
  database_name = aws_glue_catalog_database.tally.name
  description   = "One row per line of every invoice written (schemas/src/table.rs invoice_lines_schema)."
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    "EXTERNAL"                       = "TRUE"
    "classification"                 = "parquet"
    "projection.enabled"             = "true"
    "projection.tenant.type"         = "injected"
    "projection.month.type"          = "date"
    "projection.month.format"        = "yyyy-MM"
    "projection.month.range"         = "${var.first_invoice_month},NOW"
    "projection.month.interval"      = "1"
    "projection.month.interval.unit" = "MONTHS"
    "storage.location.template"      = "${local.tenants_location}$${tenant}/invoices/$${month}/lines/"
  }

  partition_keys {
    name    = "tenant"
    type    = "string"
    comment = "The tenant prefix; equal to tenant_id. Injected: name it in every query."
  }

  partition_keys {
    name    = "month"
    type    = "string"
    comment = "The invoice's billing period, YYYY-MM (equal to period)."
  }

  storage_descriptor {
    location      = local.tenants_location
    input_format  = local.parquet_input
    output_format = local.parquet_output

    ser_de_info {
      serialization_library = local.parquet_serde
    }

    columns {
      name = "invoice_id"
      type = "string"
    }
    columns {
      name = "invoice_number"
      type = "string"
    }
    columns {
      name = "tenant_id"
      type = "string"
    }
    columns {
      name    = "period"
      type    = "string"
      comment = "The invoice's billing period, YYYY-MM."
    }
    columns {
      name    = "status"
      type    = "string"
      comment = "draft, final or void."
    }
    columns {
      name = "currency"
      type = "string"
    }
    columns {
      name = "line_number"
      type = "int"
    }
    columns {
      name    = "kind"
      type    = "string"
      comment = "charge or adjustment."
    }
    columns {
      name    = "line_period"
      type    = "string"
      comment = "The period the line bills, YYYY-MM: the invoice's, or the one an adjustment restates."
    }
    columns {
      name = "meter"
      type = "string"
    }
    columns {
      name = "description"
      type = "string"
    }
    columns {
      name = "quantity"
      type = "decimal(38,9)"
    }
    columns {
      name = "unit"
      type = "string"
    }
    columns {
      name = "unrounded_amount"
      type = "decimal(38,9)"
    }
    columns {
      name = "amount"
      type = "decimal(38,9)"
    }
  }
}

resource "aws_kms_key" "results" {
  description             = "Athena query results of ${var.workgroup_name}"
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

resource "aws_kms_alias" "results" {
  name          = "alias/${var.namespace}-${var.stage}-athena-results"
  target_key_id = aws_kms_key.results.key_id
}

# Query results are reproducible from the tenant data: they expire after
# results_expiration_days, and an unfinished upload is aborted after a day.
module "results_bucket" {
  source = "../../../modules/secure-bucket"

  bucket_name                            = local.results_bucket_name
  kms_key_arn                            = aws_kms_key.results.arn
  access_log_bucket_name                 = var.access_log_bucket_name
  lifecycle_rule_id                      = "expire-query-results"
  expiration_days                        = var.results_expiration_days
  noncurrent_version_expiration_days     = 1
  abort_incomplete_multipart_upload_days = 1
}

resource "aws_athena_workgroup" "finance" {
  name        = var.workgroup_name
  description = "Finance queries over the Tally events and invoice lines."

  configuration {
    # Queries cannot choose another result location or turn its encryption off.
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff_per_query

    engine_version {
      selected_engine_version = "Athena engine version 3"
    }

    result_configuration {
      output_location = "s3://${module.results_bucket.bucket_name}/results/"

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = aws_kms_key.results.arn
      }
    }
  }
}

resource "aws_athena_named_query" "monthly_usage_per_tenant_and_meter" {
  name        = "monthly-usage-per-tenant-and-meter"
  description = "One tenant's usage in one month, per meter, from the events."
  database    = aws_glue_catalog_database.tally.name
  workgroup   = aws_athena_workgroup.finance.id
  query       = <<-SQL
    -- One tenant's usage in one month, per meter, from the events Parquet (the source of truth).
    -- Set the tenant and the month's first and last day where marked. The tenant partition is
    -- injected: every query names its tenant(s).
    -- value_sum is the billing quantity of sum meters (api_calls, cpu_hours, memory_gb_hours),
    -- distinct_users that of active_users. Gauges (storage_gb) are integrated over time by the
    -- rollups, not here: `tally usage --backend aws --tenant ... --granularity month`.
    SELECT
      tenant_id,
      metric,
      sum(value) AS value_sum,
      count(*) AS events,
      count(DISTINCT element_at(dimensions, 'user_id')) AS distinct_users
    FROM usage_events
    WHERE tenant = 'tenant_123'                       -- the tenant
      AND dt BETWEEN '2026-11-01' AND '2026-11-30'    -- the month (UTC days of event_time)
    GROUP BY tenant_id, metric
    ORDER BY tenant_id, metric
  SQL
}

resource "aws_athena_named_query" "top_tenants" {
  name        = "top-tenants"
  description = "Listed tenants ranked by one meter's usage in one month."
  database    = aws_glue_catalog_database.tally.name
  workgroup   = aws_athena_workgroup.finance.id
  query       = <<-SQL
    -- Tenants ranked by one sum meter's usage in one month. The tenant partition is injected,
    -- so the query lists the tenants to rank (Athena reads only their prefixes); the full
    -- tenant list is the tenant registry's, which does not exist yet.
    SELECT
      tenant_id,
      sum(value) AS value_sum,
      count(*) AS events
    FROM usage_events
    WHERE tenant IN ('tenant_123', 'tenant_456', 'tenant_789')   -- the tenants to rank
      AND metric = 'api_calls'                                     -- the meter
      AND dt BETWEEN '2026-11-01' AND '2026-11-30'                 -- the month
    GROUP BY tenant_id
    ORDER BY value_sum DESC
    LIMIT 20
  SQL
}

resource "aws_athena_named_query" "usage_against_invoices" {
  name        = "usage-against-invoices"
  description = "One tenant's monthly usage from the events against the quantities its final invoices bill for that month."
  database    = aws_glue_catalog_database.tally.name
  workgroup   = aws_athena_workgroup.finance.id
  query       = <<-SQL
    -- One tenant's usage of one month from the events, against what its final invoices bill
    -- for that month: the charge on the month's invoice plus every later adjustment restating
    -- it. Comparable for sum meters (api_calls, cpu_hours, memory_gb_hours). A difference is
    -- usage not invoiced yet (late events after the last invoice run) or a fault.
    -- Set the tenant and the month where marked.
    WITH events_total AS (
      SELECT metric, sum(value) AS value_sum
      FROM usage_events
      WHERE tenant = 'tenant_123'                       -- the tenant
        AND dt BETWEEN '2026-11-01' AND '2026-11-30'    -- the month
      GROUP BY metric
    ),
    billed_lines AS (
      SELECT invoice_id, kind, meter, quantity
      FROM invoice_lines
      WHERE tenant = 'tenant_123'                       -- the tenant
        AND month >= '2026-11'                          -- invoices of the month and later
        AND line_period = '2026-11'                     -- lines billing the month
        AND status = 'final'
        AND meter IS NOT NULL
    ),
    invoiced AS (
      -- Every charge line of a meter carries the meter's whole period quantity (a plan with two
      -- charges on one meter repeats it), so a charge counts once per invoice; adjustment lines
      -- carry the change of quantity and add up.
      SELECT meter AS metric, sum(quantity) AS quantity
      FROM (
        SELECT invoice_id, meter, max(quantity) AS quantity
        FROM billed_lines WHERE kind = 'charge'
        GROUP BY invoice_id, meter
        UNION ALL
        SELECT invoice_id, meter, quantity
        FROM billed_lines WHERE kind = 'adjustment'
      ) AS lines
      GROUP BY meter
    )
    SELECT
      coalesce(e.metric, i.metric) AS metric,
      e.value_sum AS used,
      i.quantity AS invoiced,
      coalesce(e.value_sum, 0) - coalesce(i.quantity, 0) AS difference
    FROM events_total e
    FULL OUTER JOIN invoiced i ON e.metric = i.metric
    ORDER BY metric
  SQL
}

# What a finance principal needs to run the queries above, and nothing else: the workgroup, the
# catalog entries, read access to the events and invoices, and the result location.
data "aws_iam_policy_document" "finance_query" {
  statement {
    sid = "QueryInTheWorkgroup"
    actions = [
      "athena:BatchGetNamedQuery",
      "athena:GetNamedQuery",
      "athena:GetQueryExecution",
      "athena:GetQueryResults",
      "athena:GetWorkGroup",
      "athena:ListNamedQueries",
      "athena:ListQueryExecutions",
      "athena:StartQueryExecution",
      "athena:StopQueryExecution",
    ]
    resources = [aws_athena_workgroup.finance.arn]
  }

  statement {
    sid     = "ReadTheCatalog"
    actions = ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions"]
    resources = [
      "arn:${local.partition}:glue:${data.aws_region.current.name}:${local.account_id}:catalog",
      "arn:${local.partition}:glue:${data.aws_region.current.name}:${local.account_id}:database/${aws_glue_catalog_database.tally.name}",
      "arn:${local.partition}:glue:${data.aws_region.current.name}:${local.account_id}:table/${aws_glue_catalog_database.tally.name}/*",
    ]
  }

  statement {
    sid     = "ReadEventsAndInvoices"
    actions = ["s3:GetObject"]
    resources = [
      "${var.tenant_data_bucket_arn}/tenants/*/usage/events/*",
      "${var.tenant_data_bucket_arn}/tenants/*/invoices/*",
    ]
  }

  statement {
    sid       = "LocateTheTenantDataBucket"
    actions   = ["s3:GetBucketLocation"]
    resources = [var.tenant_data_bucket_arn]
  }

  statement {
    sid       = "ListTenantPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [var.tenant_data_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["tenants/*"]
    }
  }

  statement {
    sid       = "DecryptTenantData"
    actions   = ["kms:Decrypt"]
    resources = [var.tenant_data_kms_key_arn]
  }

  statement {
    sid = "WriteAndReadResults"
    actions = [
      "s3:AbortMultipartUpload",
      "s3:GetObject",
      "s3:ListMultipartUploadParts",
      "s3:PutObject",
    ]
    resources = ["${module.results_bucket.bucket_arn}/results/*"]
  }

  statement {
    sid       = "ListResults"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket"]
    resources = [module.results_bucket.bucket_arn]
  }

  statement {
    sid       = "UseTheResultsKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.results.arn]
  }
}

resource "aws_iam_policy" "finance_query" {
  name        = "${var.namespace}-${var.stage}-tally-finance-query"
  description = "Run the Tally finance queries in the ${var.workgroup_name} Athena workgroup."
  policy      = data.aws_iam_policy_document.finance_query.json
}
