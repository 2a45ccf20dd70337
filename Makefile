# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Every step is idempotent: stamps skip work already done; services already up are reused.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
JARS := .local/jars
PYTEST_ARGS ?=

.PHONY: setup venv jars system-deps services-up services-down services-status topics \
        test test-unit demo bench lint wheel clean

setup: system-deps venv jars

## Debian packages the local stack needs (PostgreSQL server; Java and Maven if missing).
system-deps:
	@scripts/install-system-deps.sh

## Python virtualenv with the package (editable) and every dev/test extra, pinned by constraints.
venv: $(VENV)/.installed
$(VENV)/.installed: setup.py requirements/constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements/constraints.txt -e '.[dev]'
	@touch $@

## JVM jars from Maven Central: Spark's (Delta, Kafka source, JDBC, S3A) and the Kafka broker's.
jars: $(JARS)/spark/.done $(JARS)/kafka-broker/.done
$(JARS)/spark/.done: jars/spark/pom.xml
	@scripts/require-jvm-tools.sh
	rm -rf $(JARS)/spark && mvn -q -B -f jars/spark/pom.xml package
	@touch $@
$(JARS)/kafka-broker/.done: jars/kafka-broker/pom.xml
	@scripts/require-jvm-tools.sh
	rm -rf $(JARS)/kafka-broker && mvn -q -B -f jars/kafka-broker/pom.xml package
	@touch $@

services-up: setup
	$(BIN)/lakehouse-services up
services-down:
	@test ! -x $(BIN)/lakehouse-services || $(BIN)/lakehouse-services down
services-status:
	$(BIN)/lakehouse-services status
topics: services-up
	$(BIN)/lakehouse-services topics

## The whole suite: unit, integration (real Kafka, Postgres, S3 endpoint, Spark) and slow tests.
test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

test-unit: setup
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

demo: setup
	$(BIN)/lakehouse-demo

bench: setup
	$(BIN)/python bench/run.py $(if $(QUICK),--quick,)

lint: venv
	$(BIN)/ruff check .

## The wheel shipped to EMR with --py-files (dist/lakehouse_jobs-*.whl).
wheel: venv
	$(BIN)/python -m pip wheel -q --no-deps -w dist .

clean: services-down
	rm -rf .local dist build *.egg-info lib/*.egg-info
