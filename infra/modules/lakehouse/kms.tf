# One customer-managed key for the lake, the artifacts, the secrets, the Delta log table and MSK,
# rotated yearly.
resource "aws_kms_key" "lakehouse" {
  description             = "${local.name}: lake, artifacts and Kafka at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  tags                    = var.tags
}

resource "aws_kms_alias" "lakehouse" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.lakehouse.key_id
}
