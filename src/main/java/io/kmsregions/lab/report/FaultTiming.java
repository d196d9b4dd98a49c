package io.kmsregions.lab.report;

import com.fasterxml.jackson.databind.JsonNode;
import io.kmsregions.lab.history.FaultWindow;
import io.kmsregions.lab.history.History;
import io.kmsregions.lab.history.Json;
import io.kmsregions.lab.history.KeyStateTimeline;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * How fast the cluster noticed a fault and settled after it.
 *
 * @param window the fault window
 * @param detectMs from the window's opening to the first {@code UnreachableMember} or
 *     {@code UnreachableDataCenter} about a Region it acts on, seen by another Region; null when none
 *     was seen before it closed
 * @param detectedBy {@code observer saw member} for that event, or null
 * @param convergeMs from the window's closing to the {@code keyState} change after which every
 *     multi-Region key's views agree (and keep agreeing until the next fault opens or the history
 *     ends); 0 when they already agreed; null when they did not converge or the window never closed
 * @param convergeNote why there is no {@code convergeMs} (or what it covers)
 */
public record FaultTiming(
    FaultWindow window, Long detectMs, String detectedBy, Long convergeMs, String convergeNote) {

  private static final Set<String> UNREACHABLE = Set.of("UnreachableMember", "UnreachableDataCenter");

  /** The timing of every window of the history, in opening order. */
  public static List<FaultTiming> compute(History history) {
    List<FaultTiming> out = new ArrayList<>();
    for (FaultWindow w : history.faultWindows()) {
      Long detect = null;
      String by = null;
      for (JsonNode m : history.ofType("membership")) {
        long t = History.t(m);
        if (t < w.openT()) continue;
        if (t > w.closeT()) break;
        String observer = Json.text(m, "observer");
        String member = Json.text(m, "member");
        if (UNREACHABLE.contains(Json.text(m, "event")) && member != null && w.regions().contains(member)
            && observer != null && !observer.equals(member)) {
          detect = t - w.openT();
          by = observer + " saw " + member;
          break;
        }
      }
      Long converge = null;
      String note;
      if (w.closedByEnd()) {
        note = "never closed";
      } else {
        long bound = history.endT();
        for (FaultWindow next : history.faultWindows()) {
          if (next.openT() > w.closeT()) {
            bound = Math.min(bound, next.openT());
          }
        }
        Long since = convergedSince(history, w.closeT(), bound);
        if (since == null) {
          note = bound < history.endT() ? "not converged before the next fault" : "not converged";
        } else {
          converge = since - w.closeT();
          note = null;
        }
      }
      out.add(new FaultTiming(w, detect, by, converge, note));
    }
    return out;
  }

  /**
   * The earliest time in {@code [from, bound]} from which every multi-Region key's views agree until
   * {@code bound}, or null. Keys without any {@code keyState} record are not considered.
   */
  static Long convergedSince(History history, long from, long bound) {
    Set<String> keys = Set.copyOf(history.multiRegionKeys());
    Map<String, Map<String, JsonNode>> latest = new TreeMap<>();
    TreeMap<Long, List<JsonNode>> later = new TreeMap<>();
    for (JsonNode n : history.ofType("keyState")) {
      String key = Json.text(n, "key");
      String region = Json.text(n, "region");
      if (key == null || region == null || !keys.contains(key)) continue;
      long t = History.t(n);
      if (t <= from) {
        put(latest.computeIfAbsent(key, k -> new LinkedHashMap<>()), region, n);
      } else if (t <= bound) {
        later.computeIfAbsent(t, x -> new ArrayList<>()).add(n);
      }
      latest.computeIfAbsent(key, k -> new LinkedHashMap<>());
    }
    Long since = agree(latest) ? from : null;
    for (Map.Entry<Long, List<JsonNode>> e : later.entrySet()) {
      for (JsonNode n : e.getValue()) put(latest.get(Json.text(n, "key")), Json.text(n, "region"), n);
      if (agree(latest)) {
        if (since == null) since = e.getKey();
      } else {
        since = null;
      }
    }
    return since;
  }

  /** A Region whose member was deleted (its deletion window ended) holds no view of the key any more. */
  private static void put(Map<String, JsonNode> views, String region, JsonNode n) {
    if ("Deleted".equals(Json.text(n, "state"))) views.remove(region);
    else views.put(region, n);
  }

  private static boolean agree(Map<String, Map<String, JsonNode>> latest) {
    for (Map<String, JsonNode> views : latest.values()) {
      if (views.isEmpty()) continue;
      if (KeyStateTimeline.disagreement(views) != null) return false;
    }
    return true;
  }
}
