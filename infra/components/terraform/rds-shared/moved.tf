# The security groups moved into infra/modules/client-security-groups: the same groups and rules,
# under new addresses.
moved {
  from = aws_security_group.database
  to   = module.security_groups.aws_security_group.service
}

moved {
  from = aws_security_group.clients
  to   = module.security_groups.aws_security_group.clients
}

moved {
  from = aws_vpc_security_group_ingress_rule.database_from_clients
  to   = module.security_groups.aws_vpc_security_group_ingress_rule.service_from_clients
}

moved {
  from = aws_vpc_security_group_egress_rule.clients_to_database
  to   = module.security_groups.aws_vpc_security_group_egress_rule.clients_to_service
}
