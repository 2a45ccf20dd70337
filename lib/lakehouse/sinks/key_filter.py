"""A MERGE's target rows narrowed, before the join, to the keys its source may hold.

An unbounded MERGE (no `MergeSpec.bounded_by`: random keys such as event ids) joins its source
with every target row of the partitions it reads, shuffling and sorting both sides by key, so a
small batch into a large partition pays for the partition. `source_keys_filter` builds, in one pass
over the source, a Bloom filter of its keys (`lakehouse.merge.SourceKeys`, jars/udf) and returns a
predicate over the target's keys to add to the ON clause: Spark then filters the target's rows as
it reads them and shuffles only those the source may hold. The predicate is false only for keys
the source does not hold, so the MERGE matches, updates and inserts exactly the same rows.
"""
from __future__ import annotations

from typing import Optional

from pyspark.sql import Column, DataFrame
from pyspark.sql import types as T

# Below this (about 300,000 silver rows), shuffling the target costs about what the filter does.
MIN_TARGET_BYTES = 16 * 2**20
FALSE_POSITIVE_RATE = 0.01
# Types whose equal values hash alike; floating point does not (0.0 and -0.0 are equal keys).
EXACT_TYPES = (T.BinaryType, T.BooleanType, T.ByteType, T.DateType, T.DecimalType, T.IntegerType, T.LongType,
               T.ShortType, T.StringType, T.TimestampNTZType, T.TimestampType)


def source_keys_filter(source: DataFrame, keys: list[str], target_schema: T.StructType, target_bytes: int,
                       source_rows: int, target_alias: str = "t") -> Optional[Column]:
    """The predicate over `target_alias`'s keys, or None when it would not pay (a target under
    MIN_TARGET_BYTES, an empty source) or could not be exact (a key typed differently in source and
    target, or of a type whose equal values may hash apart). Reads `source` once: pass a source
    computed once (localCheckpoint)."""
    if target_bytes < MIN_TARGET_BYTES or source_rows <= 0 or not keys:
        return None
    source_types = {field.name: field.dataType for field in source.schema.fields}
    target_types = {field.name: field.dataType for field in target_schema.fields}
    for key in keys:
        if (source_types.get(key) is None or source_types[key] != target_types.get(key)
                or not isinstance(source_types[key], EXACT_TYPES)):
            return None
    jvm = source.sparkSession.sparkContext._jvm
    predicate = jvm.lakehouse.merge.SourceKeys.mightHold(
        source._jdf, _columns(source, [f"`{key}`" for key in keys]),
        _columns(source, [f"{target_alias}.`{key}`" for key in keys]), source_rows, FALSE_POSITIVE_RATE)
    return Column(predicate)


def _columns(source: DataFrame, names: list[str]):
    """A JVM Column[] of the (quoted) column `names`."""
    context = source.sparkSession.sparkContext
    array = context._gateway.new_array(context._jvm.org.apache.spark.sql.Column, len(names))
    for index, name in enumerate(names):
        array[index] = context._jvm.org.apache.spark.sql.functions.col(name)
    return array
