# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
# Every step is idempotent: stamps skip work already done; services already up are reused.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
JARS := .local/jars
PYTEST_ARGS ?=

.PHONY: setup venv jars cds checkov system-deps services-up services-down services-status topics \
        test test-unit test-fast demo bench lint wheel clean ship-artifacts airflow-test

setup: system-deps venv jars checkov cds

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

## checkov (tests/infra/test_checkov.py) in a venv of its own: its exact pins clash with the project's.
CHECKOV := .local/checkov
checkov: $(CHECKOV)/.installed
$(CHECKOV)/.installed: requirements/checkov.txt
	@test -x $(CHECKOV)/bin/python || $(PYTHON) -m venv $(CHECKOV)
	$(CHECKOV)/bin/python -m pip install -q -r requirements/checkov.txt
	@touch $@

## JVM jars: Spark's from Maven Central (Delta, Kafka source, JDBC, S3A; MSK IAM sign-in for the clusters
## only, in $(JARS)/cluster) plus the project's UDFs and lineage listener filter
## (jars/udf, built with Maven), the Kafka broker's, the YARN mini cluster's (tests/deploy) and async-profiler
## (bench/run.py --cpu-profile).
UDF_SOURCES := $(shell find jars/udf/src -name '*.java')
YARN_SOURCES := $(shell find jars/yarn/src -name '*.java')
jars: $(JARS)/spark/.done $(JARS)/kafka-broker/.done $(JARS)/yarn/.done $(JARS)/profiler/.done
$(JARS)/spark/.done: jars/spark/pom.xml jars/udf/pom.xml $(UDF_SOURCES)
	@scripts/require-jvm-tools.sh
	rm -rf $(JARS)/spark $(JARS)/cluster && mvn -q -B -f jars/spark/pom.xml package && mvn -q -B -f jars/udf/pom.xml package
	@touch $@
$(JARS)/kafka-broker/.done: jars/kafka-broker/pom.xml
	@scripts/require-jvm-tools.sh
	rm -rf $(JARS)/kafka-broker && mvn -q -B -f jars/kafka-broker/pom.xml package
	@touch $@
## The EMR stand-in of tests/deploy: Hadoop's YARN mini cluster and Spark's YARN support.
$(JARS)/yarn/.done: jars/yarn/pom.xml $(YARN_SOURCES)
	@scripts/require-jvm-tools.sh
	rm -rf $(JARS)/yarn && mvn -q -B -f jars/yarn/pom.xml package
	@touch $@
$(JARS)/profiler/.done: jars/profiler/pom.xml
	@scripts/require-jvm-tools.sh
	rm -rf $(JARS)/profiler && mvn -q -B -f jars/profiler/pom.xml package
	@touch $@

## The class-data sharing archive local Spark drivers start with (lakehouse.spark.cds): recorded once per
## JDK and set of jars (about a minute), then a no-op.
cds: venv jars
	@$(BIN)/lakehouse-cds

services-up: setup
	$(BIN)/lakehouse-services up
services-down:
	@test ! -x $(BIN)/lakehouse-services || $(BIN)/lakehouse-services down
services-status:
	$(BIN)/lakehouse-services status
topics: services-up
	$(BIN)/lakehouse-services topics

## The whole suite: unit, integration (real Kafka, Postgres, S3 endpoint, Spark), slow and deploy tests, in
## two pytest processes at once (tests/lanes.py: tests/deploy, tests/bench, tests/dags and the README test beside the rest).
test: setup
	$(BIN)/python -m tests.lanes $(PYTEST_ARGS)

## Tiers (tests/tiers.py), each printed with its time at the end of a run: unit, fast, slow, deploy.
test-unit: setup
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

## unit + fast: everything but the process-level end-to-end runs (slow) and the EMR stand-in (deploy).
test-fast: setup
	$(BIN)/pytest -m "not slow and not deploy" $(PYTEST_ARGS)

## AIRFLOW=1 also runs the pipeline through the Airflow DAGs (airflow dags test), after the job-by-job run.
AIRFLOW ?=
demo: setup
	LAKEHOUSE_DEMO_AIRFLOW=$(AIRFLOW) $(BIN)/lakehouse-demo

bench: setup
	$(BIN)/python bench/run.py $(if $(QUICK),--quick,)

lint: venv
	$(BIN)/ruff check .

## The wheel shipped to EMR with --py-files (dist/lakehouse_jobs-*.whl).
wheel: venv
	$(BIN)/python -m pip wheel -q --no-deps -w dist .

## Ship a release (wheel, jobs, conf, bootstrap, extra jars) to ENV's artifacts bucket: CI's deploy step.
ENV ?= dev
ship-artifacts: venv
	$(BIN)/lakehouse-ship-artifacts --env $(ENV)

## Run one DAG end to end on the local stack: make airflow-test DAG=daily_warehouse_build
DAG ?= streaming_pipeline
AIRFLOW_HOME ?= $(CURDIR)/.local/airflow
airflow-test: services-up
	AIRFLOW_HOME=$(AIRFLOW_HOME) AIRFLOW__CORE__LOAD_EXAMPLES=False AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/airflow/dags \
	  LAKEHOUSE_ENV=local sh -c '$(BIN)/airflow db migrate >/dev/null && $(BIN)/airflow dags reserialize >/dev/null \
	  && $(BIN)/airflow dags test $(DAG)'

clean: services-down
	rm -rf .local dist build *.egg-info lib/*.egg-info
