variable "environment" {
  description = "dev or prod: names the AWS role Snowflake assumes."
  type        = string
}

variable "warehouses" {
  description = "Virtual warehouses by name: size, clusters (multi-cluster needs Enterprise edition), scaling policy, monthly credit quota of its resource monitor."
  type = map(object({
    size              = string
    min_cluster_count = number
    max_cluster_count = number
    scaling_policy    = string
    credit_quota      = number
    comment           = string
  }))

  validation {
    condition     = sort(keys(var.warehouses)) == sort(["DBT_TRANSFORM_WH", "ANALYTICS_WH", "DATA_SCIENCE_WH"])
    error_message = "warehouses must define exactly DBT_TRANSFORM_WH, ANALYTICS_WH and DATA_SCIENCE_WH."
  }
}

variable "auto_suspend_seconds" {
  description = "Every warehouse suspends after this much inactivity (the design: 60 s) and resumes on the next query."
  type        = number
  default     = 60
}

variable "monitor_notify_triggers" {
  description = "Percentages of a warehouse's monthly credit quota at which its monitor e-mails monitor_notify_users."
  type        = list(number)
  default     = [75, 90]
}

variable "monitor_suspend_trigger" {
  description = "Percentage of the quota at which the warehouse is suspended once its running queries end."
  type        = number
  default     = 100
}

variable "monitor_suspend_immediate_trigger" {
  description = "Percentage of the quota at which the warehouse is suspended and its queries cancelled."
  type        = number
  default     = 110
}

variable "monitor_notify_users" {
  description = "Snowflake users e-mailed by the resource monitors (they must have verified e-mail notifications)."
  type        = list(string)
  default     = []
}

variable "raw_database" {
  description = "Database of the lake's external tables and loaded raw data (dbt var raw_database)."
  type        = string
  default     = "RAW_DATA"
}

variable "raw_retention_days" {
  description = "Time Travel of the raw database (the design: 90 days)."
  type        = number
}

variable "raw_schemas" {
  description = "Schemas of the raw database: the stage's, then the dbt sources' (dbt/models/staging/_sources.yml)."
  type        = list(string)
  default     = ["LAKE", "KAFKA_STREAMS", "BATCH_EXTRACTS"]
}

variable "analytics_database" {
  description = "Database dbt builds into (dbt/profiles.yml: SNOWFLAKE_DATABASE of the target)."
  type        = string
}

variable "analytics_retention_days" {
  description = "Time Travel of the analytics database (the design: 365 days)."
  type        = number
}

variable "analytics_schemas" {
  description = "Schemas dbt builds into (dbt_project.yml +schema, as generate_schema_name names them for prod), each with the roles (keys of var.roles) that read it: USAGE, and SELECT on its future tables, views and dynamic tables."
  type        = map(list(string))
  default = {
    STAGING      = ["pii_reader"]
    INTERMEDIATE = ["pii_reader"]
    SNAPSHOTS    = ["pii_reader"]
    MARTS        = ["reporter"]
    FINANCE      = ["finance_analyst"] # dbt's finance marts: never the reporter
  }

  validation {
    condition     = contains(keys(var.analytics_schemas), "MARTS")
    error_message = "analytics_schemas must include MARTS (what the reporters read)."
  }
}

variable "governance_schema" {
  description = "Schema of the masking policies dbt creates in the analytics database (dbt var governance_schema)."
  type        = string
  default     = "GOVERNANCE"
}

variable "transformer_creates_schemas" {
  description = "Dev: dbt creates each developer's <target schema>_<schema> itself (generate_schema_name), so the transformer may create schemas."
  type        = bool
  default     = false
}

variable "stage_schema" {
  description = "Schema of the lake's stage in the raw database (dbt var lake_stage_schema)."
  type        = string
  default     = "LAKE"
}

variable "stage_name" {
  description = "The lake's external stage (dbt var lake_stage)."
  type        = string
  default     = "LAKE_STAGE"
}

variable "storage_integration_name" {
  description = "The storage integration of the stage (dbt var lake_storage_integration)."
  type        = string
  default     = "LAKE_S3_INTEGRATION"
}

variable "lake_bucket_name" {
  description = "Bucket of the Delta lake."
  type        = string
}

variable "lake_prefix" {
  description = "Prefix of the Delta tables (the stage is s3://<bucket>/<prefix>/; conf: lake.root)."
  type        = string
}

variable "lake_read_prefixes" {
  description = "Folders under lake_prefix Snowflake reads (its external tables are over silver only)."
  type        = list(string)
  default     = ["silver"]
}

variable "lake_kms_key_arn" {
  description = "The lakehouse key the lake's objects are encrypted with (Snowflake needs kms:Decrypt)."
  type        = string
}

variable "roles" {
  description = "Account role name by function (roles.tf)."
  type        = map(string)
  default = {
    loader          = "LOADER"
    transformer     = "TRANSFORMER"
    reporter        = "REPORTER"
    finance_analyst = "FINANCE_ANALYST" # dbt var finance_role
    pii_reader      = "DATA_SCIENTIST"  # one of dbt var pii_privileged_roles
  }

  validation {
    condition     = sort(keys(var.roles)) == sort(["loader", "transformer", "reporter", "finance_analyst", "pii_reader"])
    error_message = "roles must name exactly loader, transformer, reporter, finance_analyst and pii_reader."
  }
}

variable "tags" {
  description = "Tags on the AWS role."
  type        = map(string)
  default     = {}
}
