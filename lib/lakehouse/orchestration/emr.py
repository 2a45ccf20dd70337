"""The EMR side: the clusters' RunJobFlow requests, the ingest cluster look-up, and the look-up of
already submitted steps.

Two kinds of cluster (README "Cost model"): the daily DAGs create a transient cluster per run and
end it; the frequent ones (streaming every 15 minutes, the hourly extract) share one long-running
*ingest* cluster, found by its name and tags and created when none is up. It ends itself after
`emr.ingest_cluster.idle_timeout_minutes` without steps, so it costs nothing once Airflow stops.

A step is named after its DAG run and task (commands.step_name). Before submitting, a task looks
for a step of that name that is pending, running or completed, and reuses it: so a retry after a
lost API response or a killed worker never runs a job twice. A step that failed or was cancelled
is not reused: submitting again is what a retry is for.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Literal, Optional

from lakehouse.config import Config

log = logging.getLogger(__name__)

REUSABLE_STEP_STATES = ("PENDING", "CANCEL_PENDING", "RUNNING", "COMPLETED")
ACTIVE_CLUSTER_STATES = ("STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING")
PURPOSE_TAG = "lakehouse-cluster"   # transient | ingest
Purpose = Literal["transient", "ingest"]


def ingest_cluster_name(cfg: Config) -> str:
    return f"{cfg.emr.cluster.name}-{cfg.env}-ingest"


def job_flow_overrides(cfg: Config, name: str, purpose: Purpose = "transient") -> dict:
    """The RunJobFlow request of a cluster.

    Args:
        cfg: the environment's config (emr.cluster, emr.ingest_cluster, emr.log_uri).
        name: the cluster's name, e.g. "lakehouse-prod-daily_warehouse_build-<run id>".
        purpose: "transient" (one DAG run; ended by the DAG) or "ingest" (long-running, shared).
    """
    cluster = cfg.emr.cluster
    if purpose == "ingest":
        idle_minutes, concurrency = cfg.emr.ingest_cluster.idle_timeout_minutes, cfg.emr.ingest_cluster.step_concurrency
    else:
        idle_minutes, concurrency = cluster.idle_timeout_minutes, cluster.step_concurrency
    instances: dict = {
        "InstanceGroups": [
            {"Name": "primary", "Market": "ON_DEMAND", "InstanceRole": "MASTER",
             "InstanceType": cluster.master_instance_type, "InstanceCount": 1},
            {"Name": "core", "Market": "ON_DEMAND", "InstanceRole": "CORE",
             "InstanceType": cluster.core_instance_type, "InstanceCount": cluster.core_instance_count},
        ],
        # Steps arrive one task at a time; the DAG's teardown task (or the idle timeout) ends it.
        "KeepJobFlowAliveWhenNoSteps": True,
        "TerminationProtected": False,
    }
    optional = {
        "Ec2SubnetId": cluster.subnet_id,
        "EmrManagedMasterSecurityGroup": cluster.master_security_group,
        "EmrManagedSlaveSecurityGroup": cluster.worker_security_group,
        "ServiceAccessSecurityGroup": cluster.service_security_group,
    }
    instances.update({key: value for key, value in optional.items() if value})
    tags = {**cluster.tags, "environment": cfg.env, PURPOSE_TAG: purpose}
    request = {
        "Name": name,
        "ReleaseLabel": cluster.release_label,
        "Applications": [{"Name": "Spark"}],
        "Configurations": [
            # EMR's own Delta jars (Delta 3.3 from emr-7.8); the release does not ship Delta.
            {"Classification": "delta-defaults", "Properties": {"delta.enabled": "true"}},
        ],
        "Instances": instances,
        "JobFlowRole": cluster.instance_profile,
        "ServiceRole": cluster.service_role,
        "StepConcurrencyLevel": concurrency,
        "AutoTerminationPolicy": {"IdleTimeout": idle_minutes * 60},
        "VisibleToAllUsers": True,
        "Tags": [{"Key": key, "Value": value} for key, value in sorted(tags.items())],
    }
    if cfg.emr.log_uri:
        request["LogUri"] = cfg.emr.log_uri
    if cluster.security_configuration:
        # Encryption at rest and in transit, IMDSv2 (infra/modules/lakehouse/emr_security.tf).
        request["SecurityConfiguration"] = cluster.security_configuration
    return request


def find_cluster(emr_client, name: str, environment: str, purpose: Purpose) -> Optional[str]:
    """The id of the active cluster named `name` and tagged with `environment` and `purpose`, or None.

    Should two be up (a creation raced a look-up), the oldest is used, so every DAG converges on
    the same one; the other ends by its idle timeout.
    """
    candidates = []
    paginator = emr_client.get_paginator("list_clusters")
    for page in paginator.paginate(ClusterStates=list(ACTIVE_CLUSTER_STATES)):
        candidates += [c for c in page["Clusters"] if c["Name"] == name]
    found = []
    for summary in candidates:
        cluster = emr_client.describe_cluster(ClusterId=summary["Id"])["Cluster"]
        tags = {tag["Key"]: tag["Value"] for tag in cluster.get("Tags", [])}
        if tags.get("environment") == environment and tags.get(PURPOSE_TAG) == purpose:
            found.append((cluster["Status"]["Timeline"]["CreationDateTime"], cluster["Id"]))
    if len(found) > 1:
        log.warning("%d active clusters named %s: using the oldest, %s", len(found), name, min(found)[1])
    return min(found)[1] if found else None


def find_reusable_steps(emr_client, cluster_id: str, names: Iterable[str]) -> dict[str, str]:
    """Maps each of `names` that already has a pending, running or completed step to that step's id.

    When a name has several such steps (a step resubmitted after a failure, say), the newest wins.
    """
    wanted = set(names)
    found: dict[str, tuple] = {}
    paginator = emr_client.get_paginator("list_steps")
    for page in paginator.paginate(ClusterId=cluster_id, StepStates=list(REUSABLE_STEP_STATES)):
        for step in page["Steps"]:
            if step["Name"] not in wanted:
                continue
            created = step["Status"]["Timeline"]["CreationDateTime"]
            if step["Name"] not in found or created > found[step["Name"]][0]:
                found[step["Name"]] = (created, step["Id"])
    return {name: step_id for name, (_, step_id) in found.items()}
