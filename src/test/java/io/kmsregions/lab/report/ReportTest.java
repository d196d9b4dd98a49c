package io.kmsregions.lab.report;

import static io.kmsregions.lab.HistoryBuilder.AP;
import static io.kmsregions.lab.HistoryBuilder.EU;
import static io.kmsregions.lab.HistoryBuilder.KEY;
import static io.kmsregions.lab.HistoryBuilder.US;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kmsregions.lab.HistoryBuilder;
import io.kmsregions.lab.check.CheckResult;
import io.kmsregions.lab.check.CheckSettings;
import io.kmsregions.lab.check.Checks;
import io.kmsregions.lab.history.History;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
  private static final String EVIL = "<script>alert('x')</script>";

  /** The clean run plus a key named like markup whose replica was lost, and a labelled control op. */
  private static HistoryBuilder evil() {
    HistoryBuilder b = HistoryBuilder.clean();
    b.control(8000, "UpdatePrimaryRegion", US, KEY, Map.of("primaryRegion", EU), "fail");
    b.control(500, "CreateKey", US, EVIL, Map.of(), "ok");
    b.keyState(510, US, EVIL, "Enabled", null, null, 0, 0);
    b.finalRecord(13_020, US, EVIL, false, null, null, null, 0, 0, null);
    b.conflict(9000, EU, KEY, "<img src=x onerror=alert(1)>");
    return b;
  }

  @Test
  void writesOneSelfContainedEscapedHtmlFile(@TempDir Path dir) throws Exception {
    History h = evil().build();
    List<CheckResult> results = Checks.runAll(h, CheckSettings.defaults());
    Path out = dir.resolve("nested/report.html");
    HtmlReport.write(h, results, out);
    String html = Files.readString(out);

    assertTrue(html.startsWith("<!DOCTYPE html>"));
    assertTrue(html.trim().endsWith("</html>"));
    assertEquals(1, count(html, "<svg"), "one timeline");
    assertEquals(count(html, "<svg"), count(html, "</svg>"));
    for (String r : List.of(US, EU, AP)) {
      assertTrue(html.contains("<g class=\"lane\" data-region=\"" + r + "\">"), "a lane for " + r);
    }
    assertTrue(html.contains("crash ap-southeast-2 [w1]"), "the fault window is labelled");
    assertTrue(html.contains("data-key=\"" + KEY + "\""), "a primary band for the multi-Region key");
    assertTrue(html.contains("UpdatePrimaryRegion us-east-1 -&gt; eu-west-1 (fail)"), "the control marker");
    assertTrue(html.contains("class=\"badge fail\">FAIL"), "the lost key fails the run");

    // Nothing is loaded from anywhere: no script, no stylesheet link, no external URL in any attribute.
    assertFalse(html.contains("<script"), "no script element (the key name must be escaped)");
    assertFalse(html.contains("<link"));
    assertFalse(html.contains("<img"));
    Matcher m = Pattern.compile("(?i)(src|href|xlink:href)\\s*=\\s*[\"']?\\s*(https?:|//)").matcher(html);
    assertFalse(m.find(), () -> "external resource: " + m.group());
    assertFalse(html.contains("@import"));
    assertFalse(html.contains("url(http"));
    assertTrue(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), "the key name shown, escaped");
    assertTrue(html.contains("&lt;img src=x onerror=alert(1)&gt;"), "the conflict detail shown, escaped");
  }

  @Test
  void aPassingRunHasAPassBadgeAndTheTables() {
    History h = HistoryBuilder.clean().build();
    String html = HtmlReport.render(h, Checks.runAll(h, CheckSettings.defaults()), CheckSettings.defaults());
    assertTrue(html.contains("class=\"badge pass\">PASS"));
    assertFalse(html.contains("badge fail"));
    assertTrue(html.contains("<title>kms-regions lab: clean-crash</title>"));
    assertTrue(html.contains("<table class=\"avail\">"));
    assertTrue(html.contains("<table class=\"faults\">"));
    // The crash was detected 800 ms after it opened.
    assertTrue(html.contains("800 ms (us-east-1 saw ap-southeast-2)"), "time to detect");
  }

  @Test
  void aClockWindowIsPairedDrawnOliveAndJudgedAsNoOutage(@TempDir Path dir) throws Exception {
    HistoryBuilder b = HistoryBuilder.clean();
    // The laboratory's record of `clock: {region: eu-west-1, scale: 86400}` then `scale: 1`.
    b.fault(3000, "clock", "w9", "open", Map.of("region", EU, "scale", 86400), EU);
    b.fault(6000, "clock", "w9", "close", EU);
    // Written to and read back from a file, as `lab run` and `lab check` do.
    Path file = dir.resolve("history.jsonl");
    Files.writeString(file, b.jsonLines());
    History h = History.read(file);
    var clock = h.faultWindows().stream().filter(w -> w.kind().equals("clock")).findFirst().orElseThrow();
    assertEquals(List.of(EU), clock.regions());
    assertEquals(3000L, clock.openT());
    assertEquals(6000L, clock.closeT());
    assertEquals("clock", clock.closeAction());
    assertFalse(clock.closedByEnd());
    assertEquals(86400, clock.params().path("scale").asInt());
    assertFalse(clock.isOutageOf(EU), "a fast clock does not take the Region down: its operations are judged");
    assertTrue(h.problems().isEmpty(), "pairs cleanly: " + h.problems());

    List<CheckResult> results = Checks.runAll(h, CheckSettings.defaults());
    String html = HtmlReport.render(h, results, CheckSettings.defaults());
    assertTrue(html.contains("clock eu-west-1 [w9]"), "the clock window is labelled");
    assertTrue(html.contains("fill=\"#bcbd22\" fill-opacity"), "drawn olive");
    String table = SummaryTable.render(h, results, CheckSettings.defaults(), 10);
    assertTrue(table.contains("clock eu-west-1 [w9]"), table);
    assertTrue(html.contains("class=\"badge pass\">PASS"), "the clean run still passes");
  }

  @Test
  void aReplicaDeletedDuringAClockWindowLeavesTheViewsThatMustAgree() {
    HistoryBuilder b = HistoryBuilder.clean();
    // After the clean history's crash window (and AP's recovery at 7 s).
    b.fault(7500, "clock", "w9", "open", Map.of("region", EU, "scale", 604800), EU);
    b.keyState(7600, EU, KEY, "PendingDeletion", "REPLICA", US, 1, 3, US, EU, AP);
    b.keyState(8000, EU, KEY, "Deleted", null, null, 1, 3);
    b.fault(8500, "clock", "w9", "close", EU);
    // The primary and the other replica drop eu-west-1 from the member list a little later.
    b.keyState(9000, US, KEY, "Enabled", "PRIMARY", US, 1, 3, US, AP);
    b.keyState(9100, AP, KEY, "Enabled", "REPLICA", US, 1, 3, US, AP);
    FaultTiming clock = FaultTiming.compute(b.build()).stream()
        .filter(t -> t.window().kind().equals("clock")).findFirst().orElseThrow();
    assertNull(clock.detectMs(), "nothing to detect: the Region stays reachable");
    assertEquals(600L, clock.convergeMs(), "converged once the remaining members agree: " + clock.convergeNote());
  }

  @Test
  void faultTimingsMeasureDetectionAndConvergence() {
    HistoryBuilder b = HistoryBuilder.clean();
    // A handover that completes 1.5 s after a heal: the key is Updating until then.
    b.fault(7000, "partition", "p1", "open", US, EU);
    b.keyState(7100, US, KEY, "Updating", "REPLICA", EU, 2, 4, EU, US, AP);
    b.fault(8000, "heal", "p1", "close", US, EU);
    b.keyState(8200, EU, KEY, "Updating", "PRIMARY", EU, 2, 4, EU, US, AP);
    b.keyState(9000, US, KEY, "Enabled", "REPLICA", EU, 2, 4, EU, US, AP);
    b.keyState(9400, AP, KEY, "Enabled", "REPLICA", EU, 2, 4, EU, US, AP);
    b.keyState(9500, EU, KEY, "Enabled", "PRIMARY", EU, 2, 4, EU, US, AP);
    List<FaultTiming> timings = FaultTiming.compute(b.build());
    assertEquals(2, timings.size());
    FaultTiming crash = timings.get(0);
    assertEquals(800L, crash.detectMs());
    assertEquals(0L, crash.convergeMs(), "nothing changed: the views agreed at the restart");
    FaultTiming partition = timings.get(1);
    assertNull(partition.detectMs(), "no membership event about the partition");
    assertEquals(1500L, partition.convergeMs());

    b.keyState(9600, AP, KEY, "Enabled", "REPLICA", US, 1, 3, US, EU, AP); // AP falls back: never agrees
    FaultTiming never = FaultTiming.compute(b.build()).get(1);
    assertNull(never.convergeMs());
    assertNotNull(never.convergeNote());
  }

  @Test
  void anEmptyOrTornHistoryStillGivesAReportAndATable() {
    History h = History.parse("{\"type\":\"scenario\",\"t\":0,\"name\":\"empty\",\"regions\":[\"us-east-1\"]}\n{\"type\":");
    List<CheckResult> results = Checks.runAll(h, CheckSettings.defaults());
    String html = HtmlReport.render(h, results, CheckSettings.defaults());
    assertTrue(html.contains("data-region=\"us-east-1\""));
    assertTrue(html.contains("History problems"), "the torn line is shown");
    String text = SummaryTable.render(h, results);
    assertTrue(text.contains("history problem: line 2"), text);
  }

  private static int count(String s, String what) {
    int n = 0;
    for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) n++;
    return n;
  }
}
