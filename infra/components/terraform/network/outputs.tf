output "vpc_id" {
  description = "The VPC."
  value       = aws_vpc.tally.id
}

output "vpc_cidr_block" {
  description = "The VPC's IPv4 range."
  value       = aws_vpc.tally.cidr_block
}

output "availability_zones" {
  description = "The zones of the subnets, in the order of the subnet lists."
  value       = var.availability_zones
}

output "private_subnet_ids" {
  description = "The private subnets, one per zone: the databases, the onboarding function, the cluster's nodes and the cache."
  value       = [for zone in var.availability_zones : aws_subnet.private[zone].id]
}

output "public_subnet_ids" {
  description = "The public subnets, one per zone: the NAT gateways and internet-facing load balancers."
  value       = [for zone in var.availability_zones : aws_subnet.public[zone].id]
}

output "private_route_table_ids" {
  description = "The private subnets' route tables (where further gateway endpoints go)."
  value       = [for zone in var.availability_zones : aws_route_table.private[zone].id]
}

output "nat_gateway_public_ips" {
  description = "The addresses the private subnets' internet traffic leaves from (for allow-lists of outside services)."
  value       = [for gateway in aws_nat_gateway.tally : gateway.public_ip]
}

output "flow_log_group_name" {
  description = "The log group of the VPC's flow logs."
  value       = aws_cloudwatch_log_group.flow_logs.name
}
