# Functional roles, least privilege each (grants.tf):
#   LOADER          lands raw data (tables in RAW_DATA's source schemas), reads the lake stage
#   TRANSFORMER     dbt: creates the external tables over the lake, reads RAW_DATA, builds ANALYTICS
#                   (tables, views, dynamic tables, search optimization, masking policies), runs DBT_TRANSFORM_WH
#   REPORTER        reads the marts (MARTS) on ANALYTICS_WH (dashboards, analysts)
#   FINANCE_ANALYST REPORTER plus the finance marts' schema FINANCE, which no other role reads (dbt var finance_role)
#   DATA_SCIENTIST  REPORTER plus staging, intermediate and snapshots on DATA_SCIENCE_WH: sees PII in
#                   clear text (dbt var pii_privileged_roles)
# Every role rolls up to SYSADMIN, so administrators manage what the roles create. These are the only
# roles dbt may name (tests/infra/test_snowflake_dbt.py): the design's ADMIN is not one.

locals {
  role_comments = {
    loader          = "Lands raw data in ${var.raw_database}"
    transformer     = "dbt: external tables over the lake, builds ${var.analytics_database}"
    reporter        = "Reads the marts"
    finance_analyst = "Reporter plus the finance marts (schema FINANCE)"
    pii_reader      = "Reporter plus staging and snapshots: PII in clear text"
  }
  roles = { for key, name in var.roles : key => snowflake_account_role.this[key].name }
}

resource "snowflake_account_role" "this" {
  for_each = var.roles
  name     = each.value
  comment  = local.role_comments[each.key]
}

resource "snowflake_grant_account_role" "reporter_to" {
  for_each         = toset(["finance_analyst", "pii_reader"])
  role_name        = local.roles.reporter
  parent_role_name = local.roles[each.value]
}

resource "snowflake_grant_account_role" "to_sysadmin" {
  for_each         = toset(["loader", "transformer", "finance_analyst", "pii_reader"])
  role_name        = local.roles[each.value]
  parent_role_name = "SYSADMIN"
}
