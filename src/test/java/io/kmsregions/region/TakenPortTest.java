package io.kmsregions.region;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node whose HTTP or admin port is already taken stops, and its {@link RegionNode#ready()} fails
 * with the bind failure itself, not with "stopped": the CLI prints that cause, and the test
 * clusters start again on other ports only when they can see it. (A taken admin port was once
 * reported as "stopped", after the HTTP port had bound: CI failed SeededKeysTest on it.)
 */
class TakenPortTest {
  private static final Config CONFIG = ConfigFactory.parseString(String.join("\n",
      "kms.cluster.tls.enabled = off",
      "kms.auth.mode = open",
      "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
      "pekko.persistence.journal.leveldb.fsync = off"));

  @TempDir Path dir;

  @Test
  void aTakenAdminPortIsReportedAsTheBindFailure() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      RegionSpec spec = new RegionSpec("us-east-1", "127.0.0.1", Ports.freePort(), "127.0.0.1", Ports.freePort(),
          taken.getLocalPort());
      assertReadyFailsWithBindFailure(spec);
    }
  }

  @Test
  void aTakenHttpPortIsReportedAsTheBindFailure() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      RegionSpec spec = new RegionSpec("us-east-1", "127.0.0.1", taken.getLocalPort(), "127.0.0.1", Ports.freePort(),
          Ports.freePort());
      assertReadyFailsWithBindFailure(spec);
    }
  }

  private void assertReadyFailsWithBindFailure(RegionSpec spec) throws Exception {
    RegionNode node = RegionNode.start(spec, List.of(spec), dir, CONFIG);
    try {
      ExecutionException e = assertThrows(ExecutionException.class,
          () -> node.ready().toCompletableFuture().get(60, TimeUnit.SECONDS));
      Throwable cause = e.getCause();
      assertFalse(cause instanceof RegionNode.NodeStopped, "the consequence, not the cause: " + cause);
      boolean bind = false;
      for (Throwable t = cause; t != null; t = t.getCause()) {
        bind |= t instanceof java.net.BindException || String.valueOf(t.getMessage()).contains("already in use");
      }
      assertTrue(bind, "not a bind failure: " + cause);
      // The node stops by itself.
      node.system().getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } finally {
      node.system().terminate();
      node.system().getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }
}
