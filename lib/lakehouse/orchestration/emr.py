"""The EMR side: the transient cluster's RunJobFlow request and the look-up of already submitted steps.

A step is named after its DAG run and task (commands.step_name). Before submitting, a retried
task looks for a step of that name that is pending, running or completed, and reuses it: so a
retry after a lost API response, a killed worker or a failed sensor never runs a job twice. A
step that failed or was cancelled is not reused: submitting again is what a retry is for.
"""
from __future__ import annotations

from collections.abc import Iterable

from lakehouse.config import Config

REUSABLE_STEP_STATES = ("PENDING", "CANCEL_PENDING", "RUNNING", "COMPLETED")
BOOTSTRAP_SCRIPT = "bootstrap/install-python-deps.sh"


def job_flow_overrides(cfg: Config, name: str, release: str) -> dict:
    """The RunJobFlow request of a transient cluster for one DAG run.

    Args:
        cfg: the environment's config (emr.cluster, emr.log_uri, s3.region for the tags).
        name: the cluster's name, e.g. "lakehouse-prod-daily_warehouse_build-<run id>".
        release: the release prefix on S3 holding the bootstrap script (commands.release_uri).
    """
    cluster = cfg.emr.cluster
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
    request = {
        "Name": name,
        "ReleaseLabel": cluster.release_label,
        "Applications": [{"Name": "Spark"}],
        "Configurations": [
            # EMR's own Delta jars (Delta 3.3 from emr-7.8); the wheel does not ship Delta.
            {"Classification": "delta-defaults", "Properties": {"delta.enabled": "true"}},
        ],
        "BootstrapActions": [
            {"Name": "install-python-deps",
             "ScriptBootstrapAction": {"Path": f"{release}/{BOOTSTRAP_SCRIPT}", "Args": []}},
        ],
        "Instances": instances,
        "JobFlowRole": cluster.instance_profile,
        "ServiceRole": cluster.service_role,
        "StepConcurrencyLevel": cluster.step_concurrency,
        "AutoTerminationPolicy": {"IdleTimeout": cluster.idle_timeout_minutes * 60},
        "VisibleToAllUsers": True,
        "Tags": [{"Key": key, "Value": value}
                 for key, value in sorted({**cluster.tags, "environment": cfg.env}.items())],
    }
    if cfg.emr.log_uri:
        request["LogUri"] = cfg.emr.log_uri
    return request


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
