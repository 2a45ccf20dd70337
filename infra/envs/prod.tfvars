# Production account. Names must match conf/prod.yaml and conf/base.yaml (tests/infra checks them).
environment        = "prod"
region             = "us-west-2"
vpc_id             = "vpc-0prod000000000000"
private_subnet_ids = ["subnet-0prod00000000001", "subnet-0prod00000000002", "subnet-0prod00000000003"]

lake_bucket_name   = "company-data-lake"
raw_retention_days = 2555 # 7 years

artifacts_bucket_name  = "company-artifacts"
emr_log_retention_days = 30

emr_service_role_name           = "prod-lakehouse-emr-service"
emr_instance_profile_name       = "prod-lakehouse-emr-instance"
emr_security_configuration_name = "prod-lakehouse-emr"
emr_tls_certificates_s3_uri     = "s3://company-artifacts/lakehouse/tls/emr-certificates.zip"
secret_ids                      = ["prod/lakehouse/postgres", "prod/lakehouse/openlineage"]
lineage_secret_id               = "prod/lakehouse/openlineage"

postgres_security_group_id = "sg-0prodpostgres00000"

msk_cluster_name          = "prod-data-kafka"
kafka_topics              = ["user_events", "transaction_events", "system_metrics"]
kafka_broker_count        = 3
kafka_instance_type       = "kafka.m5.large"
kafka_storage_size        = 1000
kafka_default_replication = 3
kafka_min_insync_replicas = 2

airflow_role_name = "prod-airflow-worker"

# Snowflake (one account per environment). The design's warehouses: 60 s auto-suspend for all.
snowflake_organization_name    = "COMPANY"
snowflake_account_name         = "DATA_PROD"
snowflake_user                 = "TERRAFORM"
snowflake_monitor_notify_users = ["DATA_ENGINEERING"]

snowflake_warehouses = {
  DBT_TRANSFORM_WH = { size = "X-LARGE", min_cluster_count = 1, max_cluster_count = 4, scaling_policy = "STANDARD", credit_quota = 3000, comment = "dbt transformations and heavy ELT" }
  ANALYTICS_WH     = { size = "LARGE", min_cluster_count = 1, max_cluster_count = 8, scaling_policy = "ECONOMY", credit_quota = 2000, comment = "Dashboards and analytical queries" }
  DATA_SCIENCE_WH  = { size = "2X-LARGE", min_cluster_count = 1, max_cluster_count = 2, scaling_policy = "STANDARD", credit_quota = 1500, comment = "ML training and feature engineering" }
}

snowflake_raw_retention_days       = 90
snowflake_analytics_database       = "ANALYTICS"
snowflake_analytics_retention_days = 365

# Alarms (modules/lakehouse/alarms.tf) on the jobs' metrics; the same recipients as the Airflow alerts.
metrics_namespace = "Lakehouse/prod"
alarm_emails      = ["data-alerts@company.com"]

tags = {
  Environment = "prod"
  Platform    = "data"
  Owner       = "data-engineering"
}
