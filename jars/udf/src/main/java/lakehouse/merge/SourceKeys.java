package lakehouse.merge;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.util.sketch.BloomFilter;

/**
 * A MERGE's target rows narrowed to the keys its source may hold, before the join.
 *
 * <p>A MERGE joins its source with every target row of the partitions it reads, shuffling both
 * sides by key. {@link #mightHold} returns a predicate over the target's key columns that is
 * false only for keys the source does not hold: a Bloom filter of the source keys' xxhash64,
 * built in one pass over the source and carried in the plan. Added to the ON clause, it is a
 * target-only condition, so Spark filters the target's rows before the shuffle; equal keys of
 * equal types hash alike, so no row the join would match is filtered out.
 */
public final class SourceKeys {
  /** The predicate's name, as the MERGE's condition shows it (e.g. in the table's history). */
  public static final String NAME = "lakehouse_source_keys";

  private SourceKeys() {}

  /**
   * @param source the MERGE's source (computed once: it is read here and again by the MERGE)
   * @param sourceKeys the source's key columns
   * @param targetKeys the target's key columns, in the same order and of the same types
   * @param expectedKeys about how many keys the source holds (its rows will do)
   * @param falsePositiveRate the share of absent keys let through
   */
  public static Column mightHold(
      Dataset<Row> source,
      Column[] sourceKeys,
      Column[] targetKeys,
      long expectedKeys,
      double falsePositiveRate) {
    BloomFilter held =
        source
            .select(functions.xxhash64(sourceKeys).as("key_hash"))
            .stat()
            .bloomFilter("key_hash", Math.max(expectedKeys, 1L), falsePositiveRate);
    UserDefinedFunction mightContain =
        functions
            .udf((UDF1<Long, Boolean>) held::mightContainLong, DataTypes.BooleanType)
            .withName(NAME);
    return mightContain.apply(functions.xxhash64(targetKeys));
  }
}
