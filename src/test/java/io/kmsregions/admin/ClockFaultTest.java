package io.kmsregions.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.kmsregions.lab.FaultInjector;
import io.kmsregions.lab.StatusTable;
import io.kmsregions.region.RegionSpec;
import io.kmsregions.testkit.Cli;
import io.kmsregions.testkit.TestCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.KeyState;
import software.amazon.awssdk.services.kms.model.NotFoundException;

/**
 * The laboratory's clock fault (issue 5) on a real two-Region cluster: one node's clock sped up
 * through its admin endpoint deletes a key whose 7-day deletion window was armed at wall speed
 * within seconds, while the same kind of key in the other Region stays PendingDeletion (the fault
 * is per Region); bad requests are refused with 400 and change nothing.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClockFaultTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String US = "us-east-1";
  private static final String EU = "eu-west-1";

  @TempDir
  static Path dir;
  static TestCluster cluster;
  static FaultInjector faults;
  static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @BeforeAll
  static void start() {
    cluster = TestCluster.start(dir, List.of(US, EU), ConfigFactory.parseString("kms.faults.enabled = on"));
    faults = new FaultInjector(cluster.specs(), null);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) cluster.close();
  }

  @Test
  @Order(1)
  void badClockRequestsGetA400AndChangeNothing() throws Exception {
    // Each: the body, and a word the error must contain.
    Map<String, String> bad = new java.util.LinkedHashMap<>();
    bad.put("{\"scale\": 0}", "scale");
    bad.put("{\"scale\": -86400}", "scale");
    bad.put("{\"scale\": \"NaN\"}", "scale");
    bad.put("{\"scale\": NaN}", "");            // not JSON at all: the parser's message
    bad.put("{\"scale\": 1e400}", "scale");      // infinite
    bad.put("{\"scale\": \"fast\"}", "scale");
    bad.put("{\"scale\": \"86400\"}", "scale");  // a number in a string is not a number
    bad.put("{\"scale\": null}", "missing");
    bad.put("{}", "missing");
    bad.put("", "missing");
    bad.put("not json", "");
    bad.put("{\"reset\": \"yes\"}", "reset");
    bad.put("{\"reset\": true, \"scale\": 5}", "not both");
    for (var e : bad.entrySet()) {
      HttpResponse<String> r = post(US, "/faults/clock", e.getKey());
      assertEquals(400, r.statusCode(), e.getKey() + " -> " + r.body());
      JsonNode body = JSON.readTree(r.body());
      String error = body.path("error").asText();
      assertTrue(!error.isBlank() && error.contains(e.getValue()), e.getKey() + " -> " + r.body());
      assertTrue(!r.body().contains("Exception") && !r.body().contains("\tat "), "no stack trace: " + r.body());
      assertEquals(1.0, clock(US).path("scale").asDouble(), "unchanged after " + e.getKey());
    }
    // Through the laboratory's injector, the node's refusal is an IllegalStateException with its reason.
    IllegalStateException refused = assertThrows(IllegalStateException.class, () -> faults.clock(US, -1));
    assertTrue(refused.getMessage().contains("scale"), refused.getMessage());
    assertThrows(IllegalArgumentException.class, () -> faults.clock("mars-1", 2));
    assertEquals(1.0, clock(US).path("effectiveScale").asDouble());
  }

  @Test
  @Order(2)
  void aSpedUpClockEndsTheDeletionWindowInItsRegionOnly() throws Exception {
    KmsClient us = cluster.client(US);
    KmsClient eu = cluster.client(EU);
    String usKey = us.createKey(b -> b.description("deleted fast")).keyMetadata().keyId();
    String euKey = eu.createKey(b -> b.description("deleted on time")).keyMetadata().keyId();
    // Both windows are armed at wall speed: 7 days away.
    us.scheduleKeyDeletion(b -> b.keyId(usKey).pendingWindowInDays(7));
    eu.scheduleKeyDeletion(b -> b.keyId(euKey).pendingWindowInDays(7));
    Thread.sleep(300);
    assertEquals(KeyState.PENDING_DELETION, us.describeKey(b -> b.keyId(usKey)).keyMetadata().keyState());

    JsonNode answer = faults.clock(US, 86_400); // a day per second: the 7-day window is 7 s away
    assertEquals(86_400.0, answer.path("clock").path("scale").asDouble(), answer.toString());
    JsonNode status = faults.status(US, Duration.ofSeconds(5));
    assertEquals(86_400.0, status.path("faults").path("clock").path("effectiveScale").asDouble(), status.toString());
    String table = StatusTable.render(cluster.specs(), Map.of(US, status), false);
    assertTrue(table.contains("clock x86400"), table);

    long start = System.nanoTime();
    TestCluster.await(Duration.ofSeconds(30), "the sped-up Region deletes its key", () -> {
      try {
        us.describeKey(b -> b.keyId(usKey));
        return false;
      } catch (NotFoundException e) {
        return true;
      }
    });
    long seconds = (System.nanoTime() - start) / 1_000_000_000L;
    System.out.println("us-east-1 deleted its key " + (System.nanoTime() - start) / 1_000_000 + " ms after the speed-up");
    assertTrue(seconds <= 20, "deleted within seconds of the speed-up: " + seconds + " s");
    // The other Region's clock was not changed: its key still waits for its 7 days.
    assertEquals(KeyState.PENDING_DELETION, eu.describeKey(b -> b.keyId(euKey)).keyMetadata().keyState());
    assertEquals(1.0, clock(EU).path("scale").asDouble());
    // Dates the sped-up Region hands out are on its own (now skewed) clock: a week ahead already.
    long usNow = us.createKey(b -> b.description("after")).keyMetadata().creationDate().toEpochMilli();
    assertTrue(usNow - System.currentTimeMillis() > Duration.ofDays(6).toMillis(), "us-east-1's clock is ahead");
    // So are its audit records: the audit log runs on the node's own clock, not on one of its own.
    io.kmsregions.audit.AuditLog audit = io.kmsregions.audit.AuditLog.get(cluster.node(US).system());
    assertTrue(audit.flush(10_000));
    List<String> lines = java.nio.file.Files.readAllLines(audit.file());
    JsonNode last = new com.fasterxml.jackson.databind.ObjectMapper().readTree(lines.get(lines.size() - 1));
    assertEquals("CreateKey", last.path("eventName").asText(), last.toString());
    long eventTime = java.time.Instant.parse(last.path("eventTime").asText()).toEpochMilli();
    assertTrue(eventTime - System.currentTimeMillis() > Duration.ofDays(6).toMillis(), "audit eventTime " + last);
  }

  @Test
  @Order(3)
  void healingEverythingRestoresTheClockSpeedWithoutAJumpBack() throws Exception {
    long before = cluster.client(US).createKey(b -> b.description("before heal")).keyMetadata().creationDate().toEpochMilli();
    faults.healAll();
    JsonNode c = clock(US);
    assertEquals(1.0, c.path("scale").asDouble(), c.toString());
    assertEquals(1.0, c.path("effectiveScale").asDouble(), c.toString());
    long after = cluster.client(US).createKey(b -> b.description("after heal")).keyMetadata().creationDate().toEpochMilli();
    // Wall speed again, and simulated time did not run back to the wall clock.
    assertTrue(after >= before, before + " then " + after);
    String table = StatusTable.render(cluster.specs(), Map.of(US, faults.status(US, Duration.ofSeconds(5))), false);
    assertTrue(!table.contains("clock x"), table);

    faults.clock(US, 2.5);
    assertEquals(2.5, clock(US).path("scale").asDouble());
    faults.resetClock(US);
    assertEquals(1.0, clock(US).path("scale").asDouble());
  }

  @Test
  @Order(4)
  void theCommandLineSetsAndResetsARegionsClock() throws Exception {
    Path regions = dir.resolve("regions");
    java.nio.file.Files.createDirectories(regions);
    for (RegionSpec s : cluster.specs()) java.nio.file.Files.writeString(regions.resolve(s.name() + ".conf"), s.toFileText());
    String[] set = Cli.run("fault", "clock", EU, "--scale", "604800", "--regions", regions.toString());
    assertEquals("0", set[0], set[1]);
    assertEquals(604_800.0, clock(EU).path("scale").asDouble());
    for (String bad : List.of("0", "-3", "NaN", "Infinity")) {
      String[] r = Cli.run("fault", "clock", EU, "--scale", bad, "--regions", regions.toString());
      assertEquals("1", r[0], bad + ": " + r[1]);
      assertTrue(r[1].contains("--scale must be a number > 0"), bad + ": " + r[1]);
      assertEquals(604_800.0, clock(EU).path("scale").asDouble(), "unchanged after --scale " + bad);
    }
    String[] reset = Cli.run("fault", "clock", EU, "--reset", "--regions", regions.toString());
    assertEquals("0", reset[0], reset[1]);
    assertEquals(1.0, clock(EU).path("scale").asDouble());
  }

  private static JsonNode clock(String region) {
    return faults.status(region, Duration.ofSeconds(5)).path("faults").path("clock");
  }

  private static HttpResponse<String> post(String region, String path, String body) throws Exception {
    RegionSpec s = RegionSpec.named(cluster.specs(), region);
    return http.send(HttpRequest.newBuilder(URI.create(s.adminUrl() + path)).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
