# The AWS side of the lakehouse and its Snowflake account for one environment. The state lives in
# S3 (partial backend configuration per environment), the values in envs/<env>.tfvars; Terraform's
# Snowflake user signs in with a key pair from the environment (SNOWFLAKE_PRIVATE_KEY):
#
#   terraform init  -backend-config=envs/prod.backend.hcl
#   terraform apply -var-file=envs/prod.tfvars

terraform {
  required_version = ">= 1.5"

  backend "s3" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
    snowflake = {
      source  = "snowflakedb/snowflake"
      version = "~> 1.1"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}

# Creating the storage integration and the resource monitors takes ACCOUNTADMIN: Terraform's service
# user (CI) holds it, so no person and no dbt run needs it.
provider "snowflake" {
  organization_name = var.snowflake_organization_name
  account_name      = var.snowflake_account_name
  user              = var.snowflake_user
  role              = var.snowflake_role
  authenticator     = "SNOWFLAKE_JWT"
}

module "lakehouse" {
  source = "./modules/lakehouse"

  environment                     = var.environment
  vpc_id                          = var.vpc_id
  private_subnet_ids              = var.private_subnet_ids
  lake_bucket_name                = var.lake_bucket_name
  lake_prefix                     = var.lake_prefix
  checkpoint_prefix               = var.checkpoint_prefix
  raw_retention_days              = var.raw_retention_days
  artifacts_bucket_name           = var.artifacts_bucket_name
  artifacts_prefix                = var.artifacts_prefix
  emr_log_retention_days          = var.emr_log_retention_days
  emr_service_role_name           = var.emr_service_role_name
  emr_instance_profile_name       = var.emr_instance_profile_name
  emr_security_configuration_name = var.emr_security_configuration_name
  emr_tls_certificates_s3_uri     = var.emr_tls_certificates_s3_uri
  secret_ids                      = var.secret_ids
  lineage_secret_id               = var.lineage_secret_id
  postgres_security_group_id      = var.postgres_security_group_id
  msk_cluster_name                = var.msk_cluster_name
  kafka_topics                    = var.kafka_topics
  kafka_version                   = var.kafka_version
  kafka_broker_count              = var.kafka_broker_count
  kafka_instance_type             = var.kafka_instance_type
  kafka_storage_size              = var.kafka_storage_size
  kafka_default_replication       = var.kafka_default_replication
  kafka_min_insync_replicas       = var.kafka_min_insync_replicas
  airflow_role_name               = var.airflow_role_name
  metrics_namespace               = var.metrics_namespace
  alarm_emails                    = var.alarm_emails
  alarm_https_endpoints           = var.alarm_https_endpoints
  tags                            = var.tags
}

module "snowflake" {
  source = "./modules/snowflake"

  environment                 = var.environment
  warehouses                  = var.snowflake_warehouses
  monitor_notify_users        = var.snowflake_monitor_notify_users
  raw_retention_days          = var.snowflake_raw_retention_days
  analytics_database          = var.snowflake_analytics_database
  analytics_retention_days    = var.snowflake_analytics_retention_days
  transformer_creates_schemas = var.snowflake_transformer_creates_schemas
  lake_bucket_name            = module.lakehouse.lake_bucket
  lake_prefix                 = var.lake_prefix
  lake_kms_key_arn            = module.lakehouse.kms_key_arn
  tags                        = var.tags
}
