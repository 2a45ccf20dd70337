"""The class-data sharing archive `make setup` records is the one a local job's driver maps at start."""
from __future__ import annotations

import subprocess
import sys

from lakehouse.spark import cds
from lakehouse.spark.session import driver_class_path
from tests.conftest import CONF_DIR, PROJECT_ROOT, local_config

SESSION = """
from lakehouse.config import load_config
from lakehouse.spark import build_spark
cfg = load_config("local", {conf_dir!r}, ["spark.conf.spark.driver.extraJavaOptions=-Xlog:class+load=info:file={log}"],
                  environ={{}})
spark = build_spark(cfg, "cds-check")
spark.range(3).write.format("delta").save({table!r})
spark.stop()
"""


def test_a_local_driver_loads_spark_and_delta_classes_from_the_recorded_archive(tmp_path):
    cfg = local_config()
    archive = cds.archive_path(cfg, driver_class_path(cfg))
    assert archive is not None
    assert archive.is_file(), f"no archive {archive}: `make setup` records it (lakehouse-cds)"
    log = tmp_path / "classes.log"
    session = SESSION.format(conf_dir=str(CONF_DIR), log=log, table=str(tmp_path / "table"))
    subprocess.run([sys.executable, "-c", session], cwd=PROJECT_ROOT, check=True, capture_output=True, timeout=300)
    shared = {line.split()[1] for line in log.read_text().splitlines() if "source: shared objects file (top)" in line}
    assert {"org.apache.spark.sql.SparkSession", "org.apache.spark.sql.delta.DeltaLog"} <= shared
    assert len(shared) > 5000
