output "warehouses" {
  value = { for name, warehouse in snowflake_warehouse.this : name => warehouse.fully_qualified_name }
}

output "roles" {
  value = local.roles
}

output "lake_stage" {
  value = snowflake_stage.lake.fully_qualified_name
}

output "snowflake_lake_role_arn" {
  value = aws_iam_role.snowflake_lake.arn
}
