#!/usr/bin/env bash
# Fails with a clear message when Java or Maven is missing (run `make system-deps`).
set -euo pipefail
command -v java >/dev/null || { echo "error: java not found; Java 17 is needed (make system-deps)" >&2; exit 1; }
command -v mvn >/dev/null || { echo "error: mvn not found; Maven fetches the jars (make system-deps)" >&2; exit 1; }
