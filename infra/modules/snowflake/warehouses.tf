# The design's three warehouses, one workload each: dbt (DBT_TRANSFORM_WH), dashboards and analysts
# (ANALYTICS_WH), data science (DATA_SCIENCE_WH). All suspend after 60 s idle and resume on the next
# query; each scales out to max_cluster_count clusters under concurrency (multi-cluster). Each has its
# own resource monitor: e-mails at the notify thresholds, suspends at 100 % of its monthly credit
# quota (running queries finish), and at 110 % cancels what still runs. The quota resets monthly
# from creation (no frequency/start timestamp set: Snowflake's default).

resource "snowflake_resource_monitor" "warehouse" {
  for_each = var.warehouses

  name                      = "${each.key}_MONITOR"
  credit_quota              = each.value.credit_quota
  notify_triggers           = var.monitor_notify_triggers
  suspend_trigger           = var.monitor_suspend_trigger
  suspend_immediate_trigger = var.monitor_suspend_immediate_trigger
  notify_users              = var.monitor_notify_users
}

resource "snowflake_warehouse" "this" {
  for_each = var.warehouses

  name                = each.key
  warehouse_size      = each.value.size
  min_cluster_count   = each.value.min_cluster_count
  max_cluster_count   = each.value.max_cluster_count
  scaling_policy      = each.value.scaling_policy
  auto_suspend        = var.auto_suspend_seconds
  auto_resume         = "true"
  initially_suspended = true
  resource_monitor    = snowflake_resource_monitor.warehouse[each.key].fully_qualified_name
  comment             = each.value.comment
}
