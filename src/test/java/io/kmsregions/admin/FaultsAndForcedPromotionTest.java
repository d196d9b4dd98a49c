package io.kmsregions.admin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.kmsregions.lab.FaultInjector;
import io.kmsregions.lab.StatusTable;
import io.kmsregions.testkit.TestCluster;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.KeyMetadata;

/**
 * The laboratory's faults on a real three-Region cluster (issue 5), through the nodes' admin
 * endpoints: partitions (Artery's test-mode blackhole) that the cluster's failure detector sees,
 * latency that a forwarded call pays, the forced promotion of DESIGN.md with the old primary
 * stepping down on its return and reporting what it had that the new primary lacks.
 *
 * <p>This cluster runs Artery over plain TCP: a node terminated in this JVM while blackholed over
 * tls-tcp does not terminate with Pekko 1.7.0 (Artery waits for its streams without a deadline,
 * apache/pekko#3247, fixed upstream after 1.7.0); it hung this test in 2 of 5 runs. Partitions
 * over mutual TLS are covered by LabScenariosTest, whose node processes run the default tls-tcp
 * and are crashed with SIGKILL.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultsAndForcedPromotionTest {
  @TempDir
  static Path dir;
  static TestCluster cluster;
  static FaultInjector faults;

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(dir, TestCluster.DEFAULT_REGIONS, ConfigFactory.parseString(
        "kms.faults.enabled = on\nkms.cluster.tls.enabled = off\nkms.lab.event-log = \""
            + dir.resolve("events").resolve("{region}.jsonl") + "\""));
    faults = new FaultInjector(cluster.specs(), null);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) cluster.close();
  }

  @Test
  @Order(1)
  void aPartitionIsSeenByTheFailureDetectorAndHeals() throws Exception {
    faults.partition("us-east-1", "eu-west-1", false);
    cluster.awaitUnreachable("us-east-1", "eu-west-1");
    cluster.awaitUnreachable("eu-west-1", "us-east-1");
    String ap = cluster.health("ap-southeast-2");
    assertTrue(ap.contains("\"us-east-1\"") && ap.contains("\"eu-west-1\""), "the third Region still reaches both: " + ap);
    JsonNode us = faults.status("us-east-1", Duration.ofSeconds(5));
    assertEquals("both", us.path("faults").path("partitions").path("eu-west-1").asText(), us.toString());
    // The status names the transport (plain TCP here, see the class comment).
    assertEquals("tcp", us.path("clusterTransport").asText(), us.toString());
    String table = StatusTable.render(cluster.specs(), Map.of("us-east-1", us), false);
    assertTrue(table.contains("unreachable") && table.contains("partition eu-west-1(both)"), table);
    assertTrue(table.contains("Cluster links: tcp"), table);

    faults.heal("us-east-1", "eu-west-1");
    cluster.awaitConnected();
  }

  @Test
  @Order(2)
  void latencyDelaysTheClusterTrafficOfThatLinkOnly() throws Exception {
    KmsClient us = cluster.client("us-east-1");
    String keyId = us.createKey(b -> b.multiRegion(true)).keyMetadata().keyId();
    us.replicateKey(b -> b.keyId(keyId).replicaRegion("eu-west-1"));
    TestCluster.await(Duration.ofSeconds(20), "replica Enabled",
        () -> cluster.client("eu-west-1").describeKey(b -> b.keyId(keyId)).keyMetadata().keyStateAsString().equals("Enabled"));
    // A call signed for eu-west-1 sent to us-east-1's endpoint crosses the link twice.
    KmsClient viaUs = cluster.clientVia("eu-west-1", "us-east-1");
    faults.latency("us-east-1", "eu-west-1", 250, 0, 0, false);
    try {
      long start = System.nanoTime();
      viaUs.describeKey(b -> b.keyId(keyId));
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertTrue(ms >= 500, "a forwarded call pays the added latency both ways: took " + ms + " ms");
    } finally {
      faults.heal("us-east-1", "eu-west-1");
    }
    JsonNode eu = faults.status("eu-west-1", Duration.ofSeconds(5));
    assertEquals(0, eu.path("faults").path("links").size(), "healed: " + eu.path("faults"));
  }

  @Test
  @Order(3)
  void badFaultRequestsAreRefusedAndChangeNothing() {
    IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
        () -> faults.partition("us-east-1", "mars-1", false));
    assertTrue(unknown.getMessage().contains("unknown Region 'mars-1'"), unknown.getMessage());
    assertThrows(IllegalArgumentException.class, () -> faults.partition("us-east-1", "us-east-1", false));
    IllegalStateException negative = assertThrows(IllegalStateException.class,
        () -> faults.latency("us-east-1", "eu-west-1", -5, 0, 0, false));
    assertTrue(negative.getMessage().contains("delayMs"), negative.getMessage());
    IllegalStateException lossy = assertThrows(IllegalStateException.class,
        () -> faults.latency("us-east-1", "eu-west-1", 5, 0, 150, false));
    assertTrue(lossy.getMessage().contains("lossPercent"), lossy.getMessage());
    for (String r : cluster.regions()) {
      JsonNode f = faults.status(r, Duration.ofSeconds(5)).path("faults");
      assertEquals(0, f.path("partitions").size() + f.path("links").size(), r + " has no fault: " + f);
    }
  }

  @Test
  @Order(4)
  void aForcedReplicaServesAtAHigherEpochAndTheReturningPrimaryStepsDownReportingItsConflict() throws Exception {
    KmsClient us = cluster.client("us-east-1");
    String keyId = us.createKey(b -> b.multiRegion(true)).keyMetadata().keyId();
    us.replicateKey(b -> b.keyId(keyId).replicaRegion("eu-west-1"));
    us.replicateKey(b -> b.keyId(keyId).replicaRegion("ap-southeast-2"));
    for (String r : Set.of("eu-west-1", "ap-southeast-2")) {
      TestCluster.await(Duration.ofSeconds(20), "replica Enabled in " + r,
          () -> cluster.client(r).describeKey(b -> b.keyId(keyId)).keyMetadata().keyStateAsString().equals("Enabled"));
    }
    byte[] plain = "before the loss".getBytes(StandardCharsets.UTF_8);
    SdkBytes before = us.encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromByteArray(plain))).ciphertextBlob();

    // The primary, cut off from both replicas, starts a rotation nobody receives; then its Region is lost.
    faults.partition("us-east-1", "eu-west-1", false);
    faults.partition("us-east-1", "ap-southeast-2", false);
    cluster.awaitUnreachable("us-east-1", "eu-west-1");
    cluster.awaitUnreachable("us-east-1", "ap-southeast-2");
    us.rotateKeyOnDemand(b -> b.keyId(keyId));
    cluster.crash("us-east-1");
    faults.heal("eu-west-1", "us-east-1");
    faults.heal("ap-southeast-2", "us-east-1");

    // A replica that is already primary, or no multi-Region replica at all, cannot be forced.
    JsonNode forced = faults.forcePromote("eu-west-1", keyId);
    assertEquals("PRIMARY", forced.path("multiRegionKeyType").asText(), forced.toString());
    assertTrue(forced.path("epoch").asLong() > 1000, "an epoch no concurrent handover reaches: " + forced);
    IllegalStateException again = assertThrows(IllegalStateException.class, () -> faults.forcePromote("eu-west-1", keyId));
    assertTrue(again.getMessage().contains("ValidationException"), again.getMessage());
    String single = cluster.client("ap-southeast-2").createKey(b -> { }).keyMetadata().keyId();
    IllegalStateException notMrk = assertThrows(IllegalStateException.class, () -> faults.forcePromote("ap-southeast-2", single));
    assertTrue(notMrk.getMessage().contains("ValidationException"), notMrk.getMessage());
    IllegalStateException missing = assertThrows(IllegalStateException.class,
        () -> faults.forcePromote("ap-southeast-2", "mrk-00000000000000000000000000000000"));
    assertTrue(missing.getMessage().contains("NotFoundException"), missing.getMessage());

    KmsClient eu = cluster.client("eu-west-1");
    SdkBytes during = eu.encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromByteArray(plain))).ciphertextBlob();
    TestCluster.await(Duration.ofSeconds(20), "ap-southeast-2 follows the forced primary", () ->
        cluster.client("ap-southeast-2").describeKey(b -> b.keyId(keyId)).keyMetadata()
            .multiRegionConfiguration().primaryKey().region().equals("eu-west-1"));

    // The old primary returns: it learns the higher epoch and steps down.
    cluster.restart("us-east-1");
    TestCluster.await(Duration.ofSeconds(40), "every Region agrees on eu-west-1 and on the shared state", () -> {
      Map<String, String> digests = new LinkedHashMap<>();
      for (String r : cluster.regions()) {
        JsonNode st = faults.status(r, Duration.ofSeconds(5));
        if (st == null) return false;
        for (JsonNode k : st.path("keys")) {
          if (!k.path("keyId").asText().equals(keyId)) continue;
          if (!k.path("primaryRegion").asText().equals("eu-west-1") || k.path("pendingDeliveries").asInt() > 0
              || !k.path("keyState").asText().equals("Enabled")) {
            return false;
          }
          digests.put(r, k.path("sharedDigest").asText());
        }
      }
      return digests.size() == 3 && Set.copyOf(digests.values()).size() == 1;
    });
    KeyMetadata inUs = us.describeKey(b -> b.keyId(keyId)).keyMetadata();
    assertEquals("REPLICA", inUs.multiRegionConfiguration().multiRegionKeyTypeAsString());
    for (String r : cluster.regions()) {
      KmsClient c = cluster.client(r);
      for (SdkBytes ct : new SdkBytes[] {before, during}) {
        assertArrayEquals(plain, c.decrypt(b -> b.ciphertextBlob(ct)).plaintext().asByteArray(), "decrypts in " + r);
      }
    }
    // The abandoned rotation was reported by the Region that had it, not silently dropped.
    Path log = dir.resolve("events").resolve("us-east-1.jsonl");
    String conflicts = Files.readAllLines(log).stream().filter(l -> l.contains("\"conflict\"")).collect(Collectors.joining("\n"));
    assertTrue(conflicts.contains(keyId) && conflicts.contains("never current"), "conflicts reported: " + conflicts);

    // The forced primary rotates as any primary does, and every Region converges on it.
    eu.rotateKeyOnDemand(b -> b.keyId(keyId));
    TestCluster.await(Duration.ofSeconds(30), "the new primary's rotation completes everywhere", () -> {
      var rows = eu.listKeyRotations(b -> b.keyId(keyId)).rotations();
      if (rows.size() != 1) return false;
      String current = rows.get(0).keyMaterialId();
      for (String r : cluster.regions()) {
        JsonNode st = faults.status(r, Duration.ofSeconds(5));
        if (st == null) return false;
        boolean settled = false;
        for (JsonNode k : st.path("keys")) {
          if (k.path("keyId").asText().equals(keyId)) settled = k.path("pendingDeliveries").asInt() == 0;
        }
        if (!settled) return false;
      }
      return current != null;
    });
    assertNotNull(cluster.client("us-east-1").encrypt(b -> b.keyId(keyId).plaintext(SdkBytes.fromByteArray(plain))));
  }
}
