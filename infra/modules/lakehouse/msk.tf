# The Kafka cluster the streaming jobs read: TLS only, every client signed in with IAM (SASL on port
# 9098; no unauthenticated access), encrypted at rest with the lakehouse key, and topics created
# explicitly (auto.create.topics.enable=false), never by a typo in a producer. What a client may do
# is its role's kafka-cluster:* grants (the jobs': iam_emr.tf, per topic and consumer group).

resource "aws_msk_configuration" "this" {
  name           = "${var.msk_cluster_name}-config"
  kafka_versions = [var.kafka_version]

  server_properties = <<-PROPERTIES
    auto.create.topics.enable=false
    delete.topic.enable=true
    default.replication.factor=${var.kafka_default_replication}
    min.insync.replicas=${var.kafka_min_insync_replicas}
    num.partitions=10
    log.retention.hours=168
    log.segment.bytes=104857600
    log.retention.check.interval.ms=300000
    compression.type=producer
  PROPERTIES
}

locals {
  msk_log_group = "/aws/msk/${var.msk_cluster_name}"
}

resource "aws_cloudwatch_log_group" "msk" {
  name              = local.msk_log_group
  retention_in_days = 30
  kms_key_id        = aws_kms_key.lakehouse.arn
  tags              = var.tags
}

resource "aws_msk_cluster" "this" {
  cluster_name           = var.msk_cluster_name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = var.kafka_broker_count

  broker_node_group_info {
    instance_type   = var.kafka_instance_type
    client_subnets  = var.private_subnet_ids
    security_groups = [aws_security_group.msk.id]

    storage_info {
      ebs_storage_info {
        volume_size = var.kafka_storage_size
      }
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }

  client_authentication {
    unauthenticated = false
    sasl {
      iam   = true
      scram = false
    }
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = aws_kms_key.lakehouse.arn
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.msk.name
      }
    }
  }

  tags = var.tags
}
