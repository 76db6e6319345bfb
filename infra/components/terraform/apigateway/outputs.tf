output "api_id" {
  description = "The HTTP API's id."
  value       = aws_apigatewayv2_api.usage.id
}

output "api_endpoint" {
  description = "The HTTP API's base URL."
  value       = aws_apigatewayv2_api.usage.api_endpoint
}

output "events_url" {
  description = "Where producers POST usage events."
  value       = "${aws_apigatewayv2_api.usage.api_endpoint}/v1/events"
}

output "admin_url" {
  description = "The admin API's base: {admin_url}/tenants, {admin_url}/openapi.json."
  value       = "${aws_apigatewayv2_api.usage.api_endpoint}/admin"
}

output "stage_name" {
  description = "The stage (the API Gateway metrics' Stage dimension)."
  value       = aws_apigatewayv2_stage.default.name
}
