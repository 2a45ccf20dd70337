variable "environment" {
  description = "dev or prod: prefixes every name, and tags every resource."
  type        = string

  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be dev or prod."
  }
}

variable "region" {
  description = "AWS region of the lake, the clusters and MSK (conf/<env>.yaml: s3.region)."
  type        = string
}

variable "vpc_id" {
  description = "The VPC the EMR clusters and MSK run in (owned by the network stack)."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets for EMR and the MSK brokers (one per AZ; as many as brokers for MSK)."
  type        = list(string)
}

variable "lake_bucket_name" {
  description = "Bucket of the Delta lake (conf: lake.root and lake.checkpoint_root)."
  type        = string
}

variable "lake_prefix" {
  description = "Prefix of the Delta tables and landed raw files in the lake bucket (conf: lake.root)."
  type        = string
  default     = "lakehouse"
}

variable "checkpoint_prefix" {
  description = "Prefix of the streaming checkpoints in the lake bucket (conf: lake.checkpoint_root)."
  type        = string
  default     = "_checkpoints"
}

variable "raw_retention_days" {
  description = "Days landed raw files are kept (they are re-ingestible from the source only that long)."
  type        = number
}

variable "artifacts_bucket_name" {
  description = "Bucket of the releases, the extra jars and the EMR logs (conf: emr.artifacts_uri, emr.log_uri, spark.extra_jars)."
  type        = string
}

variable "artifacts_prefix" {
  description = "Prefix of everything the lakehouse keeps in the artifacts bucket."
  type        = string
  default     = "lakehouse"
}

variable "emr_log_retention_days" {
  description = "Days EMR step and container logs are kept."
  type        = number
  default     = 30
}

variable "emr_service_role_name" {
  description = "EMR service role (conf: emr.cluster.service_role)."
  type        = string
}

variable "emr_instance_profile_name" {
  description = "EC2 instance profile of the cluster nodes (conf: emr.cluster.instance_profile)."
  type        = string
}

variable "emr_security_configuration_name" {
  description = "EMR security configuration every cluster names (conf: emr.cluster.security_configuration)."
  type        = string
}

variable "emr_tls_certificates_s3_uri" {
  description = "s3:// URI of the PEM zip (privateKey.pem, certificateChain.pem, trustedCertificates.pem) for EMR's in-transit TLS; the nodes' role may read it."
  type        = string
}

variable "secret_ids" {
  description = "Secrets Manager ids the jobs read (conf: secretsmanager: references); created empty, filled out of band."
  type        = list(string)
}

variable "lineage_secret_id" {
  description = "The secret of lineage.api_key, one of secret_ids: Airflow reads it too (dbt's lineage events)."
  type        = string
}

variable "postgres_security_group_id" {
  description = "Security group of the operational Postgres replica; null leaves it alone."
  type        = string
  default     = null
}

variable "msk_cluster_name" {
  description = "MSK cluster name; its brokers are b-N.<name>.kafka.<region>.amazonaws.com (conf: kafka.bootstrap_servers)."
  type        = string
}

variable "kafka_topics" {
  description = "Topics the jobs read (conf: streaming.topics); the EMR role may describe and read these only."
  type        = list(string)
}

variable "kafka_version" {
  description = "Apache Kafka version of the MSK cluster."
  type        = string
  default     = "3.6.0"
}

variable "kafka_broker_count" {
  description = "Number of MSK brokers (a multiple of the number of subnets)."
  type        = number
}

variable "kafka_instance_type" {
  description = "MSK broker instance type."
  type        = string
}

variable "kafka_storage_size" {
  description = "EBS volume size per broker, GiB."
  type        = number
}

variable "kafka_default_replication" {
  description = "default.replication.factor (conf: kafka.topics.*.replication_factor)."
  type        = number
}

variable "kafka_min_insync_replicas" {
  description = "min.insync.replicas: with acks=all, writes survive this many brokers minus one failing."
  type        = number
}

variable "airflow_role_name" {
  description = "IAM role of the Airflow workers, given the orchestrator policy; null only creates the policy."
  type        = string
  default     = null
}

variable "snowflake_organization_name" {
  description = "Snowflake organization of the environment's account (one account per environment)."
  type        = string
}

variable "snowflake_account_name" {
  description = "Snowflake account of the environment."
  type        = string
}

variable "snowflake_user" {
  description = "Terraform's Snowflake service user (key-pair sign-in: SNOWFLAKE_PRIVATE_KEY in CI's environment)."
  type        = string
}

variable "snowflake_role" {
  description = "Role Terraform's user applies with: storage integrations and resource monitors need ACCOUNTADMIN."
  type        = string
  default     = "ACCOUNTADMIN"
}

variable "snowflake_warehouses" {
  description = "DBT_TRANSFORM_WH, ANALYTICS_WH, DATA_SCIENCE_WH: size, clusters, scaling policy, monthly credit quota."
  type = map(object({
    size              = string
    min_cluster_count = number
    max_cluster_count = number
    scaling_policy    = string
    credit_quota      = number
    comment           = string
  }))
}

variable "snowflake_monitor_notify_users" {
  description = "Snowflake users the warehouses' resource monitors e-mail."
  type        = list(string)
  default     = []
}

variable "snowflake_raw_retention_days" {
  description = "Time Travel days of RAW_DATA."
  type        = number
}

variable "snowflake_analytics_database" {
  description = "Database dbt builds into (dbt/profiles.yml: the target's SNOWFLAKE_DATABASE default)."
  type        = string
}

variable "snowflake_analytics_retention_days" {
  description = "Time Travel days of the analytics database."
  type        = number
}

variable "snowflake_transformer_creates_schemas" {
  description = "Dev only: dbt creates each developer's schemas (generate_schema_name prefixes them)."
  type        = bool
  default     = false
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the jobs' metrics (conf: metrics.namespace); the alarms watch it."
  type        = string
}

variable "alarm_emails" {
  description = "Who the alarms e-mail (conf: airflow.alert_emails)."
  type        = list(string)
}

variable "alarm_https_endpoints" {
  description = "HTTPS subscribers of the alarm topic (the PagerDuty CloudWatch integration URL)."
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
