"""The local lake's file system (lakehouse.fs, conf/local.yaml): Hadoop's answers, through java.nio.

Hadoop's own local file system starts a `chmod` process for every file it creates and a `readlink`
process for every link status (several per rename) when its native library is missing, as in pip's
PySpark; lakehouse.fs answers the same through java.nio.
"""
from __future__ import annotations

import os
import stat

import pytest


def hadoop_path(spark, path) -> object:
    return spark._jvm.org.apache.hadoop.fs.Path(f"file:{path}")


def file_systems(spark):
    """(ours, Hadoop's own) raw local file systems, both initialized with the session's configuration."""
    jvm = spark._jvm
    conf = spark._jsc.hadoopConfiguration()
    uri = jvm.java.net.URI("file:///")
    ours, hadoops = jvm.lakehouse.fs.NioRawLocalFileSystem(), jvm.org.apache.hadoop.fs.RawLocalFileSystem()
    for fs in (ours, hadoops):
        fs.initialize(uri, conf)
    return ours, hadoops


def no_varargs(spark, java_class):
    """An empty Java array for a varargs parameter (py4j passes none by itself)."""
    return spark.sparkContext._gateway.new_array(java_class, 0)


def link_status(fs, path) -> tuple:
    """What a rename reads of a path's link status; ("error", whether it is FileNotFoundException) if none."""
    try:
        status = fs.getFileLinkStatus(path)
    except Exception as exc:  # py4j's error names the Java exception
        return ("error", "java.io.FileNotFoundException" in str(exc))
    return (status.isFile(), status.isDirectory(), status.isSymlink(), status.getLen(), status.getPath().toString(),
            status.getSymlink().toString() if status.isSymlink() else None)


def test_local_sessions_use_it_for_file_system_and_file_context(spark):
    jvm = spark._jvm
    conf = spark._jsc.hadoopConfiguration()
    uri = jvm.java.net.URI("file:///")
    assert jvm.org.apache.hadoop.fs.FileSystem.get(uri, conf).getClass().getName() == "lakehouse.fs.NioLocalFileSystem"
    file_context = jvm.org.apache.hadoop.fs.FileContext.getFileContext(uri, conf)
    assert file_context.getDefaultFileSystem().getClass().getName() == "lakehouse.fs.NioLocalFs"


@pytest.mark.parametrize("mode", [0o644, 0o600, 0o755, 0o700, 0o1777])
def test_a_permission_set_is_the_paths_mode(spark, tmp_path, mode):
    ours, _ = file_systems(spark)
    path = tmp_path / "folder"
    path.mkdir()
    ours.setPermission(hadoop_path(spark, path), spark._jvm.org.apache.hadoop.fs.permission.FsPermission(mode))
    assert stat.S_IMODE(os.stat(path).st_mode) == mode


def test_link_status_is_hadoops_for_files_folders_links_and_missing_paths(spark, tmp_path):
    ours, hadoops = file_systems(spark)
    (tmp_path / "file").write_text("twelve bytes")
    (tmp_path / "folder").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "file")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    for name in ("file", "folder", "link", "dangling", "missing"):
        path = hadoop_path(spark, tmp_path / name)
        assert link_status(ours, path) == link_status(hadoops, path), name
    assert link_status(ours, hadoop_path(spark, tmp_path / "missing")) == ("error", True)


def test_a_rename_through_file_context_moves_the_file_and_its_checksum(spark, tmp_path):
    jvm = spark._jvm
    conf = spark._jsc.hadoopConfiguration()
    file_context = jvm.org.apache.hadoop.fs.FileContext.getFileContext(jvm.java.net.URI("file:///"), conf)
    source, target = hadoop_path(spark, tmp_path / "a.json"), hadoop_path(spark, tmp_path / "b.json")
    create = jvm.java.util.EnumSet.of(jvm.org.apache.hadoop.fs.CreateFlag.CREATE)
    stream = file_context.create(source, create, no_varargs(spark, jvm.org.apache.hadoop.fs.Options.CreateOpts))
    stream.write(bytearray(b"{}"))
    stream.close()
    file_context.rename(source, target, no_varargs(spark, jvm.org.apache.hadoop.fs.Options.Rename))
    assert sorted(p.name for p in tmp_path.iterdir()) == [".b.json.crc", "b.json"]
    assert (tmp_path / "b.json").read_text() == "{}"
