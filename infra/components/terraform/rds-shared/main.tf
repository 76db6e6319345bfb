# The shared PostgreSQL of the control plane: standard-tier tenants share the database
# `database_name`, whose tenant tables enforce row-level security on app.tenant_id; premium
# tenants get dedicated databases on the same instance. Terraform creates the instance only:
# the schema, the row-level security policies, the application roles and the tenant databases
# are created by the CreateDatabase onboarding step's bootstrap (tally-postgres,
# postgres/src/shared.rs), idempotently, on its first run.
#
# Credentials never pass through Terraform's state: RDS generates the owner's password and keeps
# (and rotates) it in Secrets Manager, and the application login's password is generated as an
# ephemeral value and written to its secret with a write-only argument.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  # RDS writes each exported log to /aws/rds/instance/{identifier}/{log}.
  log_exports = ["postgresql", "upgrade"]
  port        = 5432
}

resource "aws_kms_key" "database" {
  description             = "Shared PostgreSQL ${var.identifier}: storage, snapshots, Performance Insights, logs and secrets"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # The account administers the key; RDS and Secrets Manager use it on behalf of callers
        # whose IAM policies grant its use through them (kms:ViaService).
        Sid       = "AccountAdministersTheKey"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncryptsTheDatabaseLogs"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/rds/instance/${var.identifier}/*"
          }
        }
      },
    ]
  })
}

resource "aws_kms_alias" "database" {
  name          = "alias/${var.namespace}-${var.stage}-${var.identifier}"
  target_key_id = aws_kms_key.database.key_id
}

# -- Network ---------------------------------------------------------------------------------------

resource "aws_db_subnet_group" "shared" {
  name        = var.identifier
  description = "Private subnets of ${var.identifier}"
  subnet_ids  = var.subnet_ids
}

# The functions that reach the database (onboarding) carry the clients group; the database admits
# no other source.
module "security_groups" {
  source = "../../../modules/client-security-groups"

  name         = var.identifier
  role         = "database"
  service      = "PostgreSQL ${var.identifier}"
  service_noun = "shared database"
  protocol     = "PostgreSQL"
  clients      = "the onboarding function"
  vpc_id       = var.vpc_id
  port         = local.port
}

# The onboarding function also calls AWS APIs (DynamoDB, S3, IAM, Cognito, SES, Secrets
# Manager), over HTTPS: through the network's gateway endpoints for DynamoDB and S3 (whose
# addresses are public ones too), through its NAT gateways for the rest.
resource "aws_vpc_security_group_egress_rule" "clients_to_aws_apis" {
  security_group_id = module.security_groups.client_security_group_id
  description       = "HTTPS to the AWS APIs"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

# -- Parameters and logs ---------------------------------------------------------------------------

resource "aws_db_parameter_group" "shared" {
  name        = "${var.identifier}-postgres15"
  family      = "postgres15"
  description = "PostgreSQL ${var.identifier}: TLS only, connections and slow statements logged"

  # Clients must use TLS (IAM database authentication needs it anyway).
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  # DDL is logged (the bootstrap's and the onboarding steps' CREATE/ALTER/DROP), not every
  # statement: tenant data stays out of the logs.
  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = tostring(var.slow_statement_ms)
  }

  parameter {
    name  = "log_connections"
    value = "1"
  }

  parameter {
    name  = "log_disconnections"
    value = "1"
  }
}

resource "aws_cloudwatch_log_group" "exports" {
  for_each          = toset(local.log_exports)
  name              = "/aws/rds/instance/${var.identifier}/${each.value}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.database.arn
}

resource "aws_iam_role" "monitoring" {
  name = "${var.identifier}-enhanced-monitoring"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "monitoring.rds.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

# -- The instance ----------------------------------------------------------------------------------

resource "aws_db_instance" "shared" {
  identifier     = var.identifier
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class
  db_name        = var.database_name
  port           = local.port

  username                      = var.master_username
  manage_master_user_password   = true
  master_user_secret_kms_key_id = aws_kms_key.database.arn
  # Roles with rds_iam may sign in with an IAM token instead of a password.
  iam_database_authentication_enabled = true

  allocated_storage     = var.allocated_storage_gb
  max_allocated_storage = var.max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.database.arn

  db_subnet_group_name   = aws_db_subnet_group.shared.name
  vpc_security_group_ids = [module.security_groups.service_security_group_id]
  publicly_accessible    = false
  multi_az               = var.multi_az
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  parameter_group_name            = aws_db_parameter_group.shared.name
  enabled_cloudwatch_logs_exports = local.log_exports

  backup_retention_period   = var.backup_retention_days
  copy_tags_to_snapshot     = true
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.identifier}-final"

  auto_minor_version_upgrade  = true
  allow_major_version_upgrade = false

  monitoring_interval                   = var.monitoring_interval_secs
  monitoring_role_arn                   = aws_iam_role.monitoring.arn
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = aws_kms_key.database.arn
  performance_insights_retention_period = 7

  depends_on = [aws_cloudwatch_log_group.exports, aws_iam_role_policy_attachment.monitoring]
}

# -- The application login's password --------------------------------------------------------------

# Generated on every plan and apply but written only when app_password_version changes: neither
# the plan nor the state holds it.
ephemeral "random_password" "app" {
  length  = 40
  special = false
}

resource "aws_secretsmanager_secret" "app_password" {
  #checkov:skip=CKV2_AWS_57:Rotating this password means changing the tally_app_login role in PostgreSQL as well, which the CreateDatabase bootstrap does when it runs; raise app_password_version and re-run the bootstrap to rotate. The owner's secret is rotated by RDS itself.
  name                    = "${var.identifier}/app-database-password"
  description             = "Password of the application login role (tally_app_login) of ${var.identifier} (TALLY_APP_DATABASE_PASSWORD)"
  kms_key_id              = aws_kms_key.database.arn
  recovery_window_in_days = 30
}

resource "aws_secretsmanager_secret_version" "app_password" {
  secret_id                = aws_secretsmanager_secret.app_password.id
  secret_string_wo         = ephemeral.random_password.app.result
  secret_string_wo_version = var.app_password_version
}
