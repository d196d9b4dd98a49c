package io.kmsregions.testkit;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ClusterProcess#start} waits for readiness, not for the word: an {@code up} whose node
 * cannot start says "kms-regions up: ... not ... ready" and exits, and that is a failure with its
 * reason and the node's log, not a cluster to test (UpClusterTlsTest once failed in CI on the
 * stopped cluster, far from the cause).
 */
class ClusterProcessTest {
  @TempDir Path work;

  @Test
  void anUpThatGivesUpIsAFailureWithItsReasonNotAReadyCluster() throws Exception {
    Path regions = work.resolve("regions");
    ClusterProcess.writeRegions(regions, List.of("us-east-1", "eu-west-1"));
    // One second is too short for any node JVM to start: `up` gives up, printing "... not every
    // Region became ready: ...", and stops its nodes.
    AssertionError failed = assertThrows(AssertionError.class, () -> ClusterProcess.start(Duration.ofSeconds(150),
        "up", "--data-dir", work.resolve("data").toString(), "--regions", regions.toString(),
        "--supervisor-port", "-1", "--no-cluster-tls", "--ready-timeout", "1",
        "--node-jvm-options", "-Xmx256m -XX:TieredStopAtLevel=1"));
    String message = failed.getMessage();
    assertTrue(message.contains("kms-regions up: not every Region became ready"), message);
    assertTrue(message.contains("--- eu-west-1.log") && message.contains("--- us-east-1.log"),
        "the node logs are shown: " + message);
  }
}
