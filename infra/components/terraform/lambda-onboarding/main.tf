# The onboarding Lambda (functions/onboarding): the function every Task state of the onboarding
# and offboarding state machines invokes (step-functions-onboarding), one step of one tenant per
# invocation. It reads and writes the tenant in the tenants table and its audit log, and
# provisions what each step names: the tenant's database in the shared PostgreSQL (rds-shared,
# reached from private subnets), its prefix of the tenant data bucket with an IAM policy and
# role, its Cognito app client and group (or, premium, its own user pool), its Kubernetes
# manifests for the platform's GitOps agent, and the welcome email; offboarding undoes them and
# drafts the final invoice.
#
# Database credentials reach the function as Secrets Manager ARNs, never as values: the function
# reads the secrets when it connects (the owner's is rotated by RDS).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  # Tenant policies and roles: path and name prefix of control-aws/src/names.rs (IAM_PATH,
  # IAM_NAME_PREFIX).
  tenant_policies = "arn:${local.partition}:iam::${local.account_id}:policy/tally/tenants/tally-tenant-*"
  tenant_roles    = "arn:${local.partition}:iam::${local.account_id}:role/tally/tenants/tally-tenant-*"
  user_pools      = "arn:${local.partition}:cognito-idp:${local.region}:${local.account_id}:userpool/*"
  # The tag every tenant resource carries (tally_tenancy::policy::TENANT_TAG).
  tenant_tag = "tenant_id"

  # Every variable functions/onboarding reads: its own (src/main.rs), the control plane's
  # (ControlSettings::from_env, control-aws/src/settings.rs) and the usage pipeline's for the
  # final invoice (AwsSettings::from_env, aws/src/settings.rs). tests/infra/drift.py holds these
  # names against the code. The database credentials are secrets' ARNs, not values.
  environment_required = {
    TALLY_TENANTS_TABLE                    = var.tenants_table_name
    TALLY_BUCKET_NAME                      = var.tenant_data_bucket_name
    TALLY_USER_POOL_ID                     = var.user_pool_id
    TALLY_EMAIL_FROM                       = var.email_from
    TALLY_DATABASE_URL                     = var.database_url
    TALLY_DATABASE_SECRET_ARN              = var.database_secret_arn
    TALLY_APP_DATABASE_PASSWORD_SECRET_ARN = var.app_password_secret_arn
    TALLY_STREAM_NAME                      = var.stream_name
    TALLY_ROLLUPS_TABLE                    = var.rollups_table_name
    TALLY_STATE_TABLE                      = var.state_table_name
    TALLY_INVOICES_TABLE                   = var.invoices_table_name
    TALLY_MAX_EVENT_AGE_DAYS               = tostring(var.max_event_age_days)
    TALLY_TENANT_PERMISSIONS_BOUNDARY_ARN  = var.tenant_permissions_boundary_arn
  }
  # Read when set; left out when empty, which the code treats as unset.
  environment_optional = {
    TALLY_TENANT_ROLE_PRINCIPAL = var.tenant_role_principal
    TALLY_METERS_FILE           = var.meters_file
    TALLY_PLANS_FILE            = var.plans_file
  }
  environment = merge(
    local.environment_required,
    { for name, value in local.environment_optional : name => value if value != "" },
  )
}

# Offboarding's final invoice: what the invoice generator may do, for one tenant. Bringing the
# tenant's gauges up to date commits to its ledger like the consumer does; a run for one tenant
# queries its ledger and rollups (no Scan: that is the scheduled run over every tenant). The
# module's s3:ListBucket also lets the function list the audit log and a tenant's manifests and
# tell a namespace not claimed yet. The function writes tenants too, so both tables' keys are
# used through DynamoDB.
module "metering_policy" {
  source = "../../../modules/metering-policy"

  tenant_data_bucket_arn  = var.tenant_data_bucket_arn
  tenant_data_kms_key_arn = var.tenant_data_kms_key_arn
  published_prefixes = [
    "tenants/*/usage/events/*",
    "tenants/*/invoices/*",
    "quarantine/*",
  ]
  state_table_arn       = var.state_table_arn
  state_table_actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
  rollups_table_arn     = var.rollups_table_arn
  rollups_table_actions = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"]
  invoices_table_arn    = var.invoices_table_arn
  table_kms_key_arns    = [var.tenants_kms_key_arn, var.tables_kms_key_arn]
}

data "aws_iam_policy_document" "function" {
  source_policy_documents = [module.metering_policy.json]

  # -- The tenant record and its audit log (control-aws/src/tenants.rs, audit.rs) ----------------

  statement {
    sid       = "KeepTenants"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
    resources = [var.tenants_table_arn]
  }

  statement {
    sid       = "AppendAndReadTheAuditLog"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = ["${var.tenant_data_bucket_arn}/tenants/*/audit/*"]
  }

  # -- ProvisionStorage (control-aws/src/storage.rs) ---------------------------------------------

  # The marker object tenants/{id}/.tenant makes the prefix exist; undo deletes it and keeps the
  # tenant's data.
  statement {
    sid       = "MarkTenantPrefixes"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.tenant_data_bucket_arn}/tenants/*/.tenant"]
  }

  # Tenant policies, created tagged and found again by listing the tenant path.
  statement {
    sid       = "CreateTenantPolicies"
    actions   = ["iam:CreatePolicy", "iam:TagPolicy"]
    resources = [local.tenant_policies]
    condition {
      test     = "Null"
      variable = "aws:RequestTag/${local.tenant_tag}"
      values   = ["false"]
    }
  }

  statement {
    sid       = "RemoveTenantPolicies"
    actions   = ["iam:DeletePolicy", "iam:ListPolicyVersions", "iam:DeletePolicyVersion"]
    resources = [local.tenant_policies]
  }

  # ListPolicies takes no resource ARN; the code lists only the tenant path (PathPrefix).
  statement {
    sid       = "FindTenantPolicies"
    actions   = ["iam:ListPolicies"]
    resources = ["*"]
  }

  # A tenant role is created only tagged with its tenant and only with the tenant boundary
  # (tenant-access-policies' tally-tenant-boundary) as its permissions boundary: the policies the
  # function writes and attaches can then never give a tenant role more than the boundary does.
  statement {
    sid       = "CreateBoundedTenantRoles"
    actions   = ["iam:CreateRole"]
    resources = [local.tenant_roles]
    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [var.tenant_permissions_boundary_arn]
    }
    condition {
      test     = "Null"
      variable = "aws:RequestTag/${local.tenant_tag}"
      values   = ["false"]
    }
  }

  # CreateRole with tags is also authorized as TagRole, whose request carries no boundary.
  statement {
    sid       = "TagTenantRoles"
    actions   = ["iam:TagRole"]
    resources = [local.tenant_roles]
    condition {
      test     = "Null"
      variable = "aws:RequestTag/${local.tenant_tag}"
      values   = ["false"]
    }
  }

  # A role made before the boundary was configured gets it on the next ProvisionStorage; no other
  # boundary may be put, and none removed (no iam:DeleteRolePermissionsBoundary).
  statement {
    sid       = "BoundTenantRoles"
    actions   = ["iam:PutRolePermissionsBoundary"]
    resources = [local.tenant_roles]
    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [var.tenant_permissions_boundary_arn]
    }
  }

  statement {
    sid       = "RemoveTenantRoles"
    actions   = ["iam:GetRole", "iam:DeleteRole", "iam:ListAttachedRolePolicies", "iam:DetachRolePolicy"]
    resources = [local.tenant_roles]
  }

  # A tenant role holds only a tenant policy: no AWS managed policy, nothing outside the path.
  statement {
    sid       = "AttachOnlyTenantPolicies"
    actions   = ["iam:AttachRolePolicy"]
    resources = [local.tenant_roles]
    condition {
      test     = "ArnLike"
      variable = "iam:PolicyARN"
      values   = [local.tenant_policies]
    }
  }

  # -- ConfigureAuth (control-aws/src/auth.rs) ---------------------------------------------------

  # Premium tenants get a pool of their own, created tagged with the tenant. ListUserPools and
  # CreateUserPool take no resource ARN.
  statement {
    sid       = "FindTenantPools"
    actions   = ["cognito-idp:ListUserPools"]
    resources = ["*"]
  }

  statement {
    sid       = "CreateTenantPools"
    actions   = ["cognito-idp:CreateUserPool"]
    resources = ["*"]
    condition {
      test     = "Null"
      variable = "aws:RequestTag/${local.tenant_tag}"
      values   = ["false"]
    }
  }

  # Only pools tagged with a tenant may be deleted or changed: never the shared pool, which
  # carries no tenant tag (and the function may not tag pools).
  statement {
    sid = "ManageTenantPools"
    actions = [
      "cognito-idp:DescribeUserPool",
      "cognito-idp:DeleteUserPool",
      "cognito-idp:CreateUserPoolClient",
      "cognito-idp:DeleteUserPoolClient",
      "cognito-idp:ListUserPoolClients",
      "cognito-idp:CreateGroup",
      "cognito-idp:DeleteGroup",
    ]
    resources = [local.user_pools]
    condition {
      test     = "Null"
      variable = "aws:ResourceTag/${local.tenant_tag}"
      values   = ["false"]
    }
  }

  # Standard tenants get an app client and a group in the shared pool.
  statement {
    sid = "ManageTenantClientsInTheSharedPool"
    actions = [
      "cognito-idp:DescribeUserPool",
      "cognito-idp:CreateUserPoolClient",
      "cognito-idp:DeleteUserPoolClient",
      "cognito-idp:ListUserPoolClients",
      "cognito-idp:CreateGroup",
      "cognito-idp:DeleteGroup",
    ]
    resources = [var.user_pool_arn]
  }

  # -- DeployApp (control-aws/src/manifests.rs) -------------------------------------------------

  # The tenant's Kubernetes manifests under _platform/manifests/{id}/ (a GitOps agent applies
  # them) and its namespace claim under _platform/namespaces/; undo lists and deletes both.
  statement {
    sid     = "KeepPlatformManifests"
    actions = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    resources = [
      "${var.tenant_data_bucket_arn}/_platform/manifests/*",
      "${var.tenant_data_bucket_arn}/_platform/namespaces/*",
    ]
  }

  # -- Notify (control-aws/src/mail.rs) ----------------------------------------------------------

  statement {
    sid       = "SendFromTheConfiguredSender"
    actions   = ["ses:SendEmail"]
    resources = [var.email_identity_arn]
    condition {
      test     = "StringEquals"
      variable = "ses:FromAddress"
      values   = [var.email_from]
    }
  }

  # -- CreateDatabase: the shared PostgreSQL's credentials ---------------------------------------

  statement {
    sid       = "ReadTheDatabaseSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.database_secret_arn, var.app_password_secret_arn]
  }

  statement {
    sid       = "DecryptTheDatabaseSecrets"
    actions   = ["kms:Decrypt"]
    resources = [var.database_kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

# The module adds the function key, the log group and (with subnets) the network interfaces.
module "function" {
  source = "../../../modules/lambda-function"

  namespace              = var.namespace
  stage                  = var.stage
  function_name          = var.function_name
  description            = "One onboarding or offboarding step of one tenant, invoked by the Step Functions workflows"
  kms_key_purpose        = "environment and logs"
  package_path           = var.package_path
  handler                = "bootstrap"
  runtime                = "provided.al2023"
  architectures          = ["arm64"]
  memory_size_mb         = var.memory_size_mb
  timeout_secs           = var.timeout_secs
  reserved_concurrency   = var.reserved_concurrency
  log_retention_days     = var.log_retention_days
  environment            = local.environment
  policy_json            = data.aws_iam_policy_document.function.json
  function_key_actions   = ["kms:Decrypt"]
  vpc_subnet_ids         = var.subnet_ids
  vpc_security_group_ids = var.security_group_ids
}
