package io.kmsregions.lab.check;

import com.fasterxml.jackson.databind.JsonNode;
import io.kmsregions.lab.history.History;
import io.kmsregions.lab.history.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * At most one primary per epoch (DESIGN.md invariant 5), and exactly one after the settle time.
 *
 * <p>From every {@code keyState} and {@code final} record: for each key and epoch, the Regions that
 * claimed {@code multiRegionKeyType == PRIMARY} at that epoch. Two Regions at the same epoch is the
 * violation. Two at different epochs is not: a partitioned old primary keeps showing its old epoch
 * until it hears of the newer one.
 *
 * <p>After the settle time, among the Regions whose final record says the key exists: exactly one
 * is PRIMARY and every one names it as {@code primaryRegion}.
 */
public final class SinglePrimaryCheck implements Checker {
  public static final String NAME = "single-primary";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public CheckResult check(History history, CheckSettings settings) {
    List<Violation> violations = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    // key -> epoch -> region -> first claim
    Map<String, Map<Long, Map<String, JsonNode>>> claims = new TreeMap<>();
    int withoutEpoch = 0;
    for (JsonNode n : history.records()) {
      String type = Json.text(n, "type");
      if (!"keyState".equals(type) && !"final".equals(type)) continue;
      if ("final".equals(type) && !Json.bool(n, "exists")) continue;
      if (!"PRIMARY".equals(Json.text(n, "multiRegionKeyType"))) continue;
      String key = Json.text(n, "key");
      String region = Json.text(n, "region");
      Long epoch = Json.longOrNull(n, "epoch");
      if (key == null || region == null) continue;
      if (epoch == null) {
        withoutEpoch++;
        continue;
      }
      claims.computeIfAbsent(key, k -> new TreeMap<>())
          .computeIfAbsent(epoch, e -> new LinkedHashMap<>())
          .putIfAbsent(region, n);
    }
    if (withoutEpoch > 0) notes.add(withoutEpoch + " PRIMARY record(s) without an epoch were not judged");
    for (Map.Entry<String, Map<Long, Map<String, JsonNode>>> k : claims.entrySet()) {
      for (Map.Entry<Long, Map<String, JsonNode>> e : k.getValue().entrySet()) {
        Map<String, JsonNode> byRegion = e.getValue();
        if (byRegion.size() <= 1) continue;
        Violation.Builder b = Violation.of(byRegion.size() + " Regions claim PRIMARY at epoch " + e.getKey()
            + ": " + String.join(", ", byRegion.keySet())).key(k.getKey()).regions(byRegion.keySet());
        for (JsonNode n : byRegion.values()) b.time(History.t(n));
        violations.add(b.build());
      }
      if (k.getValue().size() > 1) {
        notes.add(k.getKey() + ": primaries over epochs " + describe(k.getValue()));
      }
    }

    Finals finals = new Finals(history);
    int keys = 0;
    for (String key : history.multiRegionKeys()) {
      Map<String, JsonNode> existing = new TreeMap<>();
      for (Map.Entry<String, JsonNode> e : finals.of(key).entrySet()) {
        if (Finals.exists(e.getValue())) existing.put(e.getKey(), e.getValue());
      }
      if (existing.isEmpty()) continue;
      keys++;
      List<String> primaries = new ArrayList<>();
      Set<String> named = new TreeSet<>();
      for (Map.Entry<String, JsonNode> e : existing.entrySet()) {
        if ("PRIMARY".equals(Json.text(e.getValue(), "multiRegionKeyType"))) primaries.add(e.getKey());
        named.add(String.valueOf(Json.text(e.getValue(), "primaryRegion")));
      }
      if (primaries.size() != 1) {
        violations.add(Violation.of("after the settle time " + primaries.size() + " Regions are PRIMARY"
                + (primaries.isEmpty() ? "" : ": " + String.join(", ", primaries)))
            .key(key).regions(primaries.isEmpty() ? existing.keySet() : primaries).build());
      } else if (named.size() != 1 || !named.contains(primaries.get(0))) {
        violations.add(Violation.of("after the settle time " + primaries.get(0)
                + " is PRIMARY but the Regions name primaryRegion " + named)
            .key(key).regions(existing.keySet()).build());
      }
    }
    boolean ok = violations.isEmpty();
    String summary = ok
        ? "one primary per epoch; exactly one primary after settle for " + keys + " key(s)"
        : violations.size() + " primary violation(s)";
    return new CheckResult(NAME, ok, summary, violations, notes);
  }

  private static String describe(Map<Long, Map<String, JsonNode>> byEpoch) {
    StringBuilder b = new StringBuilder();
    for (Map.Entry<Long, Map<String, JsonNode>> e : byEpoch.entrySet()) {
      if (b.length() > 0) b.append(", ");
      b.append(e.getKey()).append('=').append(String.join("+", e.getValue().keySet()));
    }
    return b.toString();
  }
}
