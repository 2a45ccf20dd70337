# One customer-managed key for the lake, the artifacts, the secrets, the Delta log table, MSK, the
# EMR nodes' disks and the MSK broker logs, rotated yearly. Its policy lets the account's IAM
# policies grant its use (the roles in iam_*.tf), CloudWatch Logs use it for the MSK log group only, and
# CloudWatch alarms and EventBridge publish to the encrypted alarm topic (alarms.tf) with it.

data "aws_iam_policy_document" "lakehouse_key" {
  statement {
    sid       = "IamPoliciesOfTheAccountGrantItsUse"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy, "*" is this key
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchLogsEncryptsTheMskBrokerLogs"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${local.msk_log_group}"]
    }
  }

  statement {
    sid       = "CloudWatchAndEventBridgePublishToTheEncryptedAlarmTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
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

resource "aws_kms_key" "lakehouse" {
  description             = "${local.name}: lake, artifacts and Kafka at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.lakehouse_key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "lakehouse" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.lakehouse.key_id
}
