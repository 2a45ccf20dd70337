# EMR-managed security groups (EMR adds its own intra-cluster rules to them) and MSK's. Brokers
# accept IAM-authenticated TLS clients (9098) from the cluster nodes only; the Postgres replica
# accepts the nodes.

resource "aws_security_group" "emr_primary" {
  name                   = "${local.name}-emr-primary"
  description            = "EMR-managed: primary node"
  vpc_id                 = var.vpc_id
  revoke_rules_on_delete = true # EMR adds rules that would block deletion
  tags                   = merge(var.tags, { "for-use-with-amazon-emr-managed-policies" = "true" })
}

resource "aws_security_group" "emr_core" {
  name                   = "${local.name}-emr-core"
  description            = "EMR-managed: core and task nodes"
  vpc_id                 = var.vpc_id
  revoke_rules_on_delete = true
  tags                   = merge(var.tags, { "for-use-with-amazon-emr-managed-policies" = "true" })
}

resource "aws_security_group" "emr_service_access" {
  name                   = "${local.name}-emr-service-access"
  description            = "EMR-managed: service access in private subnets"
  vpc_id                 = var.vpc_id
  revoke_rules_on_delete = true
  tags                   = merge(var.tags, { "for-use-with-amazon-emr-managed-policies" = "true" })
}

# The one rule EMR needs on the service-access group in a private subnet.
resource "aws_vpc_security_group_ingress_rule" "service_access_from_primary" {
  security_group_id            = aws_security_group.emr_service_access.id
  referenced_security_group_id = aws_security_group.emr_primary.id
  ip_protocol                  = "tcp"
  from_port                    = 9443
  to_port                      = 9443
  description                  = "EMR service access from the primary node"
}

resource "aws_vpc_security_group_egress_rule" "emr_nodes_out" {
  for_each          = { primary = aws_security_group.emr_primary.id, core = aws_security_group.emr_core.id }
  security_group_id = each.value
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
  description       = "S3, Secrets Manager, MSK and Postgres through the VPC's endpoints and NAT"
}

resource "aws_security_group" "msk" {
  name        = "${local.name}-msk"
  description = "MSK brokers: IAM-authenticated TLS clients from the EMR nodes"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "msk_iam_from_emr" {
  for_each                     = { primary = aws_security_group.emr_primary.id, core = aws_security_group.emr_core.id }
  security_group_id            = aws_security_group.msk.id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 9098
  to_port                      = 9098
  description                  = "Kafka over TLS with IAM sign-in from EMR ${each.key} nodes"
}

resource "aws_vpc_security_group_ingress_rule" "postgres_from_emr" {
  for_each = var.postgres_security_group_id == null ? {} : {
    primary = aws_security_group.emr_primary.id
    core    = aws_security_group.emr_core.id
  }
  security_group_id            = var.postgres_security_group_id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  description                  = "JDBC extract from EMR ${each.key} nodes"
}
