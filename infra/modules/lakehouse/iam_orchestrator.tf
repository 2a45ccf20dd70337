# What Airflow needs to run the DAGs' EMR path: create, use and end clusters tagged with its
# environment, pass the two EMR roles, and ship releases (lakehouse-ship-artifacts from CI).

data "aws_iam_policy_document" "orchestrator" {
  statement {
    sid       = "CreateTaggedClusters"
    actions   = ["elasticmapreduce:RunJobFlow"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/environment"
      values   = [var.environment]
    }
  }

  statement {
    sid = "UseAndEndOwnClusters"
    actions = [
      "elasticmapreduce:AddJobFlowSteps", "elasticmapreduce:DescribeCluster", "elasticmapreduce:DescribeStep",
      "elasticmapreduce:ListSteps", "elasticmapreduce:TerminateJobFlows", "elasticmapreduce:AddTags",
    ]
    resources = ["arn:${local.partition}:elasticmapreduce:${local.region}:${local.account_id}:cluster/*"]
    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/environment"
      values   = [var.environment]
    }
  }

  statement {
    sid       = "PassTheEmrRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.emr_service.arn, aws_iam_role.emr_instance.arn]
  }

  statement {
    sid       = "ShipReleases"
    actions   = ["s3:PutObject", "s3:GetObject"]
    resources = [
      "${local.artifacts_arn}/${var.artifacts_prefix}/releases/*",
      "${local.artifacts_arn}/${var.artifacts_prefix}/jars/*",
    ]
  }

  statement {
    sid       = "EncryptReleases"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [aws_kms_key.lakehouse.arn]
  }
}

resource "aws_iam_policy" "orchestrator" {
  name   = "${local.name}-orchestrator"
  policy = data.aws_iam_policy_document.orchestrator.json
  tags   = var.tags
}

resource "aws_iam_role_policy_attachment" "orchestrator" {
  count      = var.airflow_role_name == null ? 0 : 1
  role       = var.airflow_role_name
  policy_arn = aws_iam_policy.orchestrator.arn
}
