package io.kmsregions.lab.report;

import com.fasterxml.jackson.databind.JsonNode;
import io.kmsregions.lab.check.Availability;
import io.kmsregions.lab.check.CheckResult;
import io.kmsregions.lab.check.CheckSettings;
import io.kmsregions.lab.check.Checks;
import io.kmsregions.lab.check.Violation;
import io.kmsregions.lab.check.WindowStats;
import io.kmsregions.lab.history.FaultWindow;
import io.kmsregions.lab.history.History;
import io.kmsregions.lab.history.Json;
import io.kmsregions.lab.history.KeyStateTimeline;
import io.kmsregions.lab.history.Operation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The laboratory's report: one self-contained HTML file (inline CSS and hand-drawn inline SVG, no
 * script and no external resource, so it opens offline and from a mail attachment alike).
 *
 * <p>The timeline puts time on x, one lane per Region with its fault windows shaded, its client
 * successes and failures per time bucket, and the membership events its node saw as ticks; one band
 * per multi-Region key shows which Region claimed to be primary; control operations are labelled
 * markers. Below it: the checks' verdicts with their violations, and the summary tables.
 *
 * <p>Every string from the history is escaped: a history is written from what clients and nodes
 * said, and a key alias or an error message must not become markup.
 */
public final class HtmlReport {
  /** Violations listed per check in the HTML (the rest are counted). */
  public static final int LISTED = 200;

  private static final int WIDTH = 1200;
  private static final int LEFT = 190;
  private static final int RIGHT = 20;
  private static final int LANE = 74;
  /** Bar height at the tallest bucket; the strip above the bars holds the fault labels. */
  private static final int LANE_PLOT = 44;
  private static final int KEY_BAND = 24;
  private static final Set<String> MARKED_CONTROLS =
      Set.of("ReplicateKey", "UpdatePrimaryRegion", "ForcePromote", "RotateKeyOnDemand", "ScheduleKeyDeletion",
          "CancelKeyDeletion");
  private static final String[] REGION_COLOURS = {
    // No green or red: those mean success and failure in the lanes above.
    "#1f77b4", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#393b79", "#637939", "#7b4173", "#3182bd", "#843c39"
  };
  private static final Map<String, String> FAULT_COLOURS = Map.of(
      "crash", "#d62728", "pause", "#ff7f0e", "partition", "#9467bd", "latency", "#17becf",
      "loss", "#1f9e89", "clock", "#bcbd22");

  private HtmlReport() {}

  /** Writes the report of {@code history} and its check results to {@code outFile} (UTF-8). */
  public static void write(History history, List<CheckResult> results, Path outFile) {
    write(history, results, CheckSettings.defaults(), outFile);
  }

  /** Writes the report, with the settings the checks ran with (they shape the availability rows). */
  public static void write(History history, List<CheckResult> results, CheckSettings settings, Path outFile) {
    try {
      Path parent = outFile.toAbsolutePath().getParent();
      if (parent != null) Files.createDirectories(parent);
      Files.writeString(outFile, render(history, results, settings), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write report " + outFile, e);
    }
  }

  /** The report as a string. */
  public static String render(History history, List<CheckResult> results, CheckSettings settings) {
    boolean pass = Checks.allPassed(results);
    StringBuilder h = new StringBuilder(64 * 1024);
    h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<title>kms-regions lab: ").append(esc(history.scenarioName())).append("</title>\n")
        .append("<style>").append(CSS).append("</style>\n</head>\n<body>\n");
    h.append("<h1>").append(esc(history.scenarioName())).append(" <span class=\"badge ")
        .append(pass ? "pass\">PASS" : "fail\">FAIL").append("</span></h1>\n");
    h.append("<p class=\"meta\">kms-regions failover laboratory &middot; Regions: ")
        .append(esc(String.join(", ", history.regions()))).append(" &middot; ")
        .append(history.operations().size()).append(" client operations &middot; ")
        .append(history.faultWindows().size()).append(" fault windows &middot; duration ")
        .append(esc(Format.t(history.endT() - history.startT()))).append(startedAt(history)).append("</p>\n");
    if (!history.problems().isEmpty()) {
      h.append("<div class=\"problems\"><b>History problems</b><ul>");
      for (String p : history.problems()) h.append("<li>").append(esc(p)).append("</li>");
      h.append("</ul></div>\n");
    }
    h.append("<h2>Timeline</h2>\n");
    legend(h, history);
    timeline(h, history);
    h.append("<h2>Checks</h2>\n");
    checks(h, results);
    h.append("<h2>Availability per Region and window</h2>\n");
    availability(h, history, settings);
    h.append("<h2>Faults: time to detect and to converge</h2>\n");
    faults(h, history);
    h.append("</body>\n</html>\n");
    return h.toString();
  }

  // ------------------------------------------------------------------ timeline

  private static void legend(StringBuilder h, History history) {
    h.append("<div class=\"legend\">");
    swatch(h, "#2ca02c", "success");
    swatch(h, "#d62728", "failure");
    swatch(h, "#9a9a9a", "indeterminate");
    h.append("<span class=\"sep\"></span>");
    for (String kind : faultKinds(history)) swatch(h, faultColour(kind), "fault: " + kind, 0.35);
    h.append("<span class=\"sep\"></span>");
    swatch(h, "#b00000", "unreachable (tick)");
    swatch(h, "#006400", "reachable (tick)");
    swatch(h, "#1f4e9e", "other membership (tick)");
    h.append("<span class=\"sep\"></span>primary: ");
    List<String> regions = history.regions();
    for (int i = 0; i < regions.size(); i++) swatch(h, REGION_COLOURS[i % REGION_COLOURS.length], regions.get(i));
    swatch(h, "#e0e0e0", "none");
    swatch(h, "#000000", "several claim it", 0.8);
    h.append("</div>\n");
  }

  private static List<String> faultKinds(History history) {
    return history.faultWindows().stream().map(FaultWindow::kind).distinct().sorted().toList();
  }

  private static void swatch(StringBuilder h, String colour, String label) {
    swatch(h, colour, label, 1.0);
  }

  private static void swatch(StringBuilder h, String colour, String label, double opacity) {
    h.append("<span class=\"sw\"><i style=\"background:").append(colour).append(";opacity:")
        .append(String.format(Locale.ROOT, "%.2f", opacity)).append("\"></i>").append(esc(label)).append("</span>");
  }

  private static void timeline(StringBuilder h, History history) {
    List<String> regions = history.regions();
    List<String> keys = new ArrayList<>();
    for (String k : history.multiRegionKeys()) {
      if (!new KeyStateTimeline(history, k).changes().isEmpty()) keys.add(k);
    }
    List<JsonNode> controls = new ArrayList<>();
    for (JsonNode c : history.ofType("control")) {
      if (MARKED_CONTROLS.contains(Json.text(c, "op")) && History.t(c) >= history.workloadStartT()) controls.add(c);
    }
    long t0 = history.startT();
    long t1 = Math.max(history.endT(), t0 + 1);
    Scale x = new Scale(t0, t1, LEFT, WIDTH - RIGHT);
    int axisH = 28;
    int controlRows = controls.isEmpty() ? 0 : Math.min(4, controls.size());
    int controlH = controlRows * 14 + (controlRows > 0 ? 6 : 0);
    int lanesTop = axisH + controlH + 6;
    int keysTop = lanesTop + regions.size() * LANE + (keys.isEmpty() ? 0 : 18);
    int height = keysTop + keys.size() * (KEY_BAND + 4) + 10;

    h.append("<svg class=\"timeline\" role=\"img\" viewBox=\"0 0 ").append(WIDTH).append(' ').append(height)
        .append("\" width=\"").append(WIDTH).append("\" height=\"").append(height).append("\">\n")
        .append("<title>Timeline of ").append(esc(history.scenarioName())).append("</title>\n")
        .append("<defs><pattern id=\"several\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
            + "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#f4c7c7\"/>"
            + "<rect width=\"3\" height=\"6\" fill=\"#000\" opacity=\"0.8\"/></pattern></defs>\n");

    axis(h, history, x, axisH, height);

    // Lanes.
    long bucket = bucketMs(t1 - t0);
    Map<String, int[][]> counts = bucketCounts(history, regions, t0, t1, bucket);
    int max = 1;
    for (int[][] c : counts.values()) for (int[] b : c) max = Math.max(max, b[0] + b[1] + b[2]);
    for (int i = 0; i < regions.size(); i++) {
      String region = regions.get(i);
      int top = lanesTop + i * LANE;
      h.append("<g class=\"lane\" data-region=\"").append(esc(region)).append("\">\n");
      h.append("<rect x=\"").append(LEFT).append("\" y=\"").append(top).append("\" width=\"")
          .append(WIDTH - RIGHT - LEFT).append("\" height=\"").append(LANE - 6)
          .append("\" fill=\"").append(i % 2 == 0 ? "#fafafa" : "#f3f3f3").append("\"/>\n");
      h.append("<text class=\"lanelabel\" x=\"").append(LEFT - 8).append("\" y=\"").append(top + LANE / 2)
          .append("\" text-anchor=\"end\">").append(esc(region)).append("</text>\n");
      faultShades(h, history, region, x, top);
      bars(h, counts.get(region), t0, bucket, max, x, top, region);
      ticks(h, history, region, x, top);
      faultLabels(h, history, region, x, top);
      h.append("</g>\n");
    }
    // Primary bands.
    if (!keys.isEmpty()) {
      h.append("<text class=\"section\" x=\"").append(LEFT - 8).append("\" y=\"").append(keysTop - 5)
          .append("\" text-anchor=\"end\">primary per key</text>\n");
    }
    Map<String, String> colourOf = new HashMap<>();
    for (int i = 0; i < regions.size(); i++) colourOf.put(regions.get(i), REGION_COLOURS[i % REGION_COLOURS.length]);
    for (int i = 0; i < keys.size(); i++) {
      String key = keys.get(i);
      int top = keysTop + i * (KEY_BAND + 4);
      h.append("<g class=\"keyband\" data-key=\"").append(esc(key)).append("\">\n");
      h.append("<text class=\"keylabel\" x=\"").append(LEFT - 8).append("\" y=\"").append(top + 16)
          .append("\" text-anchor=\"end\">").append(esc(shorten(key, 28))).append("<title>").append(esc(key))
          .append("</title></text>\n");
      for (KeyStateTimeline.Segment s : new KeyStateTimeline(history, key).primarySegments(t1)) {
        double a = x.at(s.fromT());
        double w = Math.max(1, x.at(s.toT()) - a);
        String fill = s.primaries().isEmpty() ? "#e0e0e0"
            : s.primaries().size() > 1 ? "url(#several)" : colourOf.getOrDefault(s.primaries().get(0), "#555");
        String text = s.primaries().isEmpty() ? "no primary" : String.join(" + ", s.primaries());
        h.append("<rect x=\"").append(f(a)).append("\" y=\"").append(top).append("\" width=\"").append(f(w))
            .append("\" height=\"").append(KEY_BAND).append("\" fill=\"").append(fill).append("\"><title>")
            .append(esc(key + ": " + text + " from " + Format.t(s.fromT()) + " to " + Format.t(s.toT())))
            .append("</title></rect>\n");
        if (w > 7 * text.length()) {
          h.append("<text class=\"bandtext\" x=\"").append(f(a + 4)).append("\" y=\"").append(top + 16).append("\">")
              .append(esc(text)).append("</text>\n");
        }
      }
      h.append("</g>\n");
    }
    controlMarkers(h, controls, x, axisH, controlRows, height);
    h.append("</svg>\n");
    h.append("<p class=\"note\">Bars: client operations per ").append(esc(Format.duration(bucket)))
        .append(" by invocation time (tallest bar ").append(max).append(" operations). Hover over shapes for details.</p>\n");
  }

  private static void axis(StringBuilder h, History history, Scale x, int axisH, int height) {
    long span = x.t1 - x.t0;
    long step = niceStep(span / 10.0);
    h.append("<g class=\"axis\">\n");
    for (long t = (x.t0 / step) * step; t <= x.t1; t += step) {
      if (t < x.t0) continue;
      double px = x.at(t);
      h.append("<line x1=\"").append(f(px)).append("\" y1=\"").append(axisH - 6).append("\" x2=\"").append(f(px))
          .append("\" y2=\"").append(height).append("\" class=\"grid\"/>\n");
      h.append("<text x=\"").append(f(px)).append("\" y=\"").append(axisH - 10).append("\" text-anchor=\"middle\">")
          .append(esc(step >= 1000 ? (t / 1000) + "s" : t + "ms")).append("</text>\n");
    }
    for (JsonNode p : history.ofType("phase")) {
      if (!"start".equals(Json.text(p, "edge"))) continue;
      double px = x.at(History.t(p));
      h.append("<line x1=\"").append(f(px)).append("\" y1=\"0\" x2=\"").append(f(px)).append("\" y2=\"")
          .append(height).append("\" class=\"phase\"/>\n<text class=\"phaselabel\" x=\"").append(f(px + 3))
          .append("\" y=\"9\">").append(esc(Json.text(p, "name"))).append("</text>\n");
    }
    h.append("</g>\n");
  }

  private static void faultShades(StringBuilder h, History history, String region, Scale x, int top) {
    for (FaultWindow w : history.faultWindows()) {
      if (!w.involves(region)) continue;
      double a = x.at(w.openT());
      double width = Math.max(2, x.at(w.closeT()) - a);
      String colour = faultColour(w.kind());
      h.append("<rect class=\"fault\" x=\"").append(f(a)).append("\" y=\"").append(top).append("\" width=\"")
          .append(f(width)).append("\" height=\"").append(LANE - 6).append("\" fill=\"").append(colour)
          .append("\" fill-opacity=\"0.22\" stroke=\"").append(colour).append("\" stroke-opacity=\"0.6\"><title>")
          .append(esc(w.label() + ": " + Format.t(w.openT()) + " to " + Format.t(w.closeT())
              + (w.closedByEnd() ? " (never closed)" : " (" + w.closeAction() + ")") + paramsText(w)))
          .append("</title></rect>\n");
    }
  }

  /** Drawn after the bars so that they stay legible. */
  private static void faultLabels(StringBuilder h, History history, String region, Scale x, int top) {
    for (FaultWindow w : history.faultWindows()) {
      if (!w.involves(region)) continue;
      h.append("<text class=\"faultlabel\" x=\"").append(f(x.at(w.openT()) + 3)).append("\" y=\"").append(top + 11)
          .append("\" fill=\"").append(faultColour(w.kind())).append("\">").append(esc(w.label())).append("</text>\n");
    }
  }

  private static String paramsText(FaultWindow w) {
    return w.params() == null ? "" : " " + w.params();
  }

  private static void bars(StringBuilder h, int[][] counts, long t0, long bucket, int max, Scale x, int top,
      String region) {
    if (counts == null) return;
    int base = top + LANE_PLOT + 14;
    for (int b = 0; b < counts.length; b++) {
      int[] c = counts[b];
      if (c[0] + c[1] + c[2] == 0) continue;
      long from = t0 + b * bucket;
      double a = x.at(from);
      double w = Math.max(1, x.at(from + bucket) - a - 0.5);
      double y = base;
      String[] colours = {"#2ca02c", "#d62728", "#9a9a9a"};
      StringBuilder tip = new StringBuilder();
      tip.append(region).append(' ').append(Format.t(from)).append(": ").append(c[0]).append(" ok, ")
          .append(c[1]).append(" failed, ").append(c[2]).append(" indeterminate");
      for (int k = 0; k < 3; k++) {
        if (c[k] == 0) continue;
        double hh = (double) c[k] * LANE_PLOT / max;
        y -= hh;
        h.append("<rect x=\"").append(f(a)).append("\" y=\"").append(f(y)).append("\" width=\"").append(f(w))
            .append("\" height=\"").append(f(hh)).append("\" fill=\"").append(colours[k]).append("\"><title>")
            .append(esc(tip.toString())).append("</title></rect>");
      }
      h.append('\n');
    }
  }

  private static void ticks(StringBuilder h, History history, String region, Scale x, int top) {
    int y = top + LANE - 6;
    for (JsonNode m : history.ofType("membership")) {
      if (!region.equals(Json.text(m, "observer"))) continue;
      String event = String.valueOf(Json.text(m, "event"));
      String colour = event.startsWith("Unreachable") ? "#b00000"
          : event.startsWith("Reachable") ? "#006400" : "#1f4e9e";
      double px = x.at(History.t(m));
      h.append("<line class=\"tick\" x1=\"").append(f(px)).append("\" y1=\"").append(y - 9).append("\" x2=\"")
          .append(f(px)).append("\" y2=\"").append(y).append("\" stroke=\"").append(colour)
          .append("\" stroke-width=\"2\"><title>").append(esc(Format.t(History.t(m)) + " " + region + " saw "
              + event + " " + Json.text(m, "member"))).append("</title></line>\n");
    }
  }

  private static void controlMarkers(StringBuilder h, List<JsonNode> controls, Scale x, int axisH, int rows,
      int height) {
    for (int i = 0; i < controls.size(); i++) {
      JsonNode c = controls.get(i);
      double px = x.at(History.t(c));
      int y = axisH + 12 + (i % Math.max(1, rows)) * 14;
      String op = Json.text(c, "op");
      String target = "ReplicateKey".equals(op) ? Json.nestedText(c, "args", "replicaRegion")
          : "UpdatePrimaryRegion".equals(op) ? Json.nestedText(c, "args", "primaryRegion") : null;
      String outcome = String.valueOf(Json.text(c, "outcome"));
      String label = op + " " + Json.text(c, "region") + (target == null ? "" : " -> " + target)
          + ("ok".equals(outcome) ? "" : " (" + outcome + ")");
      String colour = "ok".equals(outcome) ? "#333" : "#b00000";
      h.append("<g class=\"control\"><title>")
          .append(esc(Format.t(History.t(c)) + " " + label + " key " + Json.text(c, "key") + " op "
              + Json.text(c, "id") + (Json.text(c, "error") == null ? "" : " error " + Json.text(c, "error"))))
          .append("</title><line x1=\"").append(f(px)).append("\" y1=\"").append(y + 2)
          .append("\" x2=\"").append(f(px)).append("\" y2=\"").append(height).append("\" stroke=\"").append(colour)
          .append("\" stroke-dasharray=\"3,3\"/><text x=\"").append(f(px + 3)).append("\" y=\"").append(y)
          .append("\" fill=\"").append(colour).append("\">").append(esc(label)).append("</text></g>\n");
    }
  }

  /** Per Region, per bucket: {ok, failed, indeterminate}. */
  private static Map<String, int[][]> bucketCounts(History history, List<String> regions, long t0, long t1,
      long bucket) {
    int n = (int) ((t1 - t0) / bucket) + 1;
    Map<String, int[][]> out = new LinkedHashMap<>();
    for (String r : regions) out.put(r, new int[n][3]);
    for (Operation o : history.operations()) {
      int[][] c = out.get(o.region());
      if (c == null) continue;
      int b = (int) Math.max(0, Math.min(n - 1, (o.invokeT() - t0) / bucket));
      c[b][o.ok() ? 0 : o.failed() ? 1 : 2]++;
    }
    return out;
  }

  static long bucketMs(long span) {
    for (long b : new long[] {100, 250, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 300_000}) {
      if (span / b <= 300) return b;
    }
    return Math.max(1, span / 300);
  }

  private static long niceStep(double raw) {
    long[] steps = {100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000};
    for (long s : steps) if (s >= raw) return s;
    return (long) Math.ceil(raw / 600_000) * 600_000;
  }

  private static String faultColour(String kind) {
    return FAULT_COLOURS.getOrDefault(kind, "#7f7f7f");
  }

  // ------------------------------------------------------------------ tables

  private static void checks(StringBuilder h, List<CheckResult> results) {
    h.append("<table class=\"checks\"><tr><th>verdict</th><th>check</th><th>summary</th></tr>\n");
    for (CheckResult r : results) {
      h.append("<tr><td><span class=\"badge small ").append(r.ok() ? "pass" : "fail").append("\">")
          .append(r.verdict()).append("</span></td><td>").append(esc(r.name())).append("</td><td>")
          .append(esc(r.summary())).append("</td></tr>\n");
    }
    h.append("</table>\n");
    for (CheckResult r : results) {
      if (r.violations().isEmpty() && r.notes().isEmpty()) continue;
      h.append("<h3>").append(esc(r.name())).append(" <span class=\"badge small ").append(r.ok() ? "pass" : "fail")
          .append("\">").append(r.verdict()).append("</span></h3>\n");
      if (!r.violations().isEmpty()) {
        h.append("<table class=\"violations\"><tr><th>#</th><th>violation</th><th>keys</th><th>Regions</th>"
            + "<th>t</th><th>operation ids</th></tr>\n");
        for (int i = 0; i < r.violations().size() && i < LISTED; i++) {
          Violation v = r.violations().get(i);
          h.append("<tr><td>").append(i + 1).append("</td><td>").append(esc(v.message())).append("</td><td>")
              .append(esc(String.join(", ", v.keys()))).append("</td><td>")
              .append(esc(String.join(", ", v.regions()))).append("</td><td>")
              .append(esc(v.times().stream().map(Format::t).collect(Collectors.joining(", ")))).append("</td><td>")
              .append(esc(v.opIds().stream().map(String::valueOf).collect(Collectors.joining(", "))))
              .append("</td></tr>\n");
        }
        h.append("</table>\n");
        if (r.violations().size() > LISTED) {
          h.append("<p class=\"note\">… and ").append(r.violations().size() - LISTED).append(" more.</p>\n");
        }
      }
      if (!r.notes().isEmpty()) {
        h.append("<details><summary>").append(r.notes().size()).append(" note(s)</summary><ul>");
        for (int i = 0; i < r.notes().size() && i < LISTED; i++) {
          h.append("<li>").append(esc(r.notes().get(i))).append("</li>");
        }
        h.append("</ul></details>\n");
      }
    }
  }

  private static void availability(StringBuilder h, History history, CheckSettings settings) {
    List<WindowStats> rows = Availability.compute(history, settings);
    h.append("<p class=\"note\">Success is over the judged operations: those sent while the Region itself was "
        + "neither crashed nor paused, outside the ").append(esc(Format.duration(settings.graceMs())))
        .append(" grace after its restart or resume, less refusals its key's state explains. Threshold ")
        .append(esc(Format.percent(settings.availabilityThreshold()))).append(".</p>\n");
    h.append("<table class=\"avail\"><tr><th>Region</th><th>window</th><th>from</th><th>to</th><th>expect</th>"
        + "<th>ops</th><th>success</th><th>p50 ms</th><th>p99 ms</th><th>errors</th></tr>\n");
    for (WindowStats s : rows) {
      String cls = s.ownOutage() ? "down" : Availability.belowThreshold(s, settings) ? "bad" : "";
      h.append("<tr class=\"").append(cls).append("\"><td>").append(esc(s.region())).append("</td><td>")
          .append(esc(s.label())).append("</td><td class=\"num\">").append(esc(Format.t(s.fromT())))
          .append("</td><td class=\"num\">").append(esc(Format.t(s.toT()))).append("</td><td>")
          .append(esc(s.expectation())).append("</td><td class=\"num\">").append(s.ops())
          .append("</td><td class=\"num\">").append(esc(Format.success(s))).append("</td><td class=\"num\">")
          .append(esc(Format.ms(s.p50Ms()))).append("</td><td class=\"num\">").append(esc(Format.ms(s.p99Ms())))
          .append("</td><td>").append(esc(Format.errors(s.errors(), 6))).append("</td></tr>\n");
    }
    h.append("</table>\n");
  }

  private static void faults(StringBuilder h, History history) {
    List<FaultTiming> timings = FaultTiming.compute(history);
    if (timings.isEmpty()) {
      h.append("<p>No faults.</p>\n");
      return;
    }
    h.append("<table class=\"faults\"><tr><th>window</th><th>fault</th><th>open</th><th>close</th>"
        + "<th>detected after</th><th>converged after</th></tr>\n");
    for (FaultTiming ft : timings) {
      FaultWindow w = ft.window();
      h.append("<tr><td>").append(esc(w.id())).append("</td><td>").append(esc(w.label())).append("</td><td class=\"num\">")
          .append(esc(Format.t(w.openT()))).append("</td><td class=\"num\">")
          .append(esc((w.closedByEnd() ? "(open) " : "") + Format.t(w.closeT()))).append("</td><td>")
          .append(esc(ft.detectMs() == null ? "not detected"
              : Format.duration(ft.detectMs()) + " (" + ft.detectedBy() + ")"))
          .append("</td><td>").append(esc(ft.convergeMs() != null ? Format.duration(ft.convergeMs()) : ft.convergeNote()))
          .append("</td></tr>\n");
    }
    h.append("</table>\n");
  }

  // ------------------------------------------------------------------ helpers

  private static String startedAt(History history) {
    List<JsonNode> s = history.ofType("scenario");
    Long at = s.isEmpty() ? null : Json.longOrNull(s.get(0), "startedAt");
    return at == null ? "" : " &middot; started " + esc(java.time.Instant.ofEpochMilli(at).toString());
  }

  private static String shorten(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 1) + "…";
  }

  private static String f(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  /** Escapes text for HTML element content and quoted attribute values. */
  static String esc(String s) {
    if (s == null) return "";
    StringBuilder b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> {
          // Control characters other than tab and newline are not allowed in HTML text.
          if (c < 0x20 && c != '\t' && c != '\n') b.append('?');
          else b.append(c);
        }
      }
    }
    return b.toString();
  }

  /** Maps {@code t} to x pixels. */
  private record Scale(long t0, long t1, int x0, int x1) {
    double at(long t) {
      long c = Math.max(t0, Math.min(t1, t));
      return x0 + (double) (c - t0) * (x1 - x0) / (t1 - t0);
    }
  }

  private static final String CSS = String.join("\n",
      "body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1240px}",
      "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}",
      "h3{font-size:15px;margin:18px 0 6px}",
      ".meta,.note{color:#555;font-size:13px}",
      ".badge{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-size:16px;vertical-align:middle}",
      ".badge.small{font-size:12px;padding:1px 6px}.pass{background:#2e7d32}.fail{background:#c62828}",
      ".legend{font-size:12px;margin:4px 0 8px}.sw{margin-right:12px;white-space:nowrap}",
      ".sw i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px;border:1px solid #0002}",
      ".sep{display:inline-block;width:14px}",
      "svg.timeline{font-size:11px;background:#fff;border:1px solid #ddd}",
      "svg .grid{stroke:#e4e4e4}svg .phase{stroke:#888;stroke-dasharray:6,3}svg .phaselabel{fill:#666}",
      "svg .lanelabel{font-size:13px;font-weight:600;dominant-baseline:middle}",
      "svg .keylabel{font-size:11px}svg .section{font-size:11px;fill:#666}svg .faultlabel{font-weight:600;paint-order:stroke;stroke:#fff;stroke-width:3px}",
      "svg .bandtext{fill:#fff;font-size:11px}",
      "table{border-collapse:collapse;font-size:13px;margin:6px 0}",
      "th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}th{background:#f3f3f3}",
      "td.num{text-align:right;font-variant-numeric:tabular-nums}",
      "tr.bad td{background:#fde2e2}tr.down td{color:#777;background:#f6f6f6}",
      ".problems{background:#fff4e5;border:1px solid #f0c36d;padding:6px 10px;font-size:13px}");
}
