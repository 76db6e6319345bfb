# A service in the VPC reachable only from its clients: the service's security group admits one
# TCP port from the clients group and nothing else, and the clients group may reach that port of
# the service. Whatever must reach the service carries the clients group (the onboarding function
# for the shared PostgreSQL, the EKS nodes for the cache); that membership is the whole access
# list, with no address ranges to keep in step.

resource "aws_security_group" "service" {
  name        = "${var.name}-${var.role}"
  description = "${var.service}: reachable only from the ${var.role} clients group"
  vpc_id      = var.vpc_id
}

resource "aws_security_group" "clients" {
  #checkov:skip=CKV2_AWS_5:The clients group is attached by another component to what reaches the service (rds-shared's by lambda-onboarding to the onboarding function, elasticache's by eks to the nodes), through the caller's client_security_group_id output; a group used in another component's state is invisible to the scan.
  name        = "${var.name}-clients"
  description = "Clients of ${var.service} (${var.clients})"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "service_from_clients" {
  security_group_id            = aws_security_group.service.id
  description                  = "${var.protocol} from the ${var.role} clients"
  ip_protocol                  = "tcp"
  from_port                    = var.port
  to_port                      = var.port
  referenced_security_group_id = aws_security_group.clients.id
}

resource "aws_vpc_security_group_egress_rule" "clients_to_service" {
  security_group_id            = aws_security_group.clients.id
  description                  = "${var.protocol} to the ${var.service_noun}"
  ip_protocol                  = "tcp"
  from_port                    = var.port
  to_port                      = var.port
  referenced_security_group_id = aws_security_group.service.id
}
