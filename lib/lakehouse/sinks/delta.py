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
from typing import Callable, Optional

from pyspark.sql import functions as F

from lakehouse.ops.phases import phase
from lakehouse.sinks.checksum import listed_transactions
from lakehouse.sinks.commits import metadata_json, own_commit
from lakehouse.sinks.key_filter import source_keys_filter
from lakehouse.sinks.retry import retry_conflicts
from lakehouse.sinks.scope import Scope, scope_clauses, source_scope
from lakehouse.sinks.unborn_log import await_first_commit, is_table_not_found

TXN_APP_ID = "spark.databricks.delta.write.txnAppId"
TXN_VERSION = "spark.databricks.delta.write.txnVersion"
USER_METADATA = "spark.databricks.delta.commitInfo.userMetadata"
MATERIALIZE_SOURCE = "spark.databricks.delta.merge.materializeSource"
TABLE_DEFAULTS = "spark.databricks.delta.properties.defaults."  # + a delta.* property without "delta."


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
        bounded_by: key columns whose values rise with arrival (Kafka offsets, sample times): the
            condition keeps the target rows between the source's first and last value of each, so
            Delta's file statistics skip older files (lakehouse.sinks.scope).
    """

    keys: Sequence[str]
    newer_column: Optional[str] = None
    tie_breakers: Sequence[str] = ()
    insert_only: bool = False
    prune_column: Optional[str] = None
    bounded_by: Sequence[str] = ()

    def __post_init__(self):
        unknown = [column for column in self.bounded_by if column not in self.keys]
        if unknown:
            raise ValueError(f"bounded_by: not a key: {', '.join(unknown)} (a copy of a row shares only its key)")

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


class SchemaMismatch(ValueError):
    """A table's column has another type than its TableSpec says: no write can reconcile them."""


def ensure_table(spark, table: TableSpec) -> None:
    """Creates the table at `table.path` with its schema, partitions and properties if absent; adds
    the columns of `table.schema` an existing table lacks (its older rows read them as null).

    A column whose type changed raises SchemaMismatch naming it: that needs a new table or a migration.
    Columns the table has beyond the spec are left alone. Two jobs creating the same table at once
    (bronze and silver starting together) conflict; the loser runs again and finds the table. A log
    without a commit yet is awaited, or cleared when a create died leaving it empty (unborn_log).
    """
    retry_conflicts(lambda: _ensure_table(spark, table), f"{table.path}: create or evolve")


def _ensure_table(spark, table: TableSpec) -> None:
    from delta.tables import DeltaTable
    from pyspark.errors import AnalysisException

    if DeltaTable.isDeltaTable(spark, table.path):
        _add_missing_columns(spark, table)
        return
    try:
        _create_table(spark, table)
    except AnalysisException as error:
        if not is_table_not_found(error):
            raise
        if await_first_commit(spark, table.path):
            _add_missing_columns(spark, table)
        else:
            _create_table(spark, table)


def _create_table(spark, table: TableSpec) -> None:
    from delta.tables import DeltaTable

    builder = DeltaTable.createIfNotExists(spark).location(table.path).addColumns(table.schema)
    if table.partition_by:
        builder = builder.partitionedBy(*table.partition_by)
    for key, value in table.properties.items():
        builder = builder.property(key, value)
    builder.execute()


def _add_missing_columns(spark, table: TableSpec) -> None:
    held = {column.name.lower(): column for column in spark.read.format("delta").load(table.path).schema}
    retyped = [
        f"{column.name}: {held[column.name.lower()].dataType.simpleString()} in the table, "
        f"{column.dataType.simpleString()} now"
        for column in table.schema
        if column.name.lower() in held
        and held[column.name.lower()].dataType.simpleString() != column.dataType.simpleString()
    ]
    if retyped:
        raise SchemaMismatch(f"{table.path}: column types changed ({'; '.join(retyped)}); "
                             "a type change needs a new table or a migration")
    missing = [column for column in table.schema if column.name.lower() not in held]
    if missing:
        added = ", ".join(f"`{column.name}` {column.dataType.simpleString()}" for column in missing)
        try:
            spark.sql(f"ALTER TABLE delta.`{table.path}` ADD COLUMNS ({added})")
        except Exception:  # another job starting at the same moment may have added them first
            present = {name.lower() for name in spark.read.format("delta").load(table.path).schema.fieldNames()}
            if any(column.name.lower() not in present for column in missing):
                raise


def merge_into(
    source,
    table: TableSpec,
    spec: MergeSpec,
    txn: Optional[Txn] = None,
    user_metadata: Optional[Mapping[str, object]] = None,
    source_is_materialized: bool = False,
    table_ensured: bool = False,
    scope: Optional[Scope] = None,
    source_rows: Optional[int] = None,
) -> MergeOutcome:
    """Merges `source` into the Delta table in one commit; see the module docstring.

    A commit refused because a concurrent writer (OPTIMIZE, a backfill...) committed first is
    retried a bounded number of times (lakehouse.sinks.retry), the MERGE planned again on the
    table's latest version.

    Args:
        source_is_materialized: `source` is already computed and cannot change between reads
            (e.g. `localCheckpoint()`ed), so Delta need not copy it once more before the MERGE.
        table_ensured: the caller created or evolved the table already (ensure_table, e.g. when its
            query started), so its metadata is not read again for this write.
        scope: the source's partitions and bounds (lakehouse.sinks.scope), when the caller knows
            them (saves the Spark job that finds them).
        source_rows: the source's rows (at most), when the caller knows them: an unbounded MERGE
            into a large table then reads only the target rows whose keys the source may hold
            (lakehouse.sinks.key_filter; pass a materialized source, it is read once more).
    """
    from delta.tables import DeltaTable

    spark = source.sparkSession
    if not table_ensured:
        with phase("table_metadata"):
            ensure_table(spark, table)
    with phase("merge_condition"):
        condition = merge_condition(source, spec, scope)
    extra = {MATERIALIZE_SOURCE: "none"} if source_is_materialized else None
    if source_rows is not None and not spec.bounded_by:
        with phase("key_filter"):
            narrowed = source_keys_filter(source, list(spec.keys), table.schema, table_bytes(spark, table.path),
                                          source_rows)
        if narrowed is not None:
            condition = F.expr(condition) & narrowed

    def merge_once() -> MergeOutcome:
        with phase("table_metadata"):
            before = table_version(spark, table.path)
            merge = DeltaTable.forPath(spark, table.path).alias("t").merge(source.alias("s"), condition)
        if not spec.insert_only:
            update_when = newer_than(spec.version("s"), spec.version("t")) if spec.newer_column else None
            merge = merge.whenMatchedUpdateAll(condition=update_when)
        merge = merge.whenNotMatchedInsertAll()
        with phase("execute_commit"), commit_options(spark, txn, user_metadata, extra):
            merge.execute()
        with phase("commit_lookup"):
            commit = own_commit(spark, table.path, before, "MERGE", txn, user_metadata)
        if commit is None:
            return MergeOutcome(committed=False, table_version=table_version(spark, table.path))
        return MergeOutcome(
            committed=True,
            table_version=commit.version,
            inserted=commit.metric("numTargetRowsInserted"),
            updated=commit.metric("numTargetRowsUpdated"),
            deleted=commit.metric("numTargetRowsDeleted"),
        )

    return retry_conflicts(merge_once, f"MERGE into {table.path}", _committed_elsewhere(spark, table.path, txn))


def overwrite_with(
    source,
    table: TableSpec,
    txn: Optional[Txn] = None,
    user_metadata: Optional[Mapping[str, object]] = None,
) -> MergeOutcome:
    """Replaces every row of the Delta table with `source` in one commit (its partitioning and
    properties stay). An absent table is created by that same commit, with the spec's schema,
    partitions and properties: no commit of an empty table first. `inserted` counts the rows
    written. Conflicts are retried as for `merge_into`."""
    from delta.tables import DeltaTable

    spark = source.sparkSession
    with phase("table_metadata"):
        create = not DeltaTable.isDeltaTable(spark, table.path)
        if not create:
            ensure_table(spark, table)
    rows = _with_schema(source, table.schema) if create else source
    defaults = {f"{TABLE_DEFAULTS}{key[len('delta.'):]}": value
                for key, value in table.properties.items() if key.startswith("delta.")} if create else None
    if create and len(defaults) != len(table.properties):
        raise ValueError(f"{table.path}: table properties must be delta.* ones, got {sorted(table.properties)}")

    def overwrite_once() -> MergeOutcome:
        before = table_version(spark, table.path)  # -1 while the table is absent
        with phase("execute_commit"), commit_options(spark, txn, user_metadata, defaults):
            writer = rows.write.format("delta").mode("overwrite")
            if create and table.partition_by:
                writer = writer.partitionBy(*table.partition_by)
            writer.save(table.path)
        with phase("commit_lookup"):
            commit = own_commit(spark, table.path, before, "WRITE", txn, user_metadata)
        if commit is None:
            return MergeOutcome(committed=False, table_version=table_version(spark, table.path))
        return MergeOutcome(committed=True, table_version=commit.version, inserted=commit.metric("numOutputRows"))

    return retry_conflicts(overwrite_once, f"overwrite of {table.path}", _committed_elsewhere(spark, table.path, txn))


def _with_schema(df, schema):
    """`df`'s columns with exactly `schema`'s names, types, nullability and (empty or not) metadata,
    e.g. without the field metadata a JDBC source adds."""
    from pyspark.sql import Column
    from pyspark.sql.functions import col

    jvm = df.sparkSession.sparkContext._jvm
    parse = jvm.org.apache.spark.sql.types.Metadata.fromJson
    columns = [Column(getattr(col(f"`{field.name}`").cast(field.dataType)._jc, "as")(field.name,
                                                                                      parse(json.dumps(field.metadata))))
               for field in schema.fields]
    return df.to(schema).select(*columns)


def _committed_elsewhere(spark, path: str, txn: Optional[Txn]) -> Callable[[], bool]:
    """After a conflict: has another writer committed this very transaction? Then retrying is pointless."""
    def committed() -> bool:
        if txn is None:
            return False
        last = last_txn_version(spark, path, txn.app_id)
        return last is not None and last >= txn.version
    return committed


def merge_condition(source, spec: MergeSpec, scope: Optional[Scope] = None) -> str:
    """The ON clause: equal keys (null equal to null), plus the source's partitions and key bounds
    (`scope`, or read from `source`)."""
    clauses = [f"t.`{key}` <=> s.`{key}`" for key in spec.keys]
    if spec.prune_column or spec.bounded_by:
        clauses += scope_clauses(source, spec, source_scope(source, spec) if scope is None else scope)
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
    """The last version committed for `app_id` on the table: from its checksum files (no Spark job,
    lakehouse.sinks.checksum) when they list the table's transaction ids, else from its state."""
    from delta.tables import DeltaTable

    if not DeltaTable.isDeltaTable(spark, path):
        return None
    snapshot = _snapshot(spark, path)
    listed = listed_transactions(spark, path, snapshot)
    if listed is not None:
        return listed.get(app_id)
    found = snapshot.transactions().get(app_id)
    return int(found.get()) if found.isDefined() else None


def build_latest_state(spark, path: str) -> None:
    """Reconstructs the table's state at its latest version on this thread (its files and transaction
    ids): a write with a transaction id on that version, or a read of it, then finds it built."""
    _snapshot(spark, path).transactions()


def table_rows(spark, path: str) -> int:
    """Rows in the table's latest version, from the log's file statistics where they exist."""
    return spark.read.format("delta").load(path).count()


def table_bytes(spark, path: str) -> int:
    """The size of the files of the table's latest version (from its state, which a write builds anyway)."""
    return int(_snapshot(spark, path).sizeInBytes())


def table_version(spark, path: str) -> int:
    """The table's latest version, from its transaction log on the driver (no Spark job)."""
    return int(_snapshot(spark, path).version())


def _snapshot(spark, path: str):
    """The JVM snapshot of the table's latest version (DeltaLog caches and updates it incrementally)."""
    jvm = spark.sparkContext._jvm
    log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, path)
    return log.update(False, jvm.scala.Option.empty(), jvm.scala.Option.empty())


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
        options[USER_METADATA] = metadata_json(user_metadata)
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
