package io.kmsregions.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kmsregions.testkit.TestCluster;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Short bench runs against a real cluster: they must complete with zero errors and nonzero
 * throughput. Correctness only; no timing is asserted.
 */
class BenchClusterTest {
  @TempDir static Path dir;
  static TestCluster cluster;
  // The default credential pair of conf/ (kms.auth), which RecoveryBench's own nodes verify.
  static final SigV4 SIGNER = new SigV4("test", "test");

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(dir);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) cluster.close();
  }

  private static Endpoint endpoint(String region) {
    return new Endpoint("kms-regions", cluster.endpoint(region), region);
  }

  @Test
  void shortLoadRunHasNoErrorsForEveryTransport() throws Exception {
    for (String client : List.of("raw", "jdk")) {
      // Every run must be free of errors. Every operation must complete requests in a 1 s window;
      // on a starved machine (the suite's other fork busy) one may complete none, so up to three
      // runs are made until each operation has completed some.
      java.util.Set<String> neverCompleted = null;
      StringBuilder outputs = new StringBuilder();
      for (int attempt = 1; attempt <= 3 && (neverCompleted == null || !neverCompleted.isEmpty()); attempt++) {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        LoadBench bench = new LoadBench(Workloads.ALL, 3, 1, new LoadRunner.Settings(0.3, 0.7, 4, 0), client, SIGNER,
            new PrintStream(text, true, StandardCharsets.UTF_8));
        LoadBench.Results r = bench.run(endpoint("us-east-1"), null);
        String output = text.toString(StandardCharsets.UTF_8);
        outputs.append(output);
        System.out.println(output); // kept in the Surefire report
        assertEquals(Workloads.ALL.size(), r.a().size(), output);
        int measured = 0;
        java.util.Set<String> none = new java.util.TreeSet<>();
        for (OpResult o : r.a()) {
          if (o.isSkipped()) {
            // Only operations the server does not implement yet may be skipped.
            assertFalse(List.of("encrypt", "decrypt", "generate-data-key", "describe-key", "noop").contains(o.op()), output);
            continue;
          }
          measured++;
          assertEquals(0, o.errorCount(), o.op() + " " + o.errors() + "\n" + output);
          assertTrue(o.histogram().getTotalCount() == o.requests(), output);
          if (o.requests() == 0) none.add(o.op());
          else {
            assertTrue(o.throughput() > 0, o.op() + "\n" + output);
            // HotSpot counts every thread's allocation; a request cannot cost nothing.
            assertTrue(o.allocatedBytesPerRequest() > 0, o.op() + "\n" + output);
          }
        }
        if (neverCompleted == null) neverCompleted = none;
        else neverCompleted.retainAll(none);
        assertTrue(measured >= 5, output);
        assertTrue(output.contains("== results =="), output);
        assertTrue(output.contains("of noop"), output);
        assertTrue(output.contains(" KB/request]"), output);
      }
      assertTrue(neverCompleted.isEmpty(), "completed no request in three runs: " + neverCompleted + "\n" + outputs);
    }
  }

  @Test
  void openLoopRunAndBaselineAlternationWork() throws Exception {
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    // The "baseline" is the same server through another Region's node (forwarded back): A, B, A, B.
    LoadBench bench = new LoadBench(List.of("encrypt", "describe-key"), 1, 2, new LoadRunner.Settings(0.2, 0.5, 2, 200),
        "raw", SIGNER, new PrintStream(text, true, StandardCharsets.UTF_8));
    Endpoint b = new Endpoint("other-node", cluster.endpoint("eu-west-1"), "eu-west-1");
    LoadBench.Results r = bench.run(endpoint("us-east-1"), b);
    String output = text.toString(StandardCharsets.UTF_8);
    for (OpResult o : r.a()) assertEquals(0, o.errorCount(), output);
    for (OpResult o : r.b()) assertEquals(0, o.errorCount(), output);
    assertTrue(r.b().get(0).requests() > 0, output);
    assertTrue(output.contains("(A) / other-node (B)"), output);
    // Two operations: the warm-up goes over both a second time, the later one having changed the first's code.
    assertTrue(output.contains("; pass 2: kms-regions/encrypt"), output);
    // and says so as it goes, one line per operation and pass (a user waited 8 silent minutes).
    assertTrue(output.contains("\n  pass 2 other-node/describe-key: "), output);
  }

  @Test
  void replicationBenchMeasuresEveryKey() {
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    try (KmsClient p = new KmsClient(endpoint("us-east-1"), SIGNER, 1);
        KmsClient r = new KmsClient(endpoint("eu-west-1"), SIGNER, 1)) {
      ReplicationBench.Result result = new ReplicationBench(p, r, new PrintStream(text, true, StandardCharsets.UTF_8)).run(3, 1);
      String output = text.toString(StandardCharsets.UTF_8);
      assertEquals(0, result.replicateFailures(), output);
      assertEquals(0, result.updateFailures(), output);
      assertEquals(0, result.rotateFailures(), output);
      // The warm-up key goes through every step unrecorded.
      assertEquals(3, result.replicate().getTotalCount(), output);
      assertEquals(3, result.updatePrimary().getTotalCount(), output);
      assertNull(result.rotateSkipped(), output);
      assertEquals(3, result.rotate().getTotalCount(), output);
      assertTrue(output.contains("RotateKeyOnDemand -> every replica"), output);
    }
  }

  @Test
  void recoveryBenchRestartsAndMeasuresHeap() {
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    List<RecoveryBench.Row> rows = new RecoveryBench(com.typesafe.config.ConfigFactory.empty(), 8,
        new PrintStream(text, true, StandardCharsets.UTF_8)).run(List.of(50), "us-east-1", SIGNER);
    String output = text.toString(StandardCharsets.UTF_8);
    assertEquals(1, rows.size(), output);
    assertEquals(50, rows.get(0).keys());
    assertTrue(rows.get(0).listSeconds() >= rows.get(0).upSeconds() || rows.get(0).listSeconds() > 0, output);
    assertTrue(output.contains("bytes/key"), output);
  }
}
