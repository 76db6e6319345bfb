output "service_security_group_id" {
  description = "The group the service itself carries."
  value       = aws_security_group.service.id
}

output "client_security_group_id" {
  description = "The group whatever reaches the service must carry."
  value       = aws_security_group.clients.id
}
