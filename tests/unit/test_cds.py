"""Which class-data sharing archive a local driver starts with (lakehouse.spark.cds), without starting Spark."""
from __future__ import annotations

import os

from lakehouse.config import load_config
from lakehouse.spark import cds
from lakehouse.spark.session import driver_class_path, spark_conf, spark_submit_args
from tests.conftest import CONF_DIR, local_config


def config_with_archives(folder, *overrides):
    (folder / "ak").write_text("AK-test")
    (folder / "sk").write_text("SK-test")
    return local_config(f"spark.cds_dir={folder}/cds", f"s3.access_key=file:{folder}/ak",
                        f"s3.secret_key=file:{folder}/sk", *overrides)


def recorded(cfg):
    """Stands for `build_archive`'s result: an archive file where the driver looks for it."""
    path = cds.archive_path(cfg, driver_class_path(cfg))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"archive")
    return path


def test_a_local_driver_maps_the_archive_recorded_for_its_class_path(tmp_path):
    cfg = config_with_archives(tmp_path)
    assert cds.java_options(cfg, driver_class_path(cfg)) == []
    assert "spark.driver.extraJavaOptions" not in spark_conf(cfg)
    path = recorded(cfg)
    option = f"-XX:SharedArchiveFile={path}"
    assert spark_conf(cfg)["spark.driver.extraJavaOptions"] == option
    args = spark_submit_args(cfg, ["-XX:TieredStopAtLevel=1"])
    assert args[args.index("--driver-java-options") + 1] == f"{option} -XX:TieredStopAtLevel=1"


def test_java_options_of_the_config_are_kept_after_the_archive(tmp_path):
    cfg = config_with_archives(tmp_path, "spark.conf.spark.driver.extraJavaOptions=-Dx=1")
    path = recorded(cfg)
    assert spark_conf(cfg)["spark.driver.extraJavaOptions"] == f"-XX:SharedArchiveFile={path} -Dx=1"


def test_another_jar_or_a_changed_one_needs_another_archive(tmp_path):
    cfg = config_with_archives(tmp_path)
    jar = tmp_path / "extra.jar"
    jar.write_bytes(b"one")
    before = cds.archive_path(cfg, [*driver_class_path(cfg), str(jar)])
    assert before != cds.archive_path(cfg, driver_class_path(cfg))
    jar.write_bytes(b"two!")
    os.utime(jar, ns=(1, 1))
    assert cds.archive_path(cfg, [*driver_class_path(cfg), str(jar)]) != before


def test_no_archive_without_a_folder_or_with_a_cluster_master(tmp_path):
    assert cds.archive_path(load_config("prod", CONF_DIR, environ={}), []) is None
    assert cds.archive_path(config_with_archives(tmp_path, "spark.cds_dir=null"), []) is None
    assert cds.archive_path(config_with_archives(tmp_path, "spark.master=yarn"), []) is None
