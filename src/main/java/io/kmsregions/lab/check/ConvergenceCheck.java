package io.kmsregions.lab.check;

import com.fasterxml.jackson.databind.JsonNode;
import io.kmsregions.lab.history.History;
import io.kmsregions.lab.history.Json;
import io.kmsregions.lab.history.KeyStateTimeline;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Convergence (issue 5): after the settle time every member of every multi-Region key set has the
 * same {@code sharedDigest}, names the same primary, lists the same members, and is not in a
 * transitional state ({@code Creating}, {@code Updating}). A Region the member list names must hold
 * the key.
 */
public final class ConvergenceCheck implements Checker {
  public static final String NAME = "convergence";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public CheckResult check(History history, CheckSettings settings) {
    Finals finals = new Finals(history);
    List<Violation> violations = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    int keysChecked = 0;
    for (String key : history.multiRegionKeys()) {
      Map<String, JsonNode> views = new TreeMap<>();
      for (Map.Entry<String, JsonNode> e : finals.of(key).entrySet()) {
        if (Finals.exists(e.getValue())) views.put(e.getKey(), e.getValue());
      }
      if (views.isEmpty()) continue; // never created, or gone everywhere: durability's business
      keysChecked++;
      compare(key, views, "sharedDigest", violations);
      compare(key, views, "primaryRegion", violations);
      compareMembers(key, views, violations);
      for (Map.Entry<String, JsonNode> e : views.entrySet()) {
        String state = Json.text(e.getValue(), "state");
        if (state != null && KeyStateTimeline.TRANSITIONAL.contains(state)) {
          violations.add(Violation.of("still " + state + " after the settle time")
              .key(key).region(e.getKey()).time(History.t(e.getValue())).build());
        }
      }
      // Every Region the views list as a member must hold the key.
      Set<String> named = new TreeSet<>();
      for (JsonNode v : views.values()) named.addAll(Json.strings(v, "members"));
      for (String member : named) {
        if (views.containsKey(member)) continue;
        if (finals.excusedAbsence(member)) {
          notes.add(key + ": member " + member + " not inspected (left down at the end)");
          continue;
        }
        JsonNode f = finals.of(key, member);
        violations.add(Violation.of(f == null
                ? "member " + member + " is listed but has no final record of the key"
                : "member " + member + " is listed but the key does not exist there")
            .key(key).region(member).regions(views.keySet()).build());
      }
    }
    boolean ok = violations.isEmpty();
    String summary = ok
        ? keysChecked + " multi-Region key(s) converged"
        : violations.size() + " divergence(s) over " + keysChecked + " multi-Region key(s)";
    return new CheckResult(NAME, ok, summary, violations, notes);
  }

  private static void compare(String key, Map<String, JsonNode> views, String field, List<Violation> out) {
    Map<String, List<String>> regionsByValue = new TreeMap<>();
    for (Map.Entry<String, JsonNode> e : views.entrySet()) {
      String v = Objects.toString(Json.text(e.getValue(), field), "(none)");
      regionsByValue.computeIfAbsent(v, k -> new ArrayList<>()).add(e.getKey());
    }
    if (regionsByValue.size() <= 1) return;
    StringBuilder msg = new StringBuilder(field + " differs:");
    Set<String> regions = new LinkedHashSet<>();
    for (Map.Entry<String, List<String>> e : regionsByValue.entrySet()) {
      msg.append(' ').append(String.join(",", e.getValue())).append('=').append(e.getKey()).append(';');
      regions.addAll(e.getValue());
    }
    msg.setLength(msg.length() - 1);
    out.add(Violation.of(msg.toString()).key(key).regions(regions).build());
  }

  private static void compareMembers(String key, Map<String, JsonNode> views, List<Violation> out) {
    // Compared as sets: the order of the replicas after the primary is the order they were added in,
    // which the Regions need not agree on.
    Map<Set<String>, List<String>> regionsBySet = new TreeMap<>((a, b) -> a.toString().compareTo(b.toString()));
    for (Map.Entry<String, JsonNode> e : views.entrySet()) {
      regionsBySet.computeIfAbsent(new TreeSet<>(Json.strings(e.getValue(), "members")), k -> new ArrayList<>())
          .add(e.getKey());
    }
    if (regionsBySet.size() <= 1) return;
    StringBuilder msg = new StringBuilder("member lists differ:");
    Set<String> regions = new LinkedHashSet<>();
    for (Map.Entry<Set<String>, List<String>> e : regionsBySet.entrySet()) {
      msg.append(' ').append(String.join(",", e.getValue())).append('=').append(e.getKey()).append(';');
      regions.addAll(e.getValue());
    }
    msg.setLength(msg.length() - 1);
    out.add(Violation.of(msg.toString()).key(key).regions(regions).build());
  }
}
