variable "environment" {
  description = "dev or prod: prefixes every name, and tags every resource."
  type        = string

  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be dev or prod."
  }
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

variable "kafka_consumer_groups" {
  description = "Consumer groups the jobs use (Spark's generated groups under groupIdPrefix, the offset look-ups')."
  type        = list(string)
  default     = ["lakehouse-bronze-*", "lakehouse-offset-lookups"]
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

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}

variable "emr_security_configuration_name" {
  description = "EMR security configuration every cluster names (conf: emr.cluster.security_configuration)."
  type        = string
}

variable "emr_tls_certificates_s3_uri" {
  description = "s3:// URI of the PEM zip (privateKey.pem, certificateChain.pem, trustedCertificates.pem) for EMR's in-transit TLS."
  type        = string

  validation {
    condition     = can(regex("^s3://[^/]+/.+\\.zip$", var.emr_tls_certificates_s3_uri))
    error_message = "emr_tls_certificates_s3_uri must be an s3://bucket/key.zip URI."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace the jobs send their metrics to (conf: metrics.namespace)."
  type        = string
}

variable "alarm_emails" {
  description = "E-mail addresses the alarms notify (conf: airflow.alert_emails, the Airflow alerts' recipients)."
  type        = list(string)
}

variable "alarm_https_endpoints" {
  description = "HTTPS endpoints subscribed to the alarm topic, e.g. the PagerDuty CloudWatch integration URL."
  type        = list(string)
  default     = []
}

variable "alarm_consumer_lag_records" {
  description = "Records bronze may be behind a topic for 15 minutes before it alarms."
  type        = number
  default     = 500000
}

variable "alarm_silver_freshness_minutes" {
  description = "How old the newest record silver committed may be before it alarms."
  type        = number
  default     = 15
}

variable "alarm_quarantine_rate_percent" {
  description = "Share of silver's input quarantined in 5 minutes above which it alarms (conf quality.accepted_share.fail_below: 0.95)."
  type        = number
  default     = 5
}

variable "alarm_no_data_periods" {
  description = "Periods of 5 minutes without a record read by bronze before it alarms."
  type        = number
  default     = 6
}

variable "alarm_broker_cpu_percent" {
  description = "MSK broker user CPU above which it alarms."
  type        = number
  default     = 60
}

variable "alarm_broker_disk_percent" {
  description = "MSK broker data log disk use above which it alarms."
  type        = number
  default     = 80
}

variable "alarm_lake_growth_band" {
  description = "Width (standard deviations) of the lake size's anomaly detection band."
  type        = number
  default     = 3
}
