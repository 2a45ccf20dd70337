# The lake as Snowflake sees it: a storage integration (Snowflake's IAM user assuming an AWS role)
# and the external stage at the lake root that dbt's external tables read (location
# @RAW_DATA.LAKE.LAKE_STAGE/silver/<table>/). Terraform creates both, so dbt never needs ACCOUNTADMIN.
#
# The role's ARN is built from its name, so the integration can name it before it exists; the role's
# trust then names the integration's IAM user and external id (no cycle).

locals {
  lake_url                 = "s3://${var.lake_bucket_name}/${var.lake_prefix}/"
  snowflake_lake_role_name = "${var.environment}-snowflake-lake-reader"
  snowflake_lake_role_arn  = "arn:${local.partition}:iam::${local.account_id}:role/${local.snowflake_lake_role_name}"
  lake_bucket_arn          = "arn:${local.partition}:s3:::${var.lake_bucket_name}"
}

resource "snowflake_storage_integration" "lake" {
  name                      = var.storage_integration_name
  type                      = "EXTERNAL_STAGE"
  enabled                   = true
  storage_provider          = "S3"
  storage_aws_role_arn      = local.snowflake_lake_role_arn
  storage_allowed_locations = [local.lake_url]
  comment                   = "The lake's silver Delta tables, read by the external tables in ${var.raw_database}"
}

resource "snowflake_stage" "lake" {
  name                = var.stage_name
  database            = snowflake_database.raw.name
  schema              = snowflake_schema.raw[var.stage_schema].name
  url                 = local.lake_url
  storage_integration = snowflake_storage_integration.lake.name
  file_format         = "TYPE = PARQUET"
  comment             = "The lake root; external tables read <stage>/silver/<table>/"
}

# Only Snowflake's IAM user of this integration, presenting its external id, may assume the role.
data "aws_iam_policy_document" "snowflake_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = [snowflake_storage_integration.lake.storage_aws_iam_user_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [snowflake_storage_integration.lake.storage_aws_external_id]
    }
  }
}

resource "aws_iam_role" "snowflake_lake" {
  name               = local.snowflake_lake_role_name
  assume_role_policy = data.aws_iam_policy_document.snowflake_trust.json
  tags               = var.tags
}

# Read only, and only the prefixes the external tables read; the objects are SSE-KMS with the
# lakehouse key, so Decrypt on that key (through S3 only).
data "aws_iam_policy_document" "snowflake_lake" {
  statement {
    sid       = "ListTheReadPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [local.lake_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = flatten([for folder in var.lake_read_prefixes : ["${var.lake_prefix}/${folder}", "${var.lake_prefix}/${folder}/*"]])
    }
  }

  statement {
    sid       = "LocateTheLake"
    actions   = ["s3:GetBucketLocation"]
    resources = [local.lake_bucket_arn]
  }

  statement {
    sid       = "ReadTheReadPrefixes"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = [for folder in var.lake_read_prefixes : "${local.lake_bucket_arn}/${var.lake_prefix}/${folder}/*"]
  }

  statement {
    sid       = "DecryptTheLake"
    actions   = ["kms:Decrypt"]
    resources = [var.lake_kms_key_arn]
    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      values   = ["s3.*.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "snowflake_lake" {
  name   = "read-the-lake"
  role   = aws_iam_role.snowflake_lake.id
  policy = data.aws_iam_policy_document.snowflake_lake.json
}
