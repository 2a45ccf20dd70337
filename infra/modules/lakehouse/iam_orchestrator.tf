# What Airflow needs to run the DAGs' EMR path: find the ingest cluster, create, use and end
# clusters tagged with its environment, pass the two EMR roles, and ship releases and the
# reference data (lakehouse-ship-artifacts from CI), and read the lineage key (dbt's lineage events).

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

  # find_cluster (lakehouse.orchestration.emr) lists the active clusters to find the ingest one by
  # name. ListClusters supports no resource ARN and no tag condition, so it can only be granted on
  # "*"; it returns ids, names and states only. Everything it finds is then read with
  # DescribeCluster, which (below) answers only for clusters tagged with this environment.
  statement {
    sid       = "ListClustersToFindTheIngestCluster"
    actions   = ["elasticmapreduce:ListClusters"]
    resources = ["*"]
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

  # Exactly the prefixes the instance role reads (ReadReleasesJarsAndReference in iam_emr.tf).
  statement {
    sid     = "ShipReleases"
    actions = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]
    resources = [
      "${local.artifacts_arn}/${var.artifacts_prefix}/releases/*",
      "${local.artifacts_arn}/${var.artifacts_prefix}/jars/*",
      "${local.artifacts_arn}/${var.artifacts_prefix}/reference/*",
    ]
  }

  # DbtOperator sends dbt's lineage events from the Airflow worker with the key the jobs use.
  statement {
    sid       = "ReadTheLineageKey"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.this[var.lineage_secret_id].arn]
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
