"""One Delta MERGE writer for batch and streaming, idempotent across retries, and its overwrite twin.

`merge_into` upserts (or insert-only merges) a DataFrame whose keys are unique into a Delta
table, creating the table first if needed; `overwrite_with` replaces the table's rows. With a
`Txn`, the commit carries Delta's transaction identifier (app id, version): Delta skips a write
whose version is not above the last one committed for that app id, so a micro-batch or extract
replayed after a crash changes nothing. `user_metadata` is stored in the same commit (e.g. an
extract's new cursor position), so data and state can never disagree.
"""
from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Optional

TXN_APP_ID = "spark.databricks.delta.write.txnAppId"
TXN_VERSION = "spark.databricks.delta.write.txnVersion"
USER_METADATA = "spark.databricks.delta.commitInfo.userMetadata"
MATERIALIZE_SOURCE = "spark.databricks.delta.merge.materializeSource"


@dataclass(frozen=True)
class TableSpec:
    """How a Delta table is laid out: its location, columns, partitions and table properties."""

    path: str
    schema: object  # pyspark.sql.types.StructType
    partition_by: Sequence[str] = ()
    properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MergeSpec:
    """How source rows meet target rows.

    Attributes:
        keys: columns identifying a row; the source must hold each key once.
        newer_column: when set, a matched row is replaced only if the source's value of this
            column is greater than the target's (newest wins whatever the arrival order).
            Without it, a matched row is always replaced.
        tie_breakers: SQL expressions over one row, `{row}` standing for its alias, compared left to
            right when `newer_column` is equal: with them the newest version is one row whatever the
            batching (the same order ranks a batch's rows, see transforms.dedup.dedupe_for_merge).
        insert_only: never update matched rows (events are immutable: insert once).
        prune_column: a target partition column; the condition then names the values present
            in the source, so Delta reads only those partitions of the target.
    """

    keys: Sequence[str]
    newer_column: Optional[str] = None
    tie_breakers: Sequence[str] = ()
    insert_only: bool = False
    prune_column: Optional[str] = None

    def version(self, row: str) -> list[str]:
        """The expressions that order a key's versions, oldest to newest, over the row alias `row`."""
        return [f"{row}.`{self.newer_column}`", *(expression.format(row=row) for expression in self.tie_breakers)]


@dataclass(frozen=True)
class Txn:
    """Delta transaction identifier: the write is skipped if `version` <= the last one for `app_id`."""

    app_id: str
    version: int


@dataclass(frozen=True)
class MergeOutcome:
    committed: bool  # False when Delta skipped the write as a replay of an earlier version
    table_version: int
    inserted: int = 0
    updated: int = 0
    deleted: int = 0


def ensure_table(spark, table: TableSpec) -> None:
    """Creates the table at `table.path` with its schema, partitions and properties if absent; adds
    the schema's columns an existing table lacks (see add_missing_columns)."""
    from delta.tables import DeltaTable

    builder = DeltaTable.createIfNotExists(spark).location(table.path).addColumns(table.schema)
    if table.partition_by:
        builder = builder.partitionedBy(*table.partition_by)
    for key, value in table.properties.items():
        builder = builder.property(key, value)
    builder.execute()
    add_missing_columns(spark, table)


def add_missing_columns(spark, table: TableSpec) -> None:
    """Adds, as nullable columns at the end, the fields of `table.schema` the Delta table lacks: its
    older rows read null there. Another writer adding them at the same moment is fine."""
    missing = _missing_fields(spark, table)
    if not missing:
        return
    columns = ", ".join(f"`{f.name}` {f.dataType.simpleString()}" for f in missing)
    try:
        spark.sql(f"ALTER TABLE delta.`{table.path}` ADD COLUMNS ({columns})")
    except Exception:
        if _missing_fields(spark, table):
            raise


def _missing_fields(spark, table: TableSpec) -> list:
    present = set(spark.read.format("delta").load(table.path).schema.fieldNames())
    return [f for f in table.schema.fields if f.name not in present]


def merge_into(
    source,
    table: TableSpec,
    spec: MergeSpec,
    txn: Optional[Txn] = None,
    user_metadata: Optional[Mapping[str, object]] = None,
    source_is_materialized: bool = False,
) -> MergeOutcome:
    """Merges `source` into the Delta table in one commit; see the module docstring.

    Args:
        source_is_materialized: `source` is already computed and cannot change between reads
            (e.g. `localCheckpoint()`ed), so Delta need not copy it once more before the MERGE.
    """
    from delta.tables import DeltaTable

    spark = source.sparkSession
    ensure_table(spark, table)
    target = DeltaTable.forPath(spark, table.path)
    before = table_version(spark, table.path)
    merge = target.alias("t").merge(source.alias("s"), merge_condition(source, spec))
    if not spec.insert_only:
        update_when = newer_than(spec.version("s"), spec.version("t")) if spec.newer_column else None
        merge = merge.whenMatchedUpdateAll(condition=update_when)
    merge = merge.whenNotMatchedInsertAll()
    with commit_options(spark, txn, user_metadata, {MATERIALIZE_SOURCE: "none"} if source_is_materialized else None):
        merge.execute()
    after = table_version(spark, table.path)
    if after == before:
        return MergeOutcome(committed=False, table_version=after)
    metrics = target.history(1).select("operationMetrics").first()[0] or {}
    return MergeOutcome(
        committed=True,
        table_version=after,
        inserted=int(metrics.get("numTargetRowsInserted", 0)),
        updated=int(metrics.get("numTargetRowsUpdated", 0)),
        deleted=int(metrics.get("numTargetRowsDeleted", 0)),
    )


def overwrite_with(
    source,
    table: TableSpec,
    txn: Optional[Txn] = None,
    user_metadata: Optional[Mapping[str, object]] = None,
) -> MergeOutcome:
    """Replaces every row of the Delta table with `source` in one commit (the table is created if
    absent; its partitioning and properties stay). `inserted` counts the rows written."""
    from delta.tables import DeltaTable

    spark = source.sparkSession
    ensure_table(spark, table)
    before = table_version(spark, table.path)
    with commit_options(spark, txn, user_metadata):
        source.write.format("delta").mode("overwrite").save(table.path)
    after = table_version(spark, table.path)
    if after == before:
        return MergeOutcome(committed=False, table_version=after)
    metrics = DeltaTable.forPath(spark, table.path).history(1).select("operationMetrics").first()[0] or {}
    return MergeOutcome(committed=True, table_version=after, inserted=int(metrics.get("numOutputRows", 0)))


def merge_condition(source, spec: MergeSpec) -> str:
    """The ON clause: equal keys (null equal to null), plus the source's partition values when pruning."""
    clauses = [f"t.`{key}` <=> s.`{key}`" for key in spec.keys]
    if spec.prune_column:
        values = [row[0] for row in source.select(spec.prune_column).distinct().collect()]
        literals = ", ".join(_sql_literal(v) for v in values if v is not None)
        clauses.append(f"t.`{spec.prune_column}` IN ({literals})" if literals else "false")
    return " AND ".join(clauses)


def content_hash(columns: Sequence[str]) -> str:
    """SQL over a row `{row}` (a MergeSpec tie breaker): a hash of `columns` as typed, the same for a
    version whether it is still in a batch or already in silver."""
    columns = ", ".join(f"{{row}}.`{column}`" for column in columns)
    return f"sha2(to_json(struct({columns})), 256)"


def newer_than(source: Sequence[str], target: Sequence[str]) -> str:
    """SQL: the tuple `source` is greater than the tuple `target`, compared left to right."""
    (first_source, *rest_source), (first_target, *rest_target) = source, target
    greater = f"{first_source} > {first_target}"
    if not rest_source:
        return greater
    return f"({greater} OR ({first_source} = {first_target} AND {newer_than(rest_source, rest_target)}))"


def last_txn_version(spark, path: str, app_id: str) -> Optional[int]:
    """The last version committed for `app_id` on the table, from its transaction log."""
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        return None
    found = _snapshot(spark, path).transactions().get(app_id)
    return int(found.get()) if found.isDefined() else None


def table_rows(spark, path: str) -> int:
    """Rows in the table's latest version, from the log's file statistics where they exist."""
    return spark.read.format("delta").load(path).count()


def table_version(spark, path: str) -> int:
    """The table's latest version, from its transaction log on the driver (no Spark job)."""
    return int(_snapshot(spark, path).version())


def _snapshot(spark, path: str):
    """The JVM snapshot of the table's latest version (DeltaLog caches and updates it incrementally)."""
    jvm = spark.sparkContext._jvm
    log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
    return log.update(False, jvm.scala.Option.empty(), jvm.scala.Option.empty())


def latest_user_metadata(spark, path: str) -> Optional[dict]:
    """The JSON user metadata of the newest commit that has any, or None."""
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        return None
    rows = (
        DeltaTable.forPath(spark, path).history()
        .where("userMetadata IS NOT NULL").orderBy("version", ascending=False).limit(1)
        .select("userMetadata").collect()
    )
    return json.loads(rows[0][0]) if rows else None


@contextlib.contextmanager
def commit_options(spark, txn: Optional[Txn], user_metadata: Optional[Mapping[str, object]],
                   extra: Optional[Mapping[str, str]] = None) -> Iterator[None]:
    """Sets Delta's per-commit session options (and `extra` ones) for one write, then restores them.

    In foreachBatch, pass the batch DataFrame's session: each streaming query runs on its own
    cloned session, so concurrent queries do not see each other's options.
    """
    options = dict(extra or {})
    if txn is not None:
        options.update({TXN_APP_ID: txn.app_id, TXN_VERSION: str(txn.version)})
    if user_metadata is not None:
        options[USER_METADATA] = json.dumps(user_metadata, sort_keys=True, default=str)
    previous = {key: spark.conf.get(key, None) for key in options}
    for key, value in options.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


def _sql_literal(value) -> str:
    text = str(value).replace("'", "''")
    return text if isinstance(value, (int, float)) and not isinstance(value, bool) else f"'{text}'"
