"""The local runtime for real: Delta through the session factory, Kafka, Postgres over JDBC, S3A."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from chispa import assert_df_equality

from tests.conftest import local_config, unique_name


def test_delta_table_written_by_the_session_factory_reads_back(spark, cfg):
    path = cfg.lake.table_path("tests", unique_name("roundtrip"))
    rows = [(1, "a", dt.date(2024, 1, 1)), (2, None, dt.date(2024, 1, 2))]
    expected = spark.createDataFrame(rows, "id int, label string, day date")
    expected.write.format("delta").partitionBy("day").save(path)
    expected.where("id = 1").write.format("delta").mode("append").save(path)

    actual = spark.read.format("delta").load(path)
    assert_df_equality(actual, expected.unionByName(expected.where("id = 1")), ignore_row_order=True)
    history = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").select("version", "operation").collect()
    assert sorted((r.version, r.operation) for r in history) == [(0, "WRITE"), (1, "WRITE")]


def test_events_produced_to_the_broker_are_read_by_spark_kafka_source(spark, cfg, new_topic):
    from confluent_kafka import Producer

    from lakehouse.kafka.client import client_config

    topic = new_topic(partitions=3)
    producer = Producer(client_config(cfg, acks="all", **{"enable.idempotence": "true"}))
    sent = {f"key-{i}": f"value-{i}" for i in range(30)}
    for key, value in sent.items():
        producer.produce(topic, key=key, value=value)
    assert producer.flush(30) == 0

    read = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", cfg.kafka.bootstrap_servers)
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .load()
        .selectExpr("CAST(key AS STRING) AS key", "CAST(value AS STRING) AS value", "partition", "offset")
        .collect()
    )
    assert {r.key: r.value for r in read} == sent
    assert {r.partition for r in read} == {0, 1, 2}
    assert len({(r.partition, r.offset) for r in read}) == 30


def test_topic_auto_creation_is_disabled_on_the_local_broker(cfg, kafka_service):
    from confluent_kafka import KafkaError, Producer
    from confluent_kafka.admin import AdminClient

    from lakehouse.kafka.client import client_config

    topic = unique_name("never_created")
    producer = Producer(client_config(cfg, **{"message.timeout.ms": "3000"}))
    outcomes = []
    producer.produce(topic, value=b"x", on_delivery=lambda err, msg: outcomes.append(err))
    producer.flush(10)
    assert len(outcomes) == 1
    assert outcomes[0] is not None, "a send to an unknown topic must fail, not create the topic"
    assert outcomes[0].code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._MSG_TIMED_OUT)
    assert topic not in AdminClient(client_config(cfg)).list_topics(timeout=10).topics


def test_spark_reads_the_local_postgres_over_jdbc(spark, cfg, postgres_service):
    import psycopg

    pg = cfg.postgres
    table = unique_name("jdbc_probe")
    with psycopg.connect(host=pg.host, port=pg.port, dbname=pg.database, user=pg.user,
                         password=pg.password.resolve(), autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{table}" (id int primary key, name text, updated_at timestamptz)')
        conn.execute(f'INSERT INTO "{table}" VALUES (1, %s, now()), (2, NULL, now())', ("ada",))
        try:
            df = (
                spark.read.format("jdbc")
                .options(**pg.jdbc_options())
                .option("dbtable", f'"{table}"')
                .option("fetchsize", "1000")
                .load()
            )
            assert sorted((r.id, r.name) for r in df.collect()) == [(1, "ada"), (2, None)]
            assert dict(df.dtypes)["updated_at"] == "timestamp"
        finally:
            conn.execute(f'DROP TABLE "{table}"')


def test_delta_table_on_the_local_s3_endpoint_through_s3a(spark, cfg, s3_service):
    from lakehouse.services.s3 import s3_client

    bucket = f"lake-{uuid.uuid4().hex[:12]}"
    client = s3_client(cfg)
    client.create_bucket(Bucket=bucket)
    path = f"s3a://{bucket}/bronze/probe"
    expected = spark.createDataFrame([(1, "x"), (2, None)], "id long, note string")
    expected.write.format("delta").save(path)

    assert_df_equality(spark.read.format("delta").load(path), expected, ignore_row_order=True)
    keys = [obj["Key"] for obj in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert "bronze/probe/_delta_log/00000000000000000000.json" in keys
    assert any(key.endswith(".parquet") for key in keys)


def test_topics_are_created_under_the_names_streaming_maps_the_contracts_to(kafka_service):
    from confluent_kafka.admin import AdminClient

    from lakehouse.kafka.client import client_config
    from lakehouse.kafka.topics import TopicError, ensure_topics

    names = {contract: unique_name(contract) for contract in ("user_events", "transaction_events", "system_metrics")}
    mapped = local_config(*(f"streaming.topics.{c}={t}" for c, t in names.items()))
    assert ensure_topics(mapped, ["user_events", "system_metrics"]) == {
        names["user_events"]: "created", names["system_metrics"]: "created"}
    assert ensure_topics(mapped, ["user_events"]) == {names["user_events"]: "exists"}
    admin = AdminClient(client_config(mapped))
    try:
        layout = admin.list_topics(timeout=10).topics
        assert len(layout[names["user_events"]].partitions) == 10  # kafka.topics.user_events
        assert len(layout[names["system_metrics"]].partitions) == 5
        with pytest.raises(TopicError, match=r"not in kafka\.topics: clicks"):
            ensure_topics(mapped, ["clicks"])
    finally:
        for future in admin.delete_topics([names["user_events"], names["system_metrics"]]).values():
            future.result(timeout=30)
