# The platform's cache: a Valkey replication group for the tenant applications that run on the
# EKS cluster (eks). Tally's own code does not use it: no crate of this repository connects to a
# cache. It is part of the seed platform the tenants' applications are deployed onto.
#
# - In the network's private subnets, behind a security group that admits only its clients
#   group: the cluster's nodes carry that group (eks' node_security_group_ids), as the onboarding
#   function carries rds-shared's.
# - Encrypted at rest with a key of this component and in transit (TLS required).
# - Access control by an RBAC user group. The application user authenticates with IAM: a client
#   signs a short-lived token with a role allowed elasticache:Connect (output
#   connect_policy_arn, for the applications' Pod Identity roles), so no password exists, in
#   Terraform's state, in Secrets Manager or anywhere else. (The AWS provider 5.x keeps any
#   ElastiCache AUTH token or user password in the state; IAM authentication avoids one
#   altogether.) The default user every user group must hold is switched off.
# - Automatic failover and Multi-AZ with a replica in another zone (prod), daily snapshots kept
#   snapshot_retention_days and a final one on deletion, slow and engine logs in encrypted log
#   groups.

locals {
  port = 6379
  # Valkey delivers each log type to a log group of its own.
  log_groups = {
    for type in ["slow-log", "engine-log"] : type => "/aws/elasticache/${var.replication_group_id}/${type}"
  }
  # For IAM authentication a user's name must equal its id.
  app_user = "${var.replication_group_id}-app"
}

module "key" {
  source = "../../../modules/kms-key"

  description     = "ElastiCache ${var.replication_group_id}: data at rest, snapshots and logs"
  alias           = "alias/${var.namespace}-${var.stage}-elasticache-${var.replication_group_id}"
  log_group_names = values(local.log_groups)
}

resource "aws_cloudwatch_log_group" "cache" {
  for_each          = local.log_groups
  name              = each.value
  retention_in_days = var.log_retention_days
  kms_key_id        = module.key.key_arn
}

# -- Network ---------------------------------------------------------------------------------------

resource "aws_elasticache_subnet_group" "cache" {
  name        = var.replication_group_id
  description = "Private subnets of ${var.replication_group_id}"
  subnet_ids  = var.subnet_ids
}

# The cluster's nodes carry the clients group; the cache admits no other source.
module "security_groups" {
  source = "../../../modules/client-security-groups"

  name         = var.replication_group_id
  role         = "cache"
  service      = "Valkey ${var.replication_group_id}"
  service_noun = "cache"
  protocol     = "Valkey"
  clients      = "the EKS cluster's nodes"
  vpc_id       = var.vpc_id
  port         = local.port
}

# -- Users -----------------------------------------------------------------------------------------

# Every user group holds a user named default, which clients that send no AUTH become. Off, with
# no command and no key: a connection must authenticate as the application user. (A user group of
# the redis engine, which a Valkey cache accepts, is the kind that may hold a user without a
# password; a disabled one cannot be signed in as.)
resource "aws_elasticache_user" "default" {
  user_id       = "${var.replication_group_id}-default"
  user_name     = "default"
  engine        = "redis"
  access_string = "off -@all"

  authentication_mode {
    type = "no-password-required"
  }
}

# The tenant applications' user: every key and channel, every command but the dangerous ones
# (FLUSHALL, CONFIG, DEBUG, KEYS, ...). The cache is shared by the tenants' applications, which
# keep to their own key prefixes; per-tenant users with ~{tenant}:* patterns can be added here.
resource "aws_elasticache_user" "app" {
  user_id       = local.app_user
  user_name     = local.app_user
  engine        = "redis"
  access_string = var.app_access_string

  authentication_mode {
    type = "iam"
  }
}

resource "aws_elasticache_user_group" "cache" {
  user_group_id = var.replication_group_id
  engine        = "redis"
  user_ids      = [aws_elasticache_user.default.user_id, aws_elasticache_user.app.user_id]
}

# -- The replication group -------------------------------------------------------------------------

resource "aws_elasticache_replication_group" "cache" {
  replication_group_id = var.replication_group_id
  description          = "Cache of the tenant applications on the platform's EKS cluster"
  engine               = "valkey"
  engine_version       = var.engine_version
  node_type            = var.node_type
  num_cache_clusters   = var.num_cache_clusters
  port                 = local.port

  subnet_group_name  = aws_elasticache_subnet_group.cache.name
  security_group_ids = [module.security_groups.service_security_group_id]

  at_rest_encryption_enabled = true
  kms_key_id                 = module.key.key_arn
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  user_group_ids             = [aws_elasticache_user_group.cache.user_group_id]

  automatic_failover_enabled = var.multi_az
  multi_az_enabled           = var.multi_az

  snapshot_retention_limit  = var.snapshot_retention_days
  snapshot_window           = var.snapshot_window
  maintenance_window        = var.maintenance_window
  final_snapshot_identifier = "${var.replication_group_id}-final"

  auto_minor_version_upgrade = true
  apply_immediately          = false

  dynamic "log_delivery_configuration" {
    for_each = aws_cloudwatch_log_group.cache
    content {
      destination      = log_delivery_configuration.value.name
      destination_type = "cloudwatch-logs"
      log_format       = "json"
      log_type         = log_delivery_configuration.key
    }
  }

  lifecycle {
    precondition {
      condition     = !var.multi_az || var.num_cache_clusters >= 2
      error_message = "multi_az needs num_cache_clusters of at least 2: a primary and a replica in another zone."
    }
  }
}

# What a tenant application's role needs to sign in as the application user (an IAM
# authentication token is signed for the replication group and the user).
data "aws_iam_policy_document" "connect" {
  statement {
    sid     = "ConnectAsTheApplicationUser"
    actions = ["elasticache:Connect"]
    resources = [
      aws_elasticache_replication_group.cache.arn,
      aws_elasticache_user.app.arn,
    ]
  }
}

resource "aws_iam_policy" "connect" {
  name        = "${var.namespace}-${var.stage}-${var.replication_group_id}-connect"
  description = "Connect to the ElastiCache ${var.replication_group_id} as ${local.app_user} (IAM authentication)."
  policy      = data.aws_iam_policy_document.connect.json
}
