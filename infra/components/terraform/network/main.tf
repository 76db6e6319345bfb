# The stack's network: one VPC with a private and a public subnet in each of the stack's
# availability zones. Everything Tally and the platform run inside the VPC lives in the private
# subnets: the shared PostgreSQL (rds-shared) and the onboarding function that reaches it, the
# EKS cluster's nodes (eks) and the cache (elasticache). The public subnets hold only the NAT
# gateways (one for the stage, or one per zone so that losing a zone does not cut the others off)
# and, later, the load balancers of the tenant applications.
#
# S3 and DynamoDB are reached through gateway endpoints (free, and their traffic never crosses
# the NAT gateways); every other AWS API through the NAT gateways. Every flow is logged to an
# encrypted log group, and the default security group admits and sends nothing, so a resource
# created without a group of its own is cut off rather than open.

# The zones are named in the stack, never taken from whatever the region offers: a zone AWS adds
# later must not move or add subnets. The data source checks that each named zone is available.
data "aws_availability_zones" "named" {
  state = "available"
  filter {
    name   = "zone-name"
    values = var.availability_zones
  }

  lifecycle {
    postcondition {
      condition     = length(self.names) == length(var.availability_zones)
      error_message = "Not every zone of availability_zones is an available zone of the region."
    }
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  name = "${var.namespace}-${var.stage}-tally"
  # The private subnets are /20s of a /16 (4,091 addresses each: the VPC CNI gives every pod an
  # address of its node's subnet); the public ones are /24s from the top of the range, which the
  # private ones never reach with at most six zones.
  # Each zone keeps its position in availability_zones, and so its ranges: add zones at the end.
  private_cidrs = { for index, zone in var.availability_zones : zone => cidrsubnet(var.cidr_block, 4, index) }
  public_cidrs  = { for index, zone in var.availability_zones : zone => cidrsubnet(var.cidr_block, 8, 250 + index) }
  # The zone each private subnet's traffic leaves by: its own, or the first zone's gateway alone.
  nat_zones           = var.nat_gateway_per_availability_zone ? var.availability_zones : [var.availability_zones[0]]
  nat_zone_of         = { for zone in var.availability_zones : zone => var.nat_gateway_per_availability_zone ? zone : var.availability_zones[0] }
  flow_log_group_name = "/aws/vpc/${local.name}/flow-logs"
}

resource "aws_vpc" "tally" {
  cidr_block = var.cidr_block
  # EKS (its private endpoint), the interface endpoints of later additions and RDS all rely on
  # the VPC's DNS.
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = { Name = local.name }
}

# The default security group of the VPC, taken over to remove its rules: with no ingress and no
# egress block, Terraform leaves it with none.
resource "aws_default_security_group" "default" {
  vpc_id = aws_vpc.tally.id

  tags = { Name = "${local.name}-default-unused" }
}

# -- Subnets ---------------------------------------------------------------------------------------

resource "aws_subnet" "private" {
  for_each          = local.private_cidrs
  vpc_id            = aws_vpc.tally.id
  availability_zone = each.key
  cidr_block        = each.value

  tags = {
    Name = "${local.name}-private-${each.key}"
    # Where the AWS Load Balancer Controller puts internal load balancers.
    "kubernetes.io/role/internal-elb" = "1"
  }
}

# Nothing launched here gets a public address by itself: only the NAT gateways' Elastic IPs and,
# later, internet-facing load balancers are public.
resource "aws_subnet" "public" {
  for_each                = local.public_cidrs
  vpc_id                  = aws_vpc.tally.id
  availability_zone       = each.key
  cidr_block              = each.value
  map_public_ip_on_launch = false

  tags = {
    Name                     = "${local.name}-public-${each.key}"
    "kubernetes.io/role/elb" = "1"
  }
}

# -- Routes ----------------------------------------------------------------------------------------

resource "aws_internet_gateway" "tally" {
  vpc_id = aws_vpc.tally.id

  tags = { Name = local.name }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.tally.id

  tags = { Name = "${local.name}-public" }
}

resource "aws_route" "public_to_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.tally.id
}

resource "aws_route_table_association" "public" {
  for_each       = aws_subnet.public
  subnet_id      = each.value.id
  route_table_id = aws_route_table.public.id
}

resource "aws_eip" "nat" {
  for_each = toset(local.nat_zones)
  domain   = "vpc"

  tags = { Name = "${local.name}-nat-${each.key}" }

  depends_on = [aws_internet_gateway.tally]
}

resource "aws_nat_gateway" "tally" {
  for_each      = toset(local.nat_zones)
  allocation_id = aws_eip.nat[each.key].id
  subnet_id     = aws_subnet.public[each.key].id

  tags = { Name = "${local.name}-${each.key}" }

  depends_on = [aws_internet_gateway.tally]
}

# One route table per private subnet, so that each can leave by its own zone's NAT gateway.
resource "aws_route_table" "private" {
  for_each = aws_subnet.private
  vpc_id   = aws_vpc.tally.id

  tags = { Name = "${local.name}-private-${each.key}" }
}

resource "aws_route" "private_to_internet" {
  for_each               = aws_route_table.private
  route_table_id         = each.value.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.tally[local.nat_zone_of[each.key]].id
}

resource "aws_route_table_association" "private" {
  for_each       = aws_subnet.private
  subnet_id      = each.value.id
  route_table_id = aws_route_table.private[each.key].id
}

# S3 (the tenant data bucket, ECR's image layers) and DynamoDB from the private subnets without
# the NAT gateways. The endpoints' default policy allows every request: the callers' IAM policies
# and the buckets' and keys' own policies decide, and AWS-owned buckets the nodes read (ECR
# layers, package repositories) must stay reachable.
resource "aws_vpc_endpoint" "gateway" {
  for_each          = toset(["s3", "dynamodb"])
  vpc_id            = aws_vpc.tally.id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.${each.key}"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [for table in aws_route_table.private : table.id]

  tags = { Name = "${local.name}-${each.key}" }
}

# -- Flow logs -------------------------------------------------------------------------------------

module "flow_log_key" {
  source = "../../../modules/kms-key"

  description     = "VPC flow logs of ${local.name}"
  alias           = "alias/${var.namespace}-${var.stage}-vpc-flow-logs"
  log_group_names = [local.flow_log_group_name]
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = local.flow_log_group_name
  retention_in_days = var.flow_log_retention_days
  kms_key_id        = module.flow_log_key.key_arn
}

resource "aws_iam_role" "flow_logs" {
  name = "${local.name}-vpc-flow-logs"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "vpc-flow-logs.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
}

# The log group exists already: the service only adds streams and events to it.
data "aws_iam_policy_document" "flow_logs" {
  statement {
    sid       = "WriteTheFlowLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.flow_logs.arn}:*"]
  }

  # DescribeLogGroups lists; it takes no single group's ARN.
  statement {
    sid       = "FindTheLogGroup"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:*"]
  }
}

resource "aws_iam_role_policy" "flow_logs" {
  name   = "write-flow-logs"
  role   = aws_iam_role.flow_logs.id
  policy = data.aws_iam_policy_document.flow_logs.json
}

resource "aws_flow_log" "vpc" {
  vpc_id                   = aws_vpc.tally.id
  traffic_type             = "ALL"
  log_destination_type     = "cloud-watch-logs"
  log_destination          = aws_cloudwatch_log_group.flow_logs.arn
  iam_role_arn             = aws_iam_role.flow_logs.arn
  max_aggregation_interval = 60

  tags = { Name = local.name }
}
