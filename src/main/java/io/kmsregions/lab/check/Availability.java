package io.kmsregions.lab.check;

import com.fasterxml.jackson.databind.JsonNode;
import io.kmsregions.lab.history.FaultWindow;
import io.kmsregions.lab.history.History;
import io.kmsregions.lab.history.Json;
import io.kmsregions.lab.history.KeyStateTimeline;
import io.kmsregions.lab.history.Operation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * Per Region and fault window: success rates, latency percentiles and error counts of the client
 * operations, and which of them the failure model of DESIGN.md judges. Shared by the availability
 * check, the summary table and the report.
 *
 * <p>An operation belongs to the window in which it was invoked. It is outside judgement when its
 * flight ({@code [invoke, complete]}) overlaps a crash or pause of its own Region, or when it was
 * invoked within the grace period after its Region's restart or resume: a Region that is itself
 * down is expected to fail, and one that just came back must first recover.
 */
public final class Availability {
  /** Key states in which AWS serves cryptographic operations. */
  private static final Set<String> SERVING = Set.of("Enabled", "Updating");

  private Availability() {}

  /** The rows: for each Region, the fault-free time and then every window with operations or length. */
  public static List<WindowStats> compute(History history, CheckSettings settings) {
    Map<String, List<Operation>> byRegion = new LinkedHashMap<>();
    for (String r : history.regions()) byRegion.put(r, new ArrayList<>());
    for (Operation o : history.operations()) {
      if (o.region() != null) byRegion.computeIfAbsent(o.region(), r -> new ArrayList<>()).add(o);
    }
    Map<String, KeyStateTimeline> timelines = new HashMap<>();
    List<WindowStats> out = new ArrayList<>();
    for (Map.Entry<String, List<Operation>> e : byRegion.entrySet()) {
      String region = e.getKey();
      List<Operation> ops = e.getValue();
      List<FaultWindow> windows = history.faultWindows();
      List<Operation> free = new ArrayList<>();
      for (Operation o : ops) {
        boolean inAny = false;
        for (FaultWindow w : windows) inAny |= w.covers(o.invokeT());
        if (!inAny) free.add(o);
      }
      if (!ops.isEmpty() || history.regions().contains(region)) {
        out.add(stats(history, settings, region, WindowStats.FAULT_FREE, "outside faults",
            history.workloadStartT(), history.workloadEndT(), false, free, timelines));
      }
      for (FaultWindow w : windows) {
        List<Operation> in = new ArrayList<>();
        for (Operation o : ops) if (w.covers(o.invokeT())) in.add(o);
        if (in.isEmpty() && w.durationMs() == 0) continue;
        out.add(stats(history, settings, region, w.id(), w.label(), w.openT(), w.closeT(),
            w.isOutageOf(region), in, timelines));
      }
    }
    return out;
  }

  /** Whether the judged success rate of a row is below the threshold (with enough operations). */
  public static boolean belowThreshold(WindowStats s, CheckSettings settings) {
    return !s.ownOutage() && s.judged() > 0 && s.judged() >= settings.minOps()
        && s.judgedRate() < settings.availabilityThreshold();
  }

  private static WindowStats stats(History history, CheckSettings settings, String region, String id,
      String label, long fromT, long toT, boolean ownOutage, List<Operation> ops,
      Map<String, KeyStateTimeline> timelines) {
    Histogram h = new Histogram(3_600_000_000L, 3);
    int ok = 0, failed = 0, info = 0, judged = 0, judgedOk = 0, excused = 0;
    Map<String, Integer> errors = new HashMap<>();
    List<Long> firstFailures = new ArrayList<>();
    List<String> failureKeys = new ArrayList<>();
    for (Operation o : ops) {
      if (o.ok()) {
        ok++;
        if (!Double.isNaN(o.latencyMs())) {
          h.recordValue(Math.max(1, Math.min(3_600_000_000L, Math.round(o.latencyMs() * 1000))));
        }
      } else {
        if (o.failed()) failed++;
        else info++;
        String err = o.error() != null ? o.error() : (o.failed() ? "fail" : "indeterminate");
        errors.merge(err, 1, Integer::sum);
      }
      if (ownOutage || outsideJudgement(history, settings, region, o)) continue;
      if (!o.ok() && explainedByState(history, region, o, timelines)) {
        excused++;
        continue;
      }
      judged++;
      if (o.ok()) {
        judgedOk++;
      } else {
        if (firstFailures.size() < 5) firstFailures.add(o.id());
        if (failureKeys.size() < 5 && o.key() != null && !failureKeys.contains(o.key())) failureKeys.add(o.key());
      }
    }
    Map<String, Integer> sorted = new LinkedHashMap<>();
    errors.entrySet().stream()
        .sorted(Map.Entry.<String, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
        .forEach(x -> sorted.put(x.getKey(), x.getValue()));
    double p50 = h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(50) / 1000.0;
    double p99 = h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(99) / 1000.0;
    return new WindowStats(region, id, label, fromT, toT, ownOutage, ops.size(), ok, failed, info,
        judged, judgedOk, excused, p50, p99, sorted, firstFailures, failureKeys);
  }

  /** In flight during its own Region's outage, or invoked in the grace after its restart/resume. */
  private static boolean outsideJudgement(History history, CheckSettings settings, String region, Operation o) {
    long from = o.invokeT();
    long to = o.completeT() >= 0 ? o.completeT()
        : Double.isNaN(o.latencyMs()) ? from : from + Math.round(o.latencyMs());
    for (FaultWindow w : history.faultWindows()) {
      if (!w.isOutageOf(region)) continue;
      if (from < w.closeT() && to >= w.openT()) return true;
      if (!w.closedByEnd() && from >= w.closeT() && from < w.closeT() + settings.graceMs()) return true;
    }
    return false;
  }

  /**
   * A refusal that the key's state in the Region explains, as AWS would refuse it: an invalid-state
   * error while the key is neither Enabled nor Updating there, or not-found before the key's first
   * state change there (it did not exist yet).
   */
  private static boolean explainedByState(History history, String region, Operation o,
      Map<String, KeyStateTimeline> timelines) {
    String error = o.error();
    if (error == null || o.key() == null) return false;
    boolean invalidState = error.contains("KMSInvalidStateException");
    boolean notFound = error.contains("NotFoundException");
    if (!invalidState && !notFound) return false;
    KeyStateTimeline tl = timelines.computeIfAbsent(o.key(), k -> new KeyStateTimeline(history, k));
    JsonNode at = tl.stateAt(o.invokeT()).get(region);
    if (invalidState) {
      String state = Json.text(at, "state");
      return at != null && state != null && !SERVING.contains(state);
    }
    if (at != null) return false;
    for (JsonNode n : tl.changes()) {
      if (region.equals(Json.text(n, "region")) && History.t(n) > o.invokeT()) return true;
    }
    return false;
  }

  /** Operations per error type over all rows of a Region, most frequent first (for display). */
  public static Map<String, Integer> errorsOf(List<WindowStats> rows) {
    Map<String, Integer> m = new TreeMap<>();
    for (WindowStats s : rows) s.errors().forEach((k, v) -> m.merge(k, v, Integer::sum));
    return m;
  }
}
