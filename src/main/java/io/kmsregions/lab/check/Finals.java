package io.kmsregions.lab.check;

import com.fasterxml.jackson.databind.JsonNode;
import io.kmsregions.lab.history.FaultWindow;
import io.kmsregions.lab.history.History;
import io.kmsregions.lab.history.Json;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/** The {@code final} records, indexed, and which Regions could be inspected at all. */
final class Finals {
  private final History history;
  /** key -> region -> final record (the last one wins). */
  private final Map<String, Map<String, JsonNode>> byKey = new TreeMap<>();
  private final Set<String> inspected;
  private final Set<String> downAtEnd = new TreeSet<>();

  Finals(History history) {
    this.history = history;
    for (JsonNode f : history.finals()) {
      String key = Json.text(f, "key");
      String region = Json.text(f, "region");
      if (key == null || region == null) continue;
      byKey.computeIfAbsent(key, k -> new LinkedHashMap<>()).put(region, f);
    }
    this.inspected = history.regionsWithFinals();
    for (FaultWindow w : history.faultWindows()) {
      if (w.closedByEnd()) {
        for (String r : w.regions()) if (w.isOutageOf(r)) downAtEnd.add(r);
      }
    }
  }

  Map<String, JsonNode> of(String key) {
    return byKey.getOrDefault(key, Map.of());
  }

  JsonNode of(String key, String region) {
    return of(key).get(region);
  }

  /** Whether the laboratory inspected {@code region} at all (it produced some final record). */
  boolean inspected(String region) {
    return inspected.contains(region);
  }

  /**
   * Whether a missing final record of {@code region} is excused: the Region produced no final record
   * at all and was left crashed or paused by a window never closed, so nobody could ask it.
   */
  boolean excusedAbsence(String region) {
    return !inspected(region) && downAtEnd.contains(region);
  }

  static boolean exists(JsonNode f) {
    return f != null && Json.bool(f, "exists");
  }

  History history() {
    return history;
  }
}
