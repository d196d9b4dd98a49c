package io.kmsregions.lab.check;

import static io.kmsregions.lab.HistoryBuilder.AP;
import static io.kmsregions.lab.HistoryBuilder.EU;
import static io.kmsregions.lab.HistoryBuilder.KEY;
import static io.kmsregions.lab.HistoryBuilder.US;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kmsregions.lab.HistoryBuilder;
import io.kmsregions.lab.history.History;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ChecksTest {

  private static CheckResult result(List<CheckResult> results, String name) {
    return results.stream().filter(r -> r.name().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no result for " + name + " in " + results));
  }

  private static List<CheckResult> run(HistoryBuilder b) {
    return Checks.runAll(b.build(), CheckSettings.defaults());
  }

  private static void onlyFails(List<CheckResult> results, String... names) {
    Set<String> expected = Set.of(names);
    for (CheckResult r : results) {
      assertEquals(!expected.contains(r.name()), r.ok(), r.name() + ": " + r.summary() + " " + r.violations());
    }
  }

  @Test
  void aCleanHistoryPassesEveryCheck() {
    List<CheckResult> results = run(HistoryBuilder.clean());
    assertEquals(Checks.NAMES, results.stream().map(CheckResult::name).toList());
    for (CheckResult r : results) {
      assertTrue(r.ok(), r.name() + ": " + r.summary() + " " + r.violations());
      assertTrue(r.violations().isEmpty(), r.name());
    }
    assertTrue(Checks.allPassed(results));
  }

  @Test
  void failuresOfTheCrashedRegionDuringItsWindowAreReportedNotViolations() {
    HistoryBuilder b = HistoryBuilder.clean();
    CheckResult availability = result(run(b), AvailabilityCheck.NAME);
    assertTrue(availability.ok(), availability.violations().toString());
    assertTrue(availability.notes().stream().anyMatch(n -> n.contains(AP) && n.contains("crash") && n.contains("expected")),
        availability.notes().toString());
    // And the row of that window says so: 40 operations, none succeeded, expectation "down".
    WindowStats row = Availability.compute(b.build(), CheckSettings.defaults()).stream()
        .filter(s -> s.region().equals(AP) && s.windowId().equals("w1")).findFirst().orElseThrow();
    assertTrue(row.ownOutage());
    assertEquals(40, row.ops());
    assertEquals(0, row.ok());
    assertEquals(40, row.errors().get("ConnectionRefused"));
  }

  @Test
  void aLostReplicaIsADurabilityViolationNamingKeyRegionAndOperation() {
    HistoryBuilder b = HistoryBuilder.clean();
    b.find("final", EU, KEY).put("exists", false);
    List<CheckResult> results = run(b);
    CheckResult d = result(results, DurabilityCheck.NAME);
    assertFalse(d.ok());
    assertEquals(1, d.violations().size(), d.violations().toString());
    Violation v = d.violations().get(0);
    assertEquals(List.of(KEY), v.keys());
    assertEquals(List.of(EU), v.regions());
    assertEquals(List.of(b.replicateEuId), v.opIds());
    assertEquals(List.of(200L), v.times());
    // The member list still names eu-west-1, so convergence sees it too.
    assertFalse(result(results, ConvergenceCheck.NAME).ok());
  }

  @Test
  void aMissingFinalRecordOfAnInspectedRegionIsALoss() {
    HistoryBuilder b = HistoryBuilder.clean();
    b.remove(n -> "final".equals(n.path("type").asText()) && AP.equals(n.path("region").asText()));
    b.finalRecord(13_010, AP, "other-key", true, "Enabled", null, null, 0, 0, "bb", new String[0]);
    CheckResult d = result(run(b), DurabilityCheck.NAME);
    assertFalse(d.ok());
    assertEquals(List.of(AP), d.violations().get(0).regions());
    assertEquals(List.of(b.replicateApId), d.violations().get(0).opIds());
  }

  @Test
  void aRegionLeftDownAtTheEndIsNotInspectedNotLost() {
    HistoryBuilder b = HistoryBuilder.clean();
    b.remove(n -> "final".equals(n.path("type").asText()) && AP.equals(n.path("region").asText()));
    b.remove(n -> "verify".equals(n.path("type").asText()) && AP.equals(n.path("region").asText()));
    b.fault(10_000, "crash", "w2", "open", AP); // never closed
    List<CheckResult> results = run(b);
    CheckResult d = result(results, DurabilityCheck.NAME);
    assertTrue(d.ok(), d.violations().toString());
    assertTrue(d.notes().stream().anyMatch(n -> n.contains("not inspected")), d.notes().toString());
  }

  @Test
  void aKeyDeletedLaterByAnAcknowledgedDeletionIsNotLost() {
    HistoryBuilder b = HistoryBuilder.clean();
    b.find("final", EU, KEY).put("exists", false);
    b.control(9000, "ScheduleKeyDeletion", EU, KEY, Map.of(), "ok");
    assertTrue(result(run(b), DurabilityCheck.NAME).ok());
  }

  @Test
  void aKeyDeletedLaterIsNotFoundByTheVerificationWithoutViolation() {
    // A replica scheduled for deletion while its Region's clock ran fast (the clock fault) is gone
    // after the settle time: its final record says so, and DescribeKey there answers NotFound.
    HistoryBuilder b = HistoryBuilder.clean();
    b.find("final", EU, KEY).put("exists", false);
    b.find("verify", EU, KEY).put("ok", false).put("error", "NotFoundException");
    b.control(9000, "ScheduleKeyDeletion", EU, KEY, Map.of("pendingWindowInDays", "7"), "ok");
    CheckResult d = result(run(b), DurabilityCheck.NAME);
    assertTrue(d.ok(), d.violations().toString());
    assertTrue(d.notes().stream().anyMatch(n -> n.contains("deleted by an acknowledged deletion")), d.notes().toString());
    // Without the deletion (or when it failed) the same NotFound is a loss.
    HistoryBuilder lost = HistoryBuilder.clean();
    lost.find("verify", EU, KEY).put("ok", false).put("error", "NotFoundException");
    lost.control(9000, "ScheduleKeyDeletion", EU, KEY, Map.of(), "fail");
    assertFalse(result(run(lost), DurabilityCheck.NAME).ok());
  }

  @Test
  void aFailedDescribeVerificationIsADurabilityViolation() {
    HistoryBuilder b = HistoryBuilder.clean();
    b.verify(13_060, "describe", AP, KEY, b.replicateApId, false, "NotFoundException");
    CheckResult d = result(run(b), DurabilityCheck.NAME);
    assertFalse(d.ok());
    Violation v = d.violations().get(0);
    assertEquals(List.of(AP), v.regions());
    assertEquals(List.of(b.replicateApId), v.opIds());
    assertTrue(v.message().contains("NotFoundException"));
  }

  @Test
  void twoPrimariesAtOneEpochAreAViolation() {
    HistoryBuilder b = HistoryBuilder.clean();
    b.keyState(8000, EU, KEY, "Enabled", "PRIMARY", EU, 1, 3, EU, US, AP);
    List<CheckResult> results = run(b);
    CheckResult p = result(results, SinglePrimaryCheck.NAME);
    assertFalse(p.ok());
    Violation v = p.violations().get(0);
    assertEquals(List.of(KEY), v.keys());
    assertTrue(v.regions().containsAll(List.of(US, EU)) && v.regions().size() == 2, v.regions().toString());
    assertTrue(v.message().contains("epoch 1"), v.message());
    assertTrue(v.times().contains(8000L), v.times().toString());
  }

  @Test
  void anOldEpochPrimaryWhilePartitionedIsNoViolation() {
    HistoryBuilder b = HistoryBuilder.clean();
    // us-east-1 is cut off; eu-west-1 is force-promoted at epoch 2; us-east-1 still says PRIMARY at
    // epoch 1 until the heal, then steps down.
    b.fault(7500, "partition", "p1", "open", US, EU);
    b.control(7600, "ForcePromote", EU, KEY, Map.of(), "ok");
    b.keyState(7610, EU, KEY, "Enabled", "PRIMARY", EU, 2, 4, EU, US, AP);
    b.keyState(7620, AP, KEY, "Enabled", "REPLICA", EU, 2, 4, EU, US, AP);
    b.keyState(7700, US, KEY, "Enabled", "PRIMARY", US, 1, 3, US, EU, AP); // e.g. a rotation's side effect
    b.fault(9000, "heal", "p1", "close", US, EU);
    b.keyState(9200, US, KEY, "Enabled", "REPLICA", EU, 2, 4, EU, US, AP);
    b.conflict(9200, US, KEY, "material version 2 was never replicated");
    b.remove(n -> "final".equals(n.path("type").asText()));
    for (String r : List.of(US, EU, AP)) {
      b.finalRecord(13_010, r, KEY, true, "Enabled", r.equals(EU) ? "PRIMARY" : "REPLICA", EU, 2, 4, "cc",
          EU, US, AP);
    }
    List<CheckResult> results = run(b);
    onlyFails(results);
    CheckResult p = result(results, SinglePrimaryCheck.NAME);
    assertTrue(p.notes().stream().anyMatch(n -> n.contains("1=us-east-1") && n.contains("2=eu-west-1")), p.notes().toString());
    CheckResult c = result(results, ConflictCheck.NAME);
    assertTrue(c.ok());
    assertTrue(c.summary().contains("1 conflict"), c.summary());
    assertFalse(Checks.runAll(b.build(), CheckSettings.defaults().withConflictsFail(true)).stream()
        .filter(r -> r.name().equals(ConflictCheck.NAME)).findFirst().orElseThrow().ok());
  }

  @Test
  void twoPrimariesAfterTheSettleAreAViolation() {
    HistoryBuilder b = HistoryBuilder.clean();
    b.find("final", AP, KEY).put("multiRegionKeyType", "PRIMARY").put("epoch", 2);
    CheckResult p = result(run(b), SinglePrimaryCheck.NAME);
    assertFalse(p.ok());
    assertTrue(p.violations().stream().anyMatch(v -> v.message().contains("2 Regions are PRIMARY")
        && v.regions().containsAll(List.of(US, AP))), p.violations().toString());
  }

  @Test
  void anUndecryptableCiphertextIsAViolationNamingOperationAndRegion() {
    HistoryBuilder b = HistoryBuilder.clean();
    long op = b.ciphertextOps.get(3);
    b.remove(n -> "verify".equals(n.path("type").asText()) && n.path("ref").asLong() == op
        && AP.equals(n.path("region").asText()));
    b.verify(13_900, "decrypt", AP, KEY, op, false, "InvalidCiphertextException");
    CheckResult d = result(run(b), DecryptabilityCheck.NAME);
    assertFalse(d.ok());
    assertEquals(1, d.violations().size(), d.violations().toString());
    Violation v = d.violations().get(0);
    assertEquals(List.of(op), v.opIds());
    assertEquals(AP, v.regions().get(0));
    assertEquals(List.of(KEY), v.keys());
    assertTrue(v.message().contains("InvalidCiphertextException"));
    assertTrue(v.times().contains(b.build().operation(op).completeT()));
  }

  @Test
  void aMissingDecryptVerificationIsAViolation() {
    HistoryBuilder b = HistoryBuilder.clean();
    long op = b.ciphertextOps.get(0);
    b.remove(n -> "verify".equals(n.path("type").asText()) && n.path("ref").asLong() == op
        && EU.equals(n.path("region").asText()));
    CheckResult d = result(run(b), DecryptabilityCheck.NAME);
    assertFalse(d.ok());
    Violation v = d.violations().get(0);
    assertEquals(List.of(op), v.opIds());
    assertEquals(EU, v.regions().get(0));
    assertTrue(v.message().contains("never verified"), v.message());
  }

  @Test
  void aDivergedReplicaIsAConvergenceViolation() {
    HistoryBuilder b = HistoryBuilder.clean();
    b.find("final", AP, KEY).put("sharedDigest", "ffff");
    List<CheckResult> results = run(b);
    onlyFails(results, ConvergenceCheck.NAME);
    Violation v = result(results, ConvergenceCheck.NAME).violations().get(0);
    assertEquals(List.of(KEY), v.keys());
    assertTrue(v.message().contains("sharedDigest") && v.message().contains("ap-southeast-2=ffff"), v.message());
    assertTrue(v.regions().contains(AP));
  }

  @Test
  void aTransitionalStateAfterTheSettleIsAConvergenceViolation() {
    HistoryBuilder b = HistoryBuilder.clean();
    b.find("final", EU, KEY).put("state", "Updating");
    Violation v = result(run(b), ConvergenceCheck.NAME).violations().get(0);
    assertEquals(List.of(EU), v.regions());
    assertTrue(v.message().contains("Updating"));
  }

  @Test
  void anAvailabilityDropInAnUnfaultedRegionIsAViolation() {
    HistoryBuilder b = HistoryBuilder.clean();
    // eu-west-1 was never faulted, yet 4 of its operations fail while ap-southeast-2 is crashed.
    int planted = 0;
    long firstFailed = -1;
    for (var n : b.records()) {
      if ("complete".equals(n.path("type").asText()) && EU.equals(n.path("region").asText())
          && n.path("t").asLong() >= 4500 && planted < 4) {
        n.put("outcome", "fail").put("error", "Http503");
        if (firstFailed < 0) firstFailed = n.path("id").asLong();
        planted++;
      }
    }
    List<CheckResult> results = run(b);
    onlyFails(results, AvailabilityCheck.NAME);
    CheckResult a = result(results, AvailabilityCheck.NAME);
    assertEquals(1, a.violations().size(), a.violations().toString());
    Violation v = a.violations().get(0);
    assertEquals(List.of(EU), v.regions());
    assertEquals(firstFailed, v.opIds().get(0));
    assertTrue(v.message().contains("Http503") && v.message().contains("crash ap-southeast-2"), v.message());
    // With a threshold of 0.9 the same history passes: the threshold is really applied.
    assertTrue(Checks.runAll(b.build(), CheckSettings.defaults().withAvailabilityThreshold(0.9)).stream()
        .allMatch(CheckResult::ok));
  }

  @Test
  void failuresRightAfterARestartAreGracedButNotLater() {
    HistoryBuilder b = HistoryBuilder.clean();
    for (var n : b.records()) {
      long t = n.path("t").asLong();
      if ("complete".equals(n.path("type").asText()) && AP.equals(n.path("region").asText())
          && t >= 6000 && t < 7000) {
        n.put("outcome", "fail").put("error", "ConnectionRefused");
      }
    }
    assertTrue(result(run(b), AvailabilityCheck.NAME).ok());
    CheckResult noGrace = Checks.runAll(b.build(), CheckSettings.defaults().withGraceMs(500)).stream()
        .filter(r -> r.name().equals(AvailabilityCheck.NAME)).findFirst().orElseThrow();
    assertFalse(noGrace.ok());
    assertEquals(List.of(AP), noGrace.violations().get(0).regions());
  }

  @Test
  void refusalsWhileTheKeyIsCreatingInTheRegionAreExplainedByItsState() {
    HistoryBuilder b = new HistoryBuilder().scenario("creating", US, EU);
    b.keyState(0, EU, KEY, "Creating", "REPLICA", US, 1, 2, US, EU);
    for (long t = 100; t < 1000; t += 100) b.op(t, EU, "Encrypt", KEY, "fail", "KMSInvalidStateException", 2, null);
    b.keyState(1000, EU, KEY, "Enabled", "REPLICA", US, 1, 2, US, EU);
    for (long t = 1000; t < 2000; t += 100) b.ok(t, EU, "Encrypt", KEY);
    b.op(2000, EU, "Encrypt", "mrk-other", "fail", "NotFoundException", 2, null);
    b.keyState(2500, EU, "mrk-other", "Enabled", "REPLICA", US, 1, 2, US, EU);
    WindowStats free = Availability.compute(b.build(), CheckSettings.defaults()).stream()
        .filter(s -> s.region().equals(EU)).findFirst().orElseThrow();
    assertEquals(10, free.excusedByState());
    assertEquals(10, free.judged());
    assertEquals(1.0, free.judgedRate());
    // The same refusals while the key is Enabled are failures.
    b.find("keyState", EU, KEY).put("state", "Enabled");
    assertFalse(new AvailabilityCheck().check(b.build(), CheckSettings.defaults()).ok());
  }

  @Test
  void settingsChooseTheChecksAndRejectUnknownNames() {
    List<CheckResult> results = Checks.runAll(HistoryBuilder.clean().build(),
        CheckSettings.defaults().withEnabled(List.of("durability", "convergence")));
    assertEquals(List.of("convergence", "durability"), results.stream().map(CheckResult::name).toList());
    assertThrows(IllegalArgumentException.class, () -> CheckSettings.defaults().withEnabled(List.of("speed")));
    assertThrows(IllegalArgumentException.class, () -> CheckSettings.defaults().withAvailabilityThreshold(1.5));
  }

  @Test
  void anEmptyOrBrokenHistoryDoesNotCrashTheCheckers() {
    History h = History.parse("{\"type\":\"final\",\"t\":\"x\"}\n{\"type\":\"complete\"}\nnot json\n[1]\n");
    List<CheckResult> results = Checks.runAll(h, CheckSettings.defaults());
    assertEquals(6, results.size());
    for (CheckResult r : results) assertFalse(r.summary().startsWith("checker crashed"), r.summary());
  }
}
