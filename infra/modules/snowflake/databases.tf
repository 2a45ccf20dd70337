# RAW_DATA: the lake's stage and the external tables dbt declares over silver (KAFKA_STREAMS,
# BATCH_EXTRACTS), and whatever loaders land. ANALYTICS: what dbt builds (staging, intermediate,
# marts, finance marts, snapshots) and its masking policies (GOVERNANCE). Time Travel per database (the
# design: 90 and 365 days in prod).

resource "snowflake_database" "raw" {
  name                        = var.raw_database
  data_retention_time_in_days = var.raw_retention_days
  comment                     = "Raw data: external tables over the lake's silver Delta tables, loaders' landings"
}

resource "snowflake_database" "analytics" {
  name                        = var.analytics_database
  data_retention_time_in_days = var.analytics_retention_days
  comment                     = "Transformed data for analytics and reporting (dbt)"
}

resource "snowflake_schema" "raw" {
  for_each = toset(var.raw_schemas)
  database = snowflake_database.raw.name
  name     = each.value
}

resource "snowflake_schema" "analytics" {
  for_each = var.analytics_schemas
  database = snowflake_database.analytics.name
  name     = each.key
}

# The masking policies dbt creates (on-run-start, macros/governance/) and sets on personal-data columns.
resource "snowflake_schema" "governance" {
  database = snowflake_database.analytics.name
  name     = var.governance_schema
  comment  = "Masking policies of personal data, created and kept up to date by dbt (TRANSFORMER)"
}
