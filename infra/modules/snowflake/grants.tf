# What each role may do (roles.tf). Objects dbt and the loaders create are owned by the role that
# created them; the future grants below make the readers' access follow every new table and view.

locals {
  source_schemas = [for schema in var.raw_schemas : schema if schema != var.stage_schema]

  # dbt (TRANSFORMER) creates what it builds in every analytics schema, plus what its config asks for
  # in some (transformer_extras, by schema): MARTS holds the dynamic table fct_daily_customer_activity
  # and the tables with search optimization (meta search_optimization_equality). Its masking policies
  # live in the governance schema. tests/infra/test_snowflake_dbt.py derives these from the dbt project.
  transformer_builds = ["USAGE", "CREATE TABLE", "CREATE VIEW"]
  transformer_extras = {
    MARTS = ["CREATE DYNAMIC TABLE", "ADD SEARCH OPTIMIZATION"]
  }
  governance_grants = ["USAGE", "CREATE MASKING POLICY"]

  # Who reads each analytics schema (var.analytics_schemas), and what a reader reads there.
  analytics_reads = flatten([for schema, readers in var.analytics_schemas : [
    for role in readers : { role = role, schema = schema }
  ]])
  readable_kinds = ["TABLES", "VIEWS", "DYNAMIC TABLES"]

  warehouse_grants = {
    transformer = { warehouse = "DBT_TRANSFORM_WH", privileges = ["USAGE", "OPERATE"] }
    loader      = { warehouse = "DBT_TRANSFORM_WH", privileges = ["USAGE"] }
    reporter    = { warehouse = "ANALYTICS_WH", privileges = ["USAGE"] }
    pii_reader  = { warehouse = "DATA_SCIENCE_WH", privileges = ["USAGE"] }
  }

  database_grants = {
    "loader/raw"         = { role = "loader", database = snowflake_database.raw.name, privileges = ["USAGE"] }
    "transformer/raw"    = { role = "transformer", database = snowflake_database.raw.name, privileges = ["USAGE"] }
    "reporter/analytics" = { role = "reporter", database = snowflake_database.analytics.name, privileges = ["USAGE"] }
    "transformer/analytics" = {
      role       = "transformer"
      database   = snowflake_database.analytics.name
      privileges = var.transformer_creates_schemas ? ["USAGE", "CREATE SCHEMA"] : ["USAGE"]
    }
  }

  schema_grants = merge(
    { for schema in local.source_schemas : "loader/${schema}" => {
      role = "loader", schema = snowflake_schema.raw[schema].fully_qualified_name, privileges = ["USAGE", "CREATE TABLE"]
    } },
    { for schema in local.source_schemas : "transformer/${schema}" => {
      role = "transformer", schema = snowflake_schema.raw[schema].fully_qualified_name, privileges = ["USAGE", "CREATE EXTERNAL TABLE"]
    } },
    { for role in ["loader", "transformer"] : "${role}/${var.stage_schema}" => {
      role = role, schema = snowflake_schema.raw[var.stage_schema].fully_qualified_name, privileges = ["USAGE"]
    } },
    { for schema in keys(var.analytics_schemas) : "transformer/${schema}" => {
      role       = "transformer"
      schema     = snowflake_schema.analytics[schema].fully_qualified_name
      privileges = concat(local.transformer_builds, lookup(local.transformer_extras, schema, []))
    } },
    { "transformer/${var.governance_schema}" = {
      role = "transformer", schema = snowflake_schema.governance.fully_qualified_name, privileges = local.governance_grants
    } },
    { for read in local.analytics_reads : "${read.role}/${read.schema}" => {
      role = read.role, schema = snowflake_schema.analytics[read.schema].fully_qualified_name, privileges = ["USAGE"]
    } },
  )

  # SELECT on every table and view created from now on, schema by schema.
  future_reads = merge(
    { for pair in setproduct(local.analytics_reads, local.readable_kinds) : "${pair[0].role}/${pair[0].schema}/${pair[1]}" => {
      role = pair[0].role, schema = snowflake_schema.analytics[pair[0].schema].fully_qualified_name, kind = pair[1]
    } },
    { for schema in local.source_schemas : "transformer/${schema}/TABLES" => {
      role = "transformer", schema = snowflake_schema.raw[schema].fully_qualified_name, kind = "TABLES"
    } },
  )
}

resource "snowflake_grant_privileges_to_account_role" "warehouse" {
  for_each          = local.warehouse_grants
  account_role_name = local.roles[each.key]
  privileges        = each.value.privileges
  on_account_object {
    object_type = "WAREHOUSE"
    object_name = snowflake_warehouse.this[each.value.warehouse].name
  }
}

resource "snowflake_grant_privileges_to_account_role" "database" {
  for_each          = local.database_grants
  account_role_name = local.roles[each.value.role]
  privileges        = each.value.privileges
  on_account_object {
    object_type = "DATABASE"
    object_name = each.value.database
  }
}

resource "snowflake_grant_privileges_to_account_role" "schema" {
  for_each          = local.schema_grants
  account_role_name = local.roles[each.value.role]
  privileges        = each.value.privileges
  on_schema {
    schema_name = each.value.schema
  }
}

resource "snowflake_grant_privileges_to_account_role" "future_reads" {
  for_each          = local.future_reads
  account_role_name = local.roles[each.value.role]
  privileges        = ["SELECT"]
  on_schema_object {
    future {
      object_type_plural = each.value.kind
      in_schema          = each.value.schema
    }
  }
}

# The external tables reference the stage; the loaders copy from it.
resource "snowflake_grant_privileges_to_account_role" "stage" {
  for_each          = toset(["loader", "transformer"])
  account_role_name = local.roles[each.value]
  privileges        = ["USAGE"]
  on_schema_object {
    object_type = "STAGE"
    object_name = snowflake_stage.lake.fully_qualified_name
  }
}

# Setting a masking policy on a column (dbt's post-hook mask_pii_columns) takes APPLY MASKING POLICY on
# the account, besides owning the table; creating the policies only the governance schema's grant above.
resource "snowflake_grant_privileges_to_account_role" "transformer_on_account" {
  account_role_name = local.roles.transformer
  privileges        = ["APPLY MASKING POLICY"]
  on_account        = true
}
