package lakehouse.lineage;

import io.openlineage.spark.agent.OpenLineageSparkListener;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkContext$;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerApplicationEnd;
import org.apache.spark.scheduler.SparkListenerApplicationStart;
import org.apache.spark.scheduler.SparkListenerEvent;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd;
import org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart;
import scala.collection.JavaConverters;

/**
 * OpenLineage's Spark listener without the Spark actions a job tags as not to be reported.
 *
 * <p>A job adds the job tag {@link #SKIP_TAG} (SparkContext.addJobTag; lakehouse.lineage.skip in
 * Python) around the actions to leave out, e.g. the writes of a streaming micro-batch its query's
 * own run already reports. Their SQL executions, jobs and tasks never reach OpenLineage's listener,
 * which otherwise builds a START and a COMPLETE event for each, and for a Delta table lists all its
 * files for an input-statistics facet: a Spark job on the listener's thread, per event (OpenLineage
 * issue #4976). Jobs started on the listener bus's thread (OpenLineage's listener starts some itself)
 * carry the tag too, so they are not reported back to it. Everything else is forwarded unchanged.
 *
 * <p>Configured as spark.extraListeners in place of OpenLineage's listener (lakehouse.spark.session);
 * both jars must be on the class path. Events arrive on one listener-bus thread, in order.
 */
public class FilteredLineageListener extends SparkListener {
  public static final String SKIP_TAG = "lakehouse-lineage-skip";
  private static final String JOB_TAGS = "spark.job.tags";
  private static final String SQL_EXECUTION_ID = "spark.sql.execution.id";

  private final OpenLineageSparkListener delegate = new OpenLineageSparkListener();
  private final Set<Long> skippedExecutions = new HashSet<>();
  private final Map<Integer, List<Object>> skippedJobs = new HashMap<>(); // job id -> its stage ids
  private final Set<Object> skippedStages = new HashSet<>();
  private boolean threadTagged;

  @Override
  public void onApplicationStart(SparkListenerApplicationStart event) {
    delegate.onApplicationStart(event);
  }

  @Override
  public void onApplicationEnd(SparkListenerApplicationEnd event) {
    delegate.onApplicationEnd(event);
  }

  @Override
  public void onOtherEvent(SparkListenerEvent event) {
    if (event instanceof SparkListenerSQLExecutionStart) {
      SparkListenerSQLExecutionStart start = (SparkListenerSQLExecutionStart) event;
      if (start.jobTags().contains(SKIP_TAG)) {
        skippedExecutions.add(start.executionId());
        return;
      }
    } else if (event instanceof SparkListenerSQLExecutionEnd) {
      if (skippedExecutions.remove(((SparkListenerSQLExecutionEnd) event).executionId())) {
        return;
      }
    }
    tagThisThread();
    delegate.onOtherEvent(event);
  }

  @Override
  public void onJobStart(SparkListenerJobStart event) {
    if (skipped(event.properties())) {
      List<Object> stages = JavaConverters.seqAsJavaList(event.stageIds());
      skippedJobs.put(event.jobId(), stages);
      skippedStages.addAll(stages);
      return;
    }
    tagThisThread();
    delegate.onJobStart(event);
  }

  @Override
  public void onJobEnd(SparkListenerJobEnd event) {
    List<Object> stages = skippedJobs.remove(event.jobId());
    if (stages != null) {
      skippedStages.removeAll(stages);
      return;
    }
    tagThisThread();
    delegate.onJobEnd(event);
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd event) {
    if (skippedStages.contains(event.stageId())) {
      return;
    }
    delegate.onTaskEnd(event);
  }

  /** Whether a job's local properties carry the tag, or its SQL execution was skipped. */
  private boolean skipped(Properties properties) {
    if (properties == null) {
      return false;
    }
    String tags = properties.getProperty(JOB_TAGS, "");
    for (String tag : tags.split(",")) {
      if (tag.equals(SKIP_TAG)) {
        return true;
      }
    }
    String execution = properties.getProperty(SQL_EXECUTION_ID);
    return execution != null && skippedExecutions.contains(Long.parseLong(execution));
  }

  /** Tags the listener-bus thread once, so the Spark jobs OpenLineage's listener runs are skipped. */
  private void tagThisThread() {
    if (!threadTagged) {
      scala.Option<SparkContext> context = SparkContext$.MODULE$.getActive();
      if (context.isDefined()) {
        context.get().addJobTag(SKIP_TAG);
        threadTagged = true;
      }
    }
  }
}
