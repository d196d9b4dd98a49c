package io.kmsregions.lab.history;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Replays the {@code keyState} records of one key: which state each Region held at each moment.
 * Used for the primary band of the timeline and for the time to converge after a fault.
 */
public final class KeyStateTimeline {
  /** Key states in which a key set is still in motion (DESIGN.md: ReplicateKey, handover). */
  public static final Set<String> TRANSITIONAL = Set.of("Creating", "Updating");

  private final String key;
  private final List<JsonNode> changes;
  private final History history;

  /** The timeline of {@code key} in {@code history}. */
  public KeyStateTimeline(History history, String key) {
    this.key = key;
    this.history = history;
    List<JsonNode> l = new ArrayList<>();
    for (JsonNode n : history.ofType("keyState")) {
      if (key.equals(Json.text(n, "key")) && Json.text(n, "region") != null) l.add(n);
    }
    this.changes = List.copyOf(l);
  }

  /** The key. */
  public String key() {
    return key;
  }

  /** The key's {@code keyState} records, by time. */
  public List<JsonNode> changes() {
    return changes;
  }

  /** The latest record per Region at or before {@code t} (Regions in first-seen order). */
  public Map<String, JsonNode> stateAt(long t) {
    Map<String, JsonNode> latest = new LinkedHashMap<>();
    for (JsonNode n : changes) {
      if (History.t(n) > t) break;
      latest.put(Json.text(n, "region"), n);
    }
    return latest;
  }

  /** The Regions whose latest record at {@code t} says {@code multiRegionKeyType == PRIMARY}. */
  public static List<String> primaries(Map<String, JsonNode> state) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : state.entrySet()) {
      if ("PRIMARY".equals(Json.text(e.getValue(), "multiRegionKeyType"))) out.add(e.getKey());
    }
    return out;
  }

  /**
   * Whether the Regions' views agree: one primary that every view names, the same member set, the
   * same shared-properties version and epoch, no transitional state, and every member holding a
   * view. Returns null when they agree, otherwise why not.
   */
  public static String disagreement(Map<String, JsonNode> state) {
    if (state.isEmpty()) return "no state";
    List<String> primaries = primaries(state);
    if (primaries.size() != 1) return primaries.size() + " Regions claim PRIMARY " + primaries;
    String primary = primaries.get(0);
    Set<String> memberSet = null;
    Long version = null;
    Long epoch = null;
    for (Map.Entry<String, JsonNode> e : state.entrySet()) {
      JsonNode n = e.getValue();
      String st = Json.text(n, "state");
      if (st != null && TRANSITIONAL.contains(st)) return e.getKey() + " is " + st;
      if (!Objects.equals(primary, Json.text(n, "primaryRegion"))) {
        return e.getKey() + " names primary " + Json.text(n, "primaryRegion") + ", not " + primary;
      }
      Set<String> members = new HashSet<>(Json.strings(n, "members"));
      if (memberSet == null) memberSet = members;
      else if (!memberSet.equals(members)) return "member lists differ";
      Long v = Json.longOrNull(n, "version");
      if (version == null) version = v;
      else if (v != null && !v.equals(version)) return "versions differ";
      Long ep = Json.longOrNull(n, "epoch");
      if (epoch == null) epoch = ep;
      else if (ep != null && !ep.equals(epoch)) return "epochs differ";
    }
    if (memberSet != null && !memberSet.isEmpty() && !state.keySet().containsAll(memberSet)) {
      return "a member has no state yet";
    }
    return null;
  }

  /**
   * The primary over time: a list of segments {@code [from, to)} and the Regions claiming PRIMARY
   * during each (an empty list when none, two or more when several claim it).
   */
  public List<Segment> primarySegments(long endT) {
    // A Region that is down (crashed, stopped, paused) claims nothing while it is down, whatever
    // its last record said: the band breaks at every fault edge too.
    TreeMap<Long, List<JsonNode>> byT = new TreeMap<>();
    for (JsonNode n : changes) byT.computeIfAbsent(History.t(n), k -> new ArrayList<>()).add(n);
    if (byT.isEmpty()) return List.of();
    for (FaultWindow w : history.faultWindows()) {
      byT.putIfAbsent(w.openT(), new ArrayList<>());
      byT.putIfAbsent(w.closeT(), new ArrayList<>());
    }
    long first = byT.firstEntry().getValue().isEmpty() ? History.t(changes.get(0)) : byT.firstKey();
    List<Segment> out = new ArrayList<>();
    Map<String, JsonNode> latest = new LinkedHashMap<>();
    Long segStart = null;
    List<String> current = null;
    for (Map.Entry<Long, List<JsonNode>> e : byT.entrySet()) {
      for (JsonNode n : e.getValue()) latest.put(Json.text(n, "region"), n);
      if (e.getKey() < first) continue;
      List<String> now = new ArrayList<>(primaries(latest));
      long t = e.getKey();
      now.removeIf(r -> history.isDown(r, t));
      if (current == null || !current.equals(now)) {
        if (current != null) out.add(new Segment(segStart, e.getKey(), current));
        segStart = e.getKey();
        current = now;
      }
    }
    if (current != null) out.add(new Segment(segStart, Math.max(segStart, endT), current));
    return out;
  }

  /** A stretch of time and the Regions claiming PRIMARY during it. */
  public record Segment(long fromT, long toT, List<String> primaries) {
    public Segment {
      primaries = List.copyOf(primaries);
    }
  }
}
