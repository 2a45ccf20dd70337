package lakehouse.udf;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.api.java.UDF0;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

/**
 * A timestamp column of one fixed instant that Spark's generated code does not spell out.
 *
 * <p>Spark writes a timestamp literal's value into the Java code it generates for a stage, and
 * reuses a stage's compiled class only for the same code: each micro-batch stamping its rows with
 * its own time compiled those stages again. Here the instant is held by a function Spark hands
 * the generated code as a reference, so the code is the same for every instant.
 */
public final class FixedInstant {
  /** The column's function name, as plans show it. */
  public static final String NAME = "lakehouse_instant";

  private FixedInstant() {}

  /** A column whose value is {@code epochMicros} microseconds after the epoch, on every row. */
  public static Column at(long epochMicros) {
    Instant instant = Instant.EPOCH.plus(epochMicros, ChronoUnit.MICROS);
    return functions
        .udf((UDF0<Instant>) () -> instant, DataTypes.TimestampType)
        .withName(NAME)
        .apply();
  }
}
