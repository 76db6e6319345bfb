# The tenant-management Lambda (functions/tenant-management): the admin API of the control plane,
# /admin/tenants behind the apigateway component's admin authorizer. It keeps tenants in the
# tenants table, appends every change to the tenant's audit log in the tenant data bucket, and
# starts the onboarding and offboarding state machines; the provisioning itself is the
# onboarding function's (lambda-onboarding), run by those state machines.

data "aws_region" "current" {}

locals {
  # Every variable functions/tenant-management reads: the token verifier's pool and audience
  # (src/env.rs), the tenants table and the audit log's bucket (ControlSettings::from_env), and
  # the state machines it starts (StepFunctionsStarter::from_env). tests/infra/drift.py holds
  # these names against the code.
  environment_required = {
    TALLY_USER_POOL_ID                  = var.user_pool_id
    TALLY_APP_CLIENT_ID                 = var.admin_client_id
    TALLY_TENANTS_TABLE                 = var.tenants_table_name
    TALLY_BUCKET_NAME                   = var.tenant_data_bucket_name
    TALLY_ONBOARDING_STATE_MACHINE_ARN  = var.onboarding_state_machine_arn
    TALLY_OFFBOARDING_STATE_MACHINE_ARN = var.offboarding_state_machine_arn
  }
  # Read when set; left out when empty, which the code treats as unset.
  environment_optional = {
    TALLY_METERS_FILE = var.meters_file
  }
  environment = merge(
    local.environment_required,
    { for name, value in local.environment_optional : name => value if value != "" },
  )
}

# Exactly what the handler calls (control-aws/src/tenants.rs, control-aws/src/audit.rs and the
# Step Functions starter). The token check needs no permission: the user pool's key set is public.
data "aws_iam_policy_document" "function" {
  # Tenant records and idempotency keys: GetItem, conditional PutItem, and a Query of the tenant
  # partition to list them. No Scan, no DeleteItem: tenants are never deleted, only offboarded.
  statement {
    sid       = "KeepTenants"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
    resources = [var.tenants_table_arn]
  }

  statement {
    sid       = "UseTheTenantsKeyThroughDynamoDB"
    actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*"]
    resources = [var.tenants_kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["dynamodb.${data.aws_region.current.name}.amazonaws.com"]
    }
  }

  # The audit log: one object per entry under tenants/{id}/audit/, written and read back. Nothing
  # else of the bucket: not the tenant's usage, invoices or the ledgers.
  statement {
    sid       = "AppendAndReadTheAuditLog"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${var.tenant_data_bucket_arn}/tenants/*/audit/*"]
  }

  statement {
    sid       = "ListTheAuditLog"
    actions   = ["s3:ListBucket"]
    resources = [var.tenant_data_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["tenants/*/audit/", "tenants/*/audit/*"]
    }
  }

  statement {
    sid       = "UseTheTenantDataKeyThroughS3"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [var.tenant_data_kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.current.name}.amazonaws.com"]
    }
  }

  # POST /admin/tenants, .../onboard and DELETE start a workflow (control-aws/src/
  # step_functions.rs), after looking for a running one of the tenant (ListExecutions). What the
  # workflow does is the onboarding function's role.
  statement {
    sid       = "StartTheWorkflows"
    actions   = ["states:StartExecution", "states:ListExecutions"]
    resources = [var.onboarding_state_machine_arn, var.offboarding_state_machine_arn]
  }
}

# The module adds the function key and the log group to the statements above.
module "function" {
  source = "../../../modules/lambda-function"

  namespace            = var.namespace
  stage                = var.stage
  function_name        = var.function_name
  description          = "The admin API /admin/tenants: tenants, their audit log, and the onboarding workflows"
  kms_key_purpose      = "environment and logs"
  package_path         = var.package_path
  handler              = "bootstrap"
  runtime              = "provided.al2023"
  architectures        = ["arm64"]
  memory_size_mb       = var.memory_size_mb
  timeout_secs         = var.timeout_secs
  reserved_concurrency = var.reserved_concurrency
  log_retention_days   = var.log_retention_days
  environment          = local.environment
  policy_json          = data.aws_iam_policy_document.function.json
  function_key_actions = ["kms:Decrypt"]
}
