# The secrets the config references (`secretsmanager:<id>#key`): created empty here, their values
# are put by the owners of the databases, never by Terraform (the state would hold them).
resource "aws_secretsmanager_secret" "this" {
  for_each    = toset(var.secret_ids)
  name        = each.value
  kms_key_id  = aws_kms_key.lakehouse.arn
  description = "${local.name}: read by the EMR jobs (conf: secretsmanager:${each.value})"
  tags        = var.tags
}
