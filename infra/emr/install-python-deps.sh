#!/usr/bin/env bash
# EMR bootstrap action (every node): the Python packages the lakehouse wheel needs at run time that
# EMR 7 does not ship. Spark and Delta's jars come with the cluster (delta-defaults: delta.enabled).
# Shipped to <release>/bootstrap/install-python-deps.sh by `lakehouse-ship-artifacts`.
set -euo pipefail
sudo python3 -m pip install --quiet "PyYAML>=5.4,<7"
# Delta's Python API only (pure Python); its jars are EMR's own Delta 3.3.
sudo python3 -m pip install --quiet --no-deps "delta-spark>=3.3.0,<3.4"
