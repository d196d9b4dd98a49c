package io.kmsregions.lab;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.kmsregions.lab.history.History;
import io.kmsregions.lab.report.HtmlReport;
import io.kmsregions.lab.report.SummaryTable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every shipped scenario, run for real in a short version (issue 5): its own cluster of node
 * processes, real kill -9, SIGSTOP, Artery blackholes, the client workload and the schedule at
 * {@link #SPEED} times the written pace; then every check the scenario asks for must pass.
 */
class LabScenariosTest {
  /** The workload and schedule run this many times faster than written; settle times stay. */
  static final double SPEED = 3.5;
  private static final List<String> REGIONS = List.of("ap-southeast-2", "eu-west-1", "us-east-1");

  static Stream<Path> shipped() throws Exception {
    return ScenarioTest.shipped();
  }

  @ParameterizedTest
  @MethodSource("shipped")
  void theScenarioPassesItsChecks(Path file) throws Exception {
    Scenario scenario = Scenario.read(file, REGIONS).faster(SPEED);
    // Kept after the run (not a temporary folder), so that a failure can be read: history, report, node logs.
    Path out = Path.of("target", "lab-tests", scenario.name());
    deleteRecursively(out);
    Path history = new LabRunner(scenario, new LabRunner.Options(out, Path.of("regions"),
        List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"), Duration.ofSeconds(3),
        Duration.ofSeconds(150), "test", "test", System.out)).run();
    History h = History.read(history);
    // The laboratory's default (issue 7): Artery over mutual TLS, one CA made for the whole run.
    String links = h.ofType("scenario").get(0).path("settings").path("clusterLinks").asText();
    assertTrue(links.startsWith("mutual TLS, cluster CA "), "cluster links: " + links);
    assertTrue(Files.exists(out.resolve("data").resolve("cluster-ca").resolve("ca.p12")), "no cluster CA in " + out);
    LabChecks.Verdict v = LabChecks.run(h, scenario);
    String table = SummaryTable.render(h, v.results(), v.settings(), 10);
    System.out.println(table);
    Path report = out.resolve("report.html");
    HtmlReport.write(h, v.results(), v.settings(), report);
    assertTrue(Files.readString(report).contains("<svg"), "the report draws its timeline");
    assertTrue(h.ofType("complete").size() > 50, "the workload ran: " + h.ofType("complete").size() + " operations");
    assertTrue(v.passed(), scenario.name() + " failed its checks; node logs in " + out.resolve("logs") + "\n" + table);
    if (scenario.name().equals("clock-skew")) theClockFaultActedOnItsRegionOnly(h);
  }

  /** clock-skew: the replica in the sped-up Region is gone; the one scheduled alike elsewhere still waits. */
  private static void theClockFaultActedOnItsRegionOnly(History h) {
    assertTrue(h.faultWindows().stream().anyMatch(w -> w.kind().equals("clock") && w.regions().equals(List.of("eu-west-1"))),
        "a clock window on eu-west-1: " + h.faultWindows());
    String app = h.ofType("control").stream().filter(c -> c.path("op").asText().equals("ScheduleKeyDeletion"))
        .map(c -> c.path("key").asText()).findFirst().orElseThrow();
    var finals = h.ofType("final").stream().filter(f -> f.path("key").asText().equals(app)).toList();
    assertTrue(finals.stream().anyMatch(f -> f.path("region").asText().equals("eu-west-1") && !f.path("exists").asBoolean()),
        "eu-west-1's replica was deleted: " + finals);
    assertTrue(finals.stream().anyMatch(f -> f.path("region").asText().equals("ap-southeast-2")
        && f.path("state").asText().equals("PendingDeletion")), "ap-southeast-2's replica still waits: " + finals);
  }

  private static void deleteRecursively(Path p) throws java.io.IOException {
    if (!Files.exists(p)) return;
    try (Stream<Path> all = Files.walk(p)) {
      for (Path x : all.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(x);
    }
  }
}
