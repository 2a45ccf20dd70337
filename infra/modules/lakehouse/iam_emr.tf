# EMR's two roles. The service role manages the cluster (AWS's v2 policy, scoped by tags); the
# instance role is what the jobs run as, and reaches only the lake, the Delta log table, what the
# jobs read from the artifacts bucket, the logs, the listed secrets and the key.

data "aws_iam_policy_document" "emr_service_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["elasticmapreduce.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "emr_service" {
  name               = var.emr_service_role_name
  assume_role_policy = data.aws_iam_policy_document.emr_service_trust.json
  tags               = var.tags
}

# AmazonEMRServicePolicy_v2 acts only on resources tagged for-use-with-amazon-emr-managed-policies.
resource "aws_iam_role_policy_attachment" "emr_service" {
  role       = aws_iam_role.emr_service.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEMRServicePolicy_v2"
}

data "aws_iam_policy_document" "emr_service_pass_role" {
  statement {
    sid       = "PassTheInstanceRoleOnly"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.emr_instance.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ec2.amazonaws.com"]
    }
  }
}

# Local-disk encryption (emr_security.tf) encrypts the nodes' EBS volumes with the lakehouse key:
# EC2 does that through grants the service role creates, for AWS resources only.
data "aws_iam_policy_document" "emr_service_ebs_key" {
  statement {
    sid       = "EncryptTheNodesVolumes"
    actions   = ["kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
    resources = [aws_kms_key.lakehouse.arn]
  }

  statement {
    sid       = "LetEc2UseTheKeyForTheVolumes"
    actions   = ["kms:CreateGrant"]
    resources = [aws_kms_key.lakehouse.arn]
    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }
}

resource "aws_iam_role_policy" "emr_service_ebs_key" {
  name   = "encrypt-node-volumes"
  role   = aws_iam_role.emr_service.id
  policy = data.aws_iam_policy_document.emr_service_ebs_key.json
}

resource "aws_iam_role_policy" "emr_service_pass_role" {
  name   = "pass-instance-role"
  role   = aws_iam_role.emr_service.id
  policy = data.aws_iam_policy_document.emr_service_pass_role.json
}

data "aws_iam_policy_document" "ec2_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "emr_instance" {
  name               = var.emr_instance_profile_name
  assume_role_policy = data.aws_iam_policy_document.ec2_trust.json
  tags               = var.tags
}

resource "aws_iam_instance_profile" "emr_instance" {
  name = var.emr_instance_profile_name
  role = aws_iam_role.emr_instance.name
}

locals {
  lake_arn      = aws_s3_bucket.this["lake"].arn
  artifacts_arn = aws_s3_bucket.this["artifacts"].arn
  # MSK's IAM resources: topic/<cluster name>/<cluster uuid>/<topic>, group/<cluster name>/<cluster uuid>/<group>.
  msk_resource = "arn:${local.partition}:kafka:${local.region}:${local.account_id}:%s/${var.msk_cluster_name}/${aws_msk_cluster.this.cluster_uuid}/%s"
}

data "aws_iam_policy_document" "emr_instance" {
  # GetBucketLocation carries no s3:prefix, so it cannot sit under the prefix condition below.
  statement {
    sid       = "LocateTheLake"
    actions   = ["s3:GetBucketLocation"]
    resources = [local.lake_arn]
  }

  statement {
    sid       = "ListTheLakeAndCheckpoints"
    actions   = ["s3:ListBucket"]
    resources = [local.lake_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.lake_prefix}/*", "${var.checkpoint_prefix}/*", var.lake_prefix, var.checkpoint_prefix]
    }
  }

  statement {
    sid     = "ReadWriteTheLakeAndCheckpoints"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [
      "${local.lake_arn}/${var.lake_prefix}/*",
      "${local.lake_arn}/${var.checkpoint_prefix}/*",
    ]
  }

  # S3DynamoDBLogStore's calls, on its table only: DescribeTable when a driver starts (the table
  # exists: Terraform made it, so no CreateTable), a conditional PutItem to claim a commit and a
  # plain one to mark it complete, GetItem and Query (latest entry of a table) to find and recover
  # unfinished commits.
  statement {
    sid       = "CommitThroughTheDeltaLogTable"
    actions   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
    resources = [aws_dynamodb_table.delta_log.arn]
  }

  # What the jobs read from the artifacts bucket and nothing else (tests/infra checks this against
  # the S3 URIs the config names): the release (emr.artifacts_uri: wheel, packed Python deps, job
  # files, config), the extra jars (spark.extra_jars) and the reference data (streaming.fx_rates_seed).
  statement {
    sid       = "ListReleasesJarsAndReference"
    actions   = ["s3:ListBucket"]
    resources = [local.artifacts_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values = [
        "${var.artifacts_prefix}/releases/*",
        "${var.artifacts_prefix}/jars/*",
        "${var.artifacts_prefix}/reference/*",
      ]
    }
  }

  statement {
    sid     = "ReadReleasesJarsAndReference"
    actions = ["s3:GetObject"]
    resources = [
      "${local.artifacts_arn}/${var.artifacts_prefix}/releases/*",
      "${local.artifacts_arn}/${var.artifacts_prefix}/jars/*",
      "${local.artifacts_arn}/${var.artifacts_prefix}/reference/*",
    ]
  }

  # The PEM zip of EMR's in-transit TLS (emr_security.tf): every node fetches it when it starts.
  statement {
    sid       = "ReadTheTlsCertificates"
    actions   = ["s3:GetObject"]
    resources = ["arn:${local.partition}:s3:::${trimprefix(var.emr_tls_certificates_s3_uri, "s3://")}"]
  }

  statement {
    sid       = "WriteClusterLogs"
    actions   = ["s3:PutObject"]
    resources = ["${local.artifacts_arn}/${var.artifacts_prefix}/emr-logs/*"]
  }

  # MSK with IAM sign-in: connect, then read only the streamed topics (metadata and offsets:
  # DescribeTopic; records: ReadData) as only the jobs' consumer groups (Spark's generated ones under
  # lakehouse-bronze, and the offset look-ups'). No write, create or alter of topics.
  statement {
    sid       = "ConnectToKafka"
    actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"]
    resources = [aws_msk_cluster.this.arn]
  }

  statement {
    sid       = "ReadTheStreamedTopics"
    actions   = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
    resources = [for topic in var.kafka_topics : format(local.msk_resource, "topic", topic)]
  }

  statement {
    sid       = "UseTheJobsConsumerGroups"
    actions   = ["kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"]
    resources = [for group in var.kafka_consumer_groups : format(local.msk_resource, "group", group)]
  }

  statement {
    sid       = "ReadTheConfiguredSecrets"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [for secret in aws_secretsmanager_secret.this : secret.arn]
  }

  statement {
    sid       = "UseTheLakehouseKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.lakehouse.arn]
  }

  statement {
    sid = "DescribeOwnCluster"
    actions = [
      "elasticmapreduce:DescribeCluster",
      "elasticmapreduce:ListInstanceGroups", "elasticmapreduce:ListInstances", "elasticmapreduce:ListSteps",
    ]
    resources = ["arn:${local.partition}:elasticmapreduce:${local.region}:${local.account_id}:cluster/*"]
  }
}

resource "aws_iam_role_policy" "emr_instance" {
  name   = "lakehouse-jobs"
  role   = aws_iam_role.emr_instance.id
  policy = data.aws_iam_policy_document.emr_instance.json
}
