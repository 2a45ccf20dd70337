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
secret_ids                      = ["prod/lakehouse/postgres"]

postgres_security_group_id = "sg-0prodpostgres00000"

msk_cluster_name          = "prod-data-kafka"
kafka_topics              = ["user_events", "transaction_events", "system_metrics"]
kafka_broker_count        = 3
kafka_instance_type       = "kafka.m5.large"
kafka_storage_size        = 1000
kafka_default_replication = 3
kafka_min_insync_replicas = 2

airflow_role_name = "prod-airflow-worker"

tags = {
  Environment = "prod"
  Platform    = "data"
  Owner       = "data-engineering"
}
