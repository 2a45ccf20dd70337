# Alarms on what the jobs send (lakehouse.ops.metrics, namespace var.metrics_namespace), on MSK and the
# lake bucket, and on failed EMR steps, all to one SNS topic that pages the same people as the Airflow
# alerts (conf: airflow.alert_emails; var.alarm_https_endpoints for the PagerDuty integration URL).
# README "Operations" says what each one means and what to do when it fires.

locals {
  alarm_topics   = toset(var.kafka_topics)                                  # bronze.<topic>: topics are named after their contracts
  alarm_silver   = toset(["user_events", "transactions", "system_metrics"]) # silver tables the streams write
  alarm_brokers  = toset([for id in range(1, var.kafka_broker_count + 1) : tostring(id)])
  alarm_period_s = 300
  alarm_actions  = [aws_sns_topic.alarms.arn]
}

resource "aws_sns_topic" "alarms" {
  name              = "${local.name}-alarms"
  kms_master_key_id = aws_kms_key.lakehouse.arn
  tags              = var.tags
}

data "aws_iam_policy_document" "alarms_topic" {
  statement {
    sid       = "CloudWatchAndEventBridgePublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alarms.arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.alarms_topic.json
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_sns_topic_subscription" "https" {
  for_each  = toset(var.alarm_https_endpoints)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "https"
  endpoint  = each.value
}

# Bronze falls behind its topic: records between the last batch's end offsets and the topic's end.
resource "aws_cloudwatch_metric_alarm" "consumer_lag" {
  for_each            = local.alarm_topics
  alarm_name          = "${local.name}-consumer-lag-${each.key}"
  alarm_description   = "bronze.${each.key} is more than ${var.alarm_consumer_lag_records} records behind topic ${each.key}"
  namespace           = var.metrics_namespace
  metric_name         = "ConsumerLag"
  dimensions          = { job = "kafka_to_bronze", table = "bronze.${each.key}", topic = each.key }
  statistic           = "Maximum"
  period              = local.alarm_period_s
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_consumer_lag_records
  treat_missing_data  = "notBreaching" # no batch at all is the no-data alarm's
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

# Silver is stale: the newest Kafka timestamp it committed is older than the limit.
resource "aws_cloudwatch_metric_alarm" "silver_freshness" {
  for_each            = local.alarm_silver
  alarm_name          = "${local.name}-freshness-silver-${each.key}"
  alarm_description   = "silver.${each.key} holds nothing newer than ${var.alarm_silver_freshness_minutes} minutes"
  namespace           = var.metrics_namespace
  metric_name         = "Freshness"
  dimensions          = { job = "bronze_to_silver", table = "silver.${each.key}" }
  statistic           = "Minimum"
  period              = local.alarm_period_s
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_silver_freshness_minutes * 60
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

# The producer broke its contract: a larger share of silver's input goes to quarantine.
resource "aws_cloudwatch_metric_alarm" "quarantine_rate" {
  for_each            = local.alarm_silver
  alarm_name          = "${local.name}-quarantine-rate-silver-${each.key}"
  alarm_description   = "over ${var.alarm_quarantine_rate_percent}% of silver.${each.key}'s input was quarantined"
  namespace           = var.metrics_namespace
  metric_name         = "QuarantineRate"
  dimensions          = { job = "bronze_to_silver", table = "silver.${each.key}" }
  statistic           = "Average"
  period              = local.alarm_period_s
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_quarantine_rate_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

# Nothing arrives: bronze read no record for N periods (a stopped job, or a silent producer).
resource "aws_cloudwatch_metric_alarm" "no_data" {
  for_each            = local.alarm_topics
  alarm_name          = "${local.name}-no-data-${each.key}"
  alarm_description   = "bronze.${each.key} read no record for ${var.alarm_no_data_periods} periods of ${local.alarm_period_s} s"
  namespace           = var.metrics_namespace
  metric_name         = "RowsIn"
  dimensions          = { job = "kafka_to_bronze", table = "bronze.${each.key}" }
  statistic           = "Sum"
  period              = local.alarm_period_s
  evaluation_periods  = var.alarm_no_data_periods
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching" # no datum at all: the job is not running
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "broker_cpu" {
  for_each            = local.alarm_brokers
  alarm_name          = "${local.name}-msk-cpu-broker-${each.key}"
  alarm_description   = "MSK broker ${each.key} of ${var.msk_cluster_name} above ${var.alarm_broker_cpu_percent}% CPU"
  namespace           = "AWS/Kafka"
  metric_name         = "CpuUser"
  dimensions          = { "Cluster Name" = var.msk_cluster_name, "Broker ID" = each.key }
  statistic           = "Average"
  period              = local.alarm_period_s
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_broker_cpu_percent
  treat_missing_data  = "missing"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "broker_disk" {
  for_each            = local.alarm_brokers
  alarm_name          = "${local.name}-msk-disk-broker-${each.key}"
  alarm_description   = "MSK broker ${each.key} of ${var.msk_cluster_name} data log disk above ${var.alarm_broker_disk_percent}%"
  namespace           = "AWS/Kafka"
  metric_name         = "KafkaDataLogsDiskUsed"
  dimensions          = { "Cluster Name" = var.msk_cluster_name, "Broker ID" = each.key }
  statistic           = "Maximum"
  period              = local.alarm_period_s
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_broker_disk_percent
  treat_missing_data  = "missing"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

# The lake grows faster than usual (a replay loop, a job writing duplicates): S3's daily size above the
# band CloudWatch's anomaly detection learned.
resource "aws_cloudwatch_metric_alarm" "lake_growth" {
  alarm_name          = "${local.name}-lake-growth"
  alarm_description   = "bucket ${var.lake_bucket_name} grew above its expected band"
  comparison_operator = "GreaterThanUpperThreshold"
  evaluation_periods  = 1
  threshold_metric_id = "band"
  treat_missing_data  = "missing"
  alarm_actions       = local.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "size"
    return_data = true
    metric {
      namespace   = "AWS/S3"
      metric_name = "BucketSizeBytes"
      dimensions  = { BucketName = var.lake_bucket_name, StorageType = "StandardStorage" }
      stat        = "Average"
      period      = 86400
    }
  }

  metric_query {
    id          = "band"
    expression  = "ANOMALY_DETECTION_BAND(size, ${var.alarm_lake_growth_band})"
    label       = "expected size"
    return_data = true
  }
}

# A failed EMR step (a job that ended in error): EMR publishes no step metric, but an event per step.
resource "aws_cloudwatch_event_rule" "emr_step_failed" {
  name        = "${local.name}-emr-step-failed"
  description = "EMR steps of the lakehouse clusters that ended FAILED"
  event_pattern = jsonencode({
    source      = ["aws.emr"]
    detail-type = ["EMR Step Status Change"]
    detail      = { state = ["FAILED"] }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "emr_step_failed" {
  rule = aws_cloudwatch_event_rule.emr_step_failed.name
  arn  = aws_sns_topic.alarms.arn
}
