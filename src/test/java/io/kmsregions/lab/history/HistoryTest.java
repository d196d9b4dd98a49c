package io.kmsregions.lab.history;

import static io.kmsregions.lab.HistoryBuilder.AP;
import static io.kmsregions.lab.HistoryBuilder.EU;
import static io.kmsregions.lab.HistoryBuilder.KEY;
import static io.kmsregions.lab.HistoryBuilder.US;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kmsregions.lab.HistoryBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HistoryTest {

  @Test
  void readsAFileSkippingATornLastLineAndSortsByTime(@TempDir Path dir) throws Exception {
    HistoryBuilder b = HistoryBuilder.clean();
    List<String> lines = new ArrayList<>(List.of(b.jsonLines().split("\n")));
    Collections.reverse(lines); // written out of order
    String text = String.join("\n", lines) + "\n{\"type\":\"complete\",\"t\":99,\"id\":";
    Path file = dir.resolve("history.jsonl");
    Files.writeString(file, text);
    History h = History.read(file);
    assertEquals(b.records().size(), h.records().size());
    assertEquals(1, h.problems().size(), h.problems().toString());
    assertTrue(h.problems().get(0).startsWith("line " + (lines.size() + 1)), h.problems().get(0));
    long last = Long.MIN_VALUE;
    for (var n : h.records()) {
      assertTrue(History.t(n) >= last);
      last = History.t(n);
    }
    assertEquals("clean-crash", h.scenarioName());
    assertEquals(List.of(US, EU, AP), h.regions());
    assertEquals(1000, h.workloadStartT());
    assertEquals(11_000, h.workloadEndT());
  }

  @Test
  void pairsInvokesWithCompletions() {
    HistoryBuilder b = new HistoryBuilder().scenario("pairs", US);
    long id = b.op(100, US, "Encrypt", KEY, "ok", null, 7, "Y3Q=");
    b.remove(n -> "complete".equals(n.path("type").asText()));
    long done = b.op(200, US, "Decrypt", KEY, "fail", "Timeout", 30, null);
    History h = b.build();
    Operation pending = h.operation(id);
    assertFalse(pending.completed());
    assertTrue(pending.indeterminate());
    assertEquals("NoCompletion", pending.error());
    Operation failed = h.operation(done);
    assertEquals(200, failed.invokeT());
    assertEquals(230, failed.completeT());
    assertTrue(failed.failed());
    assertEquals("Timeout", failed.error());
    assertEquals(30.0, failed.latencyMs());
  }

  @Test
  void pairsFaultWindowsAndExtendsAnOpenOneToTheEndOfTheWorkload() {
    HistoryBuilder b = HistoryBuilder.clean();
    b.fault(8000, "partition", "p9", "open", US, EU);
    History h = b.build();
    assertEquals(2, h.faultWindows().size());
    FaultWindow crash = h.faultWindows().get(0);
    assertEquals("w1", crash.id());
    assertEquals(4000, crash.openT());
    assertEquals(6000, crash.closeT());
    assertEquals("restart", crash.closeAction());
    assertTrue(crash.isOutageOf(AP));
    assertFalse(crash.isOutageOf(US));
    FaultWindow partition = h.faultWindows().get(1);
    assertTrue(partition.closedByEnd());
    assertEquals(11_000, partition.closeT());
    assertNull(partition.closeAction());
    assertFalse(partition.isOutageOf(US)); // a partitioned Region still serves
    assertEquals("partition us-east-1 <-> eu-west-1 [p9]", partition.label());
    assertTrue(h.isDown(AP, 5000));
    assertFalse(h.isDown(AP, 6000));
  }

  @Test
  void theTimelineGivesThePrimaryOverTime() {
    HistoryBuilder b = HistoryBuilder.clean();
    b.keyState(8000, EU, KEY, "Enabled", "PRIMARY", EU, 2, 4, EU, US, AP);
    b.keyState(8500, US, KEY, "Enabled", "REPLICA", EU, 2, 4, EU, US, AP);
    List<KeyStateTimeline.Segment> segs = new KeyStateTimeline(b.build(), KEY).primarySegments(14_000);
    assertEquals(List.of(US), segs.get(0).primaries());
    assertEquals(110, segs.get(0).fromT());
    assertEquals(List.of(US, EU), segs.get(1).primaries());
    assertEquals(8000, segs.get(1).fromT());
    assertEquals(List.of(EU), segs.get(2).primaries());
    assertEquals(8500, segs.get(2).fromT());
    assertEquals(14_000, segs.get(2).toT());
  }
}
