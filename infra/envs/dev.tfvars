# Development account. Names must match conf/dev.yaml (tests/infra checks them).
environment        = "dev"
region             = "us-west-2"
vpc_id             = "vpc-0dev0000000000000"
private_subnet_ids = ["subnet-0dev0000000000001", "subnet-0dev0000000000002"]

lake_bucket_name   = "company-data-lake-dev"
raw_retention_days = 90

artifacts_bucket_name  = "company-artifacts-dev"
emr_log_retention_days = 14

emr_service_role_name           = "dev-lakehouse-emr-service"
emr_instance_profile_name       = "dev-lakehouse-emr-instance"
emr_security_configuration_name = "dev-lakehouse-emr"
emr_tls_certificates_s3_uri     = "s3://company-artifacts-dev/lakehouse/tls/emr-certificates.zip"
secret_ids                      = ["dev/lakehouse/postgres", "dev/lakehouse/openlineage"]
lineage_secret_id               = "dev/lakehouse/openlineage"

msk_cluster_name          = "dev-data-kafka"
kafka_topics              = ["user_events", "transaction_events", "system_metrics"]
kafka_broker_count        = 2
kafka_instance_type       = "kafka.t3.small"
kafka_storage_size        = 100
kafka_default_replication = 2
kafka_min_insync_replicas = 1

airflow_role_name = "dev-airflow-worker"

# Snowflake (one account per environment): the same warehouses, small and single-cluster.
snowflake_organization_name = "COMPANY"
snowflake_account_name      = "DATA_DEV"
snowflake_user              = "TERRAFORM"

snowflake_warehouses = {
  DBT_TRANSFORM_WH = { size = "X-SMALL", min_cluster_count = 1, max_cluster_count = 1, scaling_policy = "STANDARD", credit_quota = 100, comment = "dbt transformations and heavy ELT" }
  ANALYTICS_WH     = { size = "X-SMALL", min_cluster_count = 1, max_cluster_count = 1, scaling_policy = "ECONOMY", credit_quota = 50, comment = "Dashboards and analytical queries" }
  DATA_SCIENCE_WH  = { size = "SMALL", min_cluster_count = 1, max_cluster_count = 1, scaling_policy = "STANDARD", credit_quota = 50, comment = "ML training and feature engineering" }
}

snowflake_raw_retention_days          = 1
snowflake_analytics_database          = "ANALYTICS_DEV"
snowflake_analytics_retention_days    = 7
snowflake_transformer_creates_schemas = true

# Alarms (modules/lakehouse/alarms.tf) on the jobs' metrics; the same recipients as the Airflow alerts.
metrics_namespace = "Lakehouse/dev"
alarm_emails      = ["data-alerts-dev@company.com"]

tags = {
  Environment = "dev"
  Platform    = "data"
  Owner       = "data-engineering"
}
