package lakehouse.yarn;

import java.io.File;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CountDownLatch;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.yarn.conf.YarnConfiguration;
import org.apache.hadoop.yarn.server.MiniYARNCluster;

/**
 * A one-node YARN cluster (ResourceManager + NodeManager) for tests: EMR's cluster stand-in.
 *
 * <p>Usage: {@code MiniYarn <conf-dir> <memory-mb> <vcores>}. Reads {@code <conf-dir>/core-site.xml}
 * when present (the S3 file system the NodeManager localizes artifacts with), starts the cluster
 * with its working folders under the current directory, then writes the whole effective
 * configuration to {@code <conf-dir>/yarn-site.xml} (atomically: its presence means "ready"), so
 * that folder works as HADOOP_CONF_DIR for spark-submit. Runs until killed.
 */
public final class MiniYarn {
  private MiniYarn() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: MiniYarn <conf-dir> <memory-mb> <vcores>");
      System.exit(2);
    }
    File confDir = new File(args[0]);
    Configuration conf = new YarnConfiguration();
    File coreSite = new File(confDir, "core-site.xml");
    if (coreSite.isFile()) {
      conf.addResource(new Path(coreSite.toURI()));
    }
    conf.set(YarnConfiguration.RM_SCHEDULER,
        "org.apache.hadoop.yarn.server.resourcemanager.scheduler.fifo.FifoScheduler");
    conf.setInt(YarnConfiguration.NM_PMEM_MB, Integer.parseInt(args[1]));
    conf.setInt(YarnConfiguration.NM_VCORES, Integer.parseInt(args[2]));
    conf.setInt(YarnConfiguration.RM_SCHEDULER_MINIMUM_ALLOCATION_MB, 256);
    conf.setInt(YarnConfiguration.RM_SCHEDULER_MAXIMUM_ALLOCATION_MB, Integer.parseInt(args[1]));
    conf.setBoolean(YarnConfiguration.NM_PMEM_CHECK_ENABLED, false);
    conf.setBoolean(YarnConfiguration.NM_VMEM_CHECK_ENABLED, false);
    // Keep finished containers' folders and logs a while: a failed step's driver log is read from them.
    conf.setInt(YarnConfiguration.DEBUG_NM_DELETE_DELAY_SEC, 3600);
    conf.setFloat(YarnConfiguration.NM_MAX_PER_DISK_UTILIZATION_PERCENTAGE, 99.5f);

    MiniYARNCluster cluster = new MiniYARNCluster("lakehouse", 1, 1, 1);
    cluster.init(conf);
    cluster.start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      cluster.stop();
      stopped.countDown();
    }));

    File yarnSite = new File(confDir, "yarn-site.xml");
    File partial = new File(confDir, "yarn-site.xml.tmp");
    try (OutputStream out = new FileOutputStream(partial)) {
      cluster.getConfig().writeXml(out);
    }
    Files.move(partial.toPath(), yarnSite.toPath(), StandardCopyOption.ATOMIC_MOVE);
    System.out.println("MiniYarn ready: ResourceManager at "
        + cluster.getConfig().get(YarnConfiguration.RM_ADDRESS));
    stopped.await();
  }
}
