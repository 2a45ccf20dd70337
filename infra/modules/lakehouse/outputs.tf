output "lake_bucket" {
  value = aws_s3_bucket.this["lake"].bucket
}

output "artifacts_bucket" {
  value = aws_s3_bucket.this["artifacts"].bucket
}

output "emr_security_groups" {
  value = {
    master  = aws_security_group.emr_primary.id
    worker  = aws_security_group.emr_core.id
    service = aws_security_group.emr_service_access.id
  }
}

output "msk_bootstrap_brokers_sasl_iam" {
  value = aws_msk_cluster.this.bootstrap_brokers_sasl_iam
}

output "orchestrator_policy_arn" {
  value = aws_iam_policy.orchestrator.arn
}

output "delta_log_table" {
  value = aws_dynamodb_table.delta_log.name
}

output "emr_security_configuration" {
  value = aws_emr_security_configuration.this.name
}

output "kms_key_arn" {
  value = aws_kms_key.lakehouse.arn
}
