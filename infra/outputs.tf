output "lake_bucket" {
  value = module.lakehouse.lake_bucket
}

output "artifacts_bucket" {
  value = module.lakehouse.artifacts_bucket
}

output "emr_security_groups" {
  description = "For LAKEHOUSE__EMR__CLUSTER__{MASTER,WORKER,SERVICE}_SECURITY_GROUP on the Airflow workers."
  value       = module.lakehouse.emr_security_groups
}

output "msk_bootstrap_brokers_sasl_iam" {
  description = "conf/<env>.yaml: kafka.bootstrap_servers (port 9098: TLS with IAM sign-in)."
  value       = module.lakehouse.msk_bootstrap_brokers_sasl_iam
}

output "orchestrator_policy_arn" {
  value = module.lakehouse.orchestrator_policy_arn
}

output "delta_log_table" {
  description = "conf/<env>.yaml: lake.log_store_table."
  value       = module.lakehouse.delta_log_table
}

output "emr_security_configuration" {
  description = "conf/<env>.yaml: emr.cluster.security_configuration."
  value       = module.lakehouse.emr_security_configuration
}
