# The table Delta's S3DynamoDBLogStore commits through (conf: lake.log_store dynamodb,
# lake.log_store_table): this log store does not trust S3 to keep two commits of one version
# apart, so each commit first claims its log file name here with a conditional put. That is what
# makes several drivers (streaming, extract, maintenance) writing the same Delta table on S3 safe.
# The key schema is Delta's own.
#
# Terraform creates it, so the jobs never need dynamodb:CreateTable (Delta would otherwise create
# one with provisioned throughput on first use).

resource "aws_dynamodb_table" "delta_log" {
  name         = "${var.environment}-lakehouse-delta-log"
  billing_mode = "PAY_PER_REQUEST" # commits come in bursts; nothing to size
  hash_key     = "tablePath"
  range_key    = "fileName"

  attribute {
    name = "tablePath"
    type = "S"
  }

  attribute {
    name = "fileName"
    type = "S"
  }

  # Delta stamps each completed entry with expireTime (commit + ddb.ttl, a day by default), after
  # which it no longer needs it: TTL deletes it, so the table does not grow with every commit.
  ttl {
    attribute_name = "expireTime"
    enabled        = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.lakehouse.arn
  }

  point_in_time_recovery {
    enabled = true
  }

  tags = var.tags
}
