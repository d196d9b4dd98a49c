package io.kmsregions.lab.report;

import io.kmsregions.lab.check.Availability;
import io.kmsregions.lab.check.CheckResult;
import io.kmsregions.lab.check.CheckSettings;
import io.kmsregions.lab.check.Checks;
import io.kmsregions.lab.check.Violation;
import io.kmsregions.lab.check.WindowStats;
import io.kmsregions.lab.history.FaultWindow;
import io.kmsregions.lab.history.History;
import java.util.List;

/**
 * The summary printed on the terminal at the end of a run: per Region and window the operations,
 * success rate, latency percentiles and main errors; per fault the time to detect and to converge;
 * one line per check with its first violations.
 */
public final class SummaryTable {
  /** How many violations (and notes) per check are listed before "… and N more". */
  public static final int DEFAULT_LISTED = 10;

  private SummaryTable() {}

  /** Renders the summary with the default settings and {@value #DEFAULT_LISTED} violations per check. */
  public static String render(History history, List<CheckResult> results) {
    return render(history, results, CheckSettings.defaults(), DEFAULT_LISTED);
  }

  /**
   * Renders the summary.
   *
   * @param settings the settings the checks ran with (the grace period shapes the rows)
   * @param listed how many violations per check to list
   */
  public static String render(History history, List<CheckResult> results, CheckSettings settings, int listed) {
    StringBuilder b = new StringBuilder();
    boolean pass = Checks.allPassed(results);
    b.append("Scenario ").append(TextTable.clean(history.scenarioName())).append(": ")
        .append(pass ? "PASS" : "FAIL").append("  (Regions: ")
        .append(TextTable.clean(String.join(", ", history.regions()))).append("; ")
        .append(history.operations().size()).append(" client operations; ")
        .append(history.faultWindows().size()).append(" fault windows)\n");
    for (String p : history.problems()) b.append("  history problem: ").append(TextTable.clean(p)).append('\n');

    b.append("\nAvailability per Region and window (success: judged operations, see the failure model)\n");
    TextTable avail = new TextTable("REGION", "WINDOW", "FROM", "TO", "EXPECT", "OPS", "SUCCESS", "P50 ms", "P99 ms",
        "MAIN ERRORS").right(2, 3, 5, 7, 8);
    for (WindowStats s : Availability.compute(history, settings)) {
      String flag = Availability.belowThreshold(s, settings) ? " <-- below threshold" : "";
      avail.row(s.region(), s.label(), Format.t(s.fromT()), Format.t(s.toT()), s.expectation(), s.ops(),
          Format.success(s) + flag, Format.ms(s.p50Ms()), Format.ms(s.p99Ms()), Format.errors(s.errors(), 3));
    }
    b.append(avail.isEmpty() ? "  (no client operations)\n" : avail.render("  "));

    b.append("\nFaults\n");
    List<FaultTiming> timings = FaultTiming.compute(history);
    if (timings.isEmpty()) {
      b.append("  (no faults)\n");
    } else {
      TextTable faults = new TextTable("WINDOW", "FAULT", "OPEN", "CLOSE", "DETECTED AFTER", "CONVERGED AFTER")
          .right(2, 3);
      for (FaultTiming ft : timings) {
        FaultWindow w = ft.window();
        faults.row(w.id(), w.label(), Format.t(w.openT()),
            w.closedByEnd() ? "(open) " + Format.t(w.closeT()) : Format.t(w.closeT()),
            ft.detectMs() == null ? "not detected" : Format.duration(ft.detectMs()) + " (" + ft.detectedBy() + ")",
            ft.convergeMs() != null ? Format.duration(ft.convergeMs()) : ft.convergeNote());
      }
      b.append(faults.render("  "));
    }

    b.append("\nChecks\n");
    for (CheckResult r : results) {
      b.append("  ").append(r.verdict()).append("  ").append(String.format("%-15s", r.name())).append(' ')
          .append(TextTable.clean(r.summary())).append('\n');
      list(b, r.violations().stream().map(Violation::describe).toList(), listed, "      - ");
      if (!r.ok() || r.violations().isEmpty()) {
        list(b, r.notes(), Math.min(listed, 5), "      note: ");
      }
    }
    b.append("\nVerdict: ").append(pass ? "PASS" : "FAIL").append('\n');
    return b.toString();
  }

  private static void list(StringBuilder b, List<String> lines, int listed, String prefix) {
    for (int i = 0; i < lines.size() && i < listed; i++) {
      b.append(prefix).append(TextTable.clean(lines.get(i))).append('\n');
    }
    if (lines.size() > listed) b.append(prefix).append("... and ").append(lines.size() - listed).append(" more\n");
  }
}
