package io.kmsregions.lab.history;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * A laboratory history (FORMAT.md in this package), read once and indexed for the checkers and the
 * report: records sorted by {@code t}, client operations paired, fault windows paired.
 *
 * <p>Reading is tolerant on purpose: the history of a run in which processes were killed may end in
 * a torn line, and one bad line must not hide the verdict on the rest. Lines that are not JSON
 * objects are skipped and listed in {@link #problems()}, which the report shows.
 */
public final class History {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final List<JsonNode> records;
  private final List<String> problems;
  private final Map<String, List<JsonNode>> byType = new HashMap<>();
  private final String scenarioName;
  private final List<String> regions;
  private final long startT;
  private final long endT;
  private final long workloadStartT;
  private final long workloadEndT;
  private final List<FaultWindow> faultWindows;
  private final List<Operation> operations;
  private final Map<Long, Operation> operationsById = new HashMap<>();

  private History(List<JsonNode> unsorted, List<String> problems) {
    List<JsonNode> sorted = new ArrayList<>();
    for (JsonNode n : unsorted) {
      if (n != null && n.isObject()) sorted.add(n);
    }
    // A stable sort: records with the same t keep the order the laboratory wrote them in.
    sorted.sort(Comparator.comparingLong(History::t));
    this.records = Collections.unmodifiableList(sorted);
    this.problems = new ArrayList<>(problems);
    for (JsonNode n : records) {
      String type = Json.text(n, "type");
      byType.computeIfAbsent(type == null ? "" : type, k -> new ArrayList<>()).add(n);
    }
    JsonNode scenario = first("scenario");
    this.scenarioName = scenario == null || Json.text(scenario, "name") == null
        ? "(unnamed scenario)" : Json.text(scenario, "name");
    this.regions = collectRegions(scenario);
    this.startT = records.isEmpty() ? 0 : Math.min(0, t(records.get(0)));
    this.endT = records.isEmpty() ? 0 : Math.max(0, t(records.get(records.size() - 1)));
    this.workloadStartT = phaseEdge("workload", "start", startT);
    this.workloadEndT = computeWorkloadEnd();
    this.operations = pairOperations();
    for (Operation o : operations) operationsById.put(o.id(), o);
    this.faultWindows = pairFaults();
  }

  /**
   * Reads a JSON Lines history file.
   *
   * @throws UncheckedIOException when the file cannot be read (bad lines are skipped, see
   *     {@link #problems()})
   */
  public static History read(Path jsonl) {
    List<JsonNode> nodes = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(jsonl, StandardCharsets.UTF_8)) {
      String line;
      int number = 0;
      while ((line = in.readLine()) != null) {
        number++;
        if (line.isBlank()) continue;
        try {
          JsonNode n = MAPPER.readTree(line);
          if (n != null && n.isObject()) {
            nodes.add(n);
          } else {
            problems.add("line " + number + ": not a JSON object");
          }
        } catch (IOException e) {
          problems.add("line " + number + ": not JSON (" + firstLine(e.getMessage()) + ")");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read history " + jsonl, e);
    }
    return new History(nodes, problems);
  }

  /** A history of the given records (in any order), for tests and for a recorder kept in memory. */
  public static History of(List<? extends JsonNode> records) {
    return new History(new ArrayList<>(records), List.of());
  }

  /** Parses one JSON Lines text (for tests). */
  public static History parse(String jsonLines) {
    List<JsonNode> nodes = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    int number = 0;
    for (String line : jsonLines.split("\r?\n")) {
      number++;
      if (line.isBlank()) continue;
      try {
        nodes.add(MAPPER.readTree(line));
      } catch (IOException e) {
        problems.add("line " + number + ": not JSON (" + firstLine(e.getMessage()) + ")");
      }
    }
    return new History(nodes, problems);
  }

  /** An empty object node, for building records in code. */
  public static ObjectNode newRecord() {
    return MAPPER.createObjectNode();
  }

  /** The shared mapper (for building records in code). */
  public static ObjectMapper mapper() {
    return MAPPER;
  }

  // ------------------------------------------------------------------ accessors

  /** Every record, sorted by {@code t} (stable). */
  public List<JsonNode> records() {
    return records;
  }

  /** The records of one {@code type}, sorted by {@code t}. */
  public List<JsonNode> ofType(String type) {
    return Collections.unmodifiableList(byType.getOrDefault(type, List.of()));
  }

  /** Lines that could not be read, with their line numbers. */
  public List<String> problems() {
    return Collections.unmodifiableList(problems);
  }

  /** The scenario's name, from the {@code scenario} record. */
  public String scenarioName() {
    return scenarioName;
  }

  /** The {@code settings} object of the {@code scenario} record (empty when absent). */
  public JsonNode scenarioSettings() {
    JsonNode s = first("scenario");
    return s == null ? mapper().createObjectNode() : s.path("settings");
  }

  /** The scenario's Regions, followed by any other Region the records name, sorted. */
  public List<String> regions() {
    return regions;
  }

  /** The smallest {@code t} (0 or less). */
  public long startT() {
    return startT;
  }

  /** The largest {@code t}. */
  public long endT() {
    return endT;
  }

  /** Start of the workload phase (or of the history when not recorded). */
  public long workloadStartT() {
    return workloadStartT;
  }

  /**
   * End of the workload phase: its {@code phase end} record, else the settle phase's start, else the
   * last client record, else the end of the history.
   */
  public long workloadEndT() {
    return workloadEndT;
  }

  /** The time of a phase edge, or {@code fallback}. */
  public long phaseEdge(String name, String edge, long fallback) {
    for (JsonNode p : ofType("phase")) {
      if (name.equals(Json.text(p, "name")) && edge.equals(Json.text(p, "edge"))) return t(p);
    }
    return fallback;
  }

  /** Fault windows by opening time. */
  public List<FaultWindow> faultWindows() {
    return faultWindows;
  }

  /** Client operations (paired invoke/complete) by invoke time. */
  public List<Operation> operations() {
    return operations;
  }

  /** The client operation with this id, or null. */
  public Operation operation(long id) {
    return operationsById.get(id);
  }

  /** The {@code final} records. */
  public List<JsonNode> finals() {
    return ofType("final");
  }

  /** The {@code final} record of {@code key} in {@code region}, or null. */
  public JsonNode finalOf(String key, String region) {
    JsonNode found = null;
    for (JsonNode f : finals()) {
      if (Objects.equals(key, Json.text(f, "key")) && Objects.equals(region, Json.text(f, "region"))) {
        found = f; // the last one wins, should the laboratory have inspected twice
      }
    }
    return found;
  }

  /** Regions that produced at least one {@code final} record (those the laboratory could inspect). */
  public Set<String> regionsWithFinals() {
    Set<String> out = new TreeSet<>();
    for (JsonNode f : finals()) {
      String r = Json.text(f, "region");
      if (r != null) out.add(r);
    }
    return out;
  }

  /**
   * The multi-Region keys: KeyIds beginning {@code mrk-}, or named in any {@code keyState} or
   * {@code final} record with a {@code multiRegionKeyType}. Sorted.
   */
  public List<String> multiRegionKeys() {
    Set<String> keys = new TreeSet<>();
    for (JsonNode n : records) {
      String key = Json.text(n, "key");
      if (key == null) continue;
      if (key.startsWith("mrk-")) keys.add(key);
      String type = Json.text(n, "type");
      if (("keyState".equals(type) || "final".equals(type)) && Json.has(n, "multiRegionKeyType")) {
        keys.add(key);
      }
    }
    return new ArrayList<>(keys);
  }

  /** The window ids of windows still open (never closed) at the end. */
  public List<FaultWindow> windowsOpenAtEnd() {
    List<FaultWindow> out = new ArrayList<>();
    for (FaultWindow w : faultWindows) if (w.closedByEnd()) out.add(w);
    return out;
  }

  /** Whether {@code region} is crashed or paused at time {@code t} by some window. */
  public boolean isDown(String region, long t) {
    for (FaultWindow w : faultWindows) if (w.isOutageOf(region) && w.covers(t)) return true;
    return false;
  }

  /** The {@code t} of a record (0 when missing). */
  public static long t(JsonNode n) {
    return Json.longValue(n, "t", 0);
  }

  // ------------------------------------------------------------------ indexing

  private JsonNode first(String type) {
    List<JsonNode> l = byType.get(type);
    return l == null || l.isEmpty() ? null : l.get(0);
  }

  private List<String> collectRegions(JsonNode scenario) {
    Set<String> declared = new LinkedHashSet<>(Json.strings(scenario, "regions"));
    Set<String> others = new TreeSet<>();
    for (JsonNode n : records) {
      for (String f : List.of("region", "observer", "member")) {
        String r = Json.text(n, f);
        if (r != null && !declared.contains(r)) others.add(r);
      }
    }
    List<String> out = new ArrayList<>(declared);
    out.addAll(others);
    return Collections.unmodifiableList(out);
  }

  private long computeWorkloadEnd() {
    long end = phaseEdge("workload", "end", Long.MIN_VALUE);
    if (end != Long.MIN_VALUE) return end;
    end = phaseEdge("settle", "start", Long.MIN_VALUE);
    if (end != Long.MIN_VALUE) return end;
    long last = Long.MIN_VALUE;
    for (String type : List.of("invoke", "complete")) {
      for (JsonNode n : ofType(type)) last = Math.max(last, t(n));
    }
    return last == Long.MIN_VALUE ? endT : last;
  }

  private List<Operation> pairOperations() {
    Map<Long, JsonNode> invokes = new LinkedHashMap<>();
    for (JsonNode n : ofType("invoke")) {
      Long id = Json.longOrNull(n, "id");
      if (id != null) invokes.put(id, n);
    }
    Map<Long, JsonNode> completes = new LinkedHashMap<>();
    for (JsonNode n : ofType("complete")) {
      Long id = Json.longOrNull(n, "id");
      if (id != null) completes.putIfAbsent(id, n);
    }
    Set<Long> ids = new LinkedHashSet<>(invokes.keySet());
    ids.addAll(completes.keySet());
    List<Operation> out = new ArrayList<>();
    for (long id : ids) {
      JsonNode inv = invokes.get(id);
      JsonNode comp = completes.get(id);
      double latency = comp == null ? Double.NaN : Json.doubleValue(comp, "latencyMs");
      long completeT = comp == null ? -1 : t(comp);
      long invokeT;
      if (inv != null) {
        invokeT = t(inv);
      } else {
        invokeT = Double.isNaN(latency) ? completeT : completeT - Math.round(latency);
      }
      String outcome = comp == null ? "info" : Json.text(comp, "outcome");
      if (outcome == null) outcome = "info";
      out.add(new Operation(id,
          firstNonNull(Json.text(comp, "region"), Json.text(inv, "region")),
          firstNonNull(Json.text(comp, "op"), Json.text(inv, "op")),
          firstNonNull(Json.text(comp, "key"), Json.text(inv, "key")),
          invokeT, completeT, outcome,
          comp == null ? (inv != null ? "NoCompletion" : null) : Json.text(comp, "error"),
          latency, Json.text(comp, "ciphertext")));
    }
    out.sort(Comparator.comparingLong(Operation::invokeT));
    return Collections.unmodifiableList(out);
  }

  private List<FaultWindow> pairFaults() {
    Map<String, JsonNode> opens = new LinkedHashMap<>();
    Map<String, JsonNode> closes = new HashMap<>();
    int anonymous = 0;
    for (JsonNode f : ofType("fault")) {
      String id = Json.text(f, "window");
      if (id == null) {
        // A fault without a window id is a point event (a clock jump, say): a window of no length.
        id = "#" + (++anonymous);
        opens.put(id, f);
        closes.put(id, f);
        continue;
      }
      if ("close".equals(Json.text(f, "edge"))) {
        closes.putIfAbsent(id, f);
      } else if (opens.putIfAbsent(id, f) != null) {
        problems.add("fault window " + id + " opened twice; the second opening at t=" + t(f) + " is ignored");
      }
    }
    for (String id : closes.keySet()) {
      if (!opens.containsKey(id)) problems.add("fault window " + id + " closed but never opened");
    }
    List<FaultWindow> out = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : opens.entrySet()) {
      JsonNode open = e.getValue();
      JsonNode close = closes.get(e.getKey());
      long openT = t(open);
      long closeT;
      boolean byEnd = close == null;
      if (close != null) {
        closeT = Math.max(openT, t(close));
      } else {
        closeT = openT < workloadEndT ? workloadEndT : endT;
      }
      JsonNode params = open.get("params");
      out.add(new FaultWindow(e.getKey(), firstNonNull(Json.text(open, "action"), "fault"),
          Json.strings(open, "regions"), Json.text(open, "direction"),
          params == null || params.isNull() ? null : params, openT, closeT,
          close == null || close == open ? null : Json.text(close, "action"), byEnd));
    }
    out.sort(Comparator.comparingLong(FaultWindow::openT));
    return Collections.unmodifiableList(out);
  }

  private static String firstNonNull(String a, String b) {
    return a != null ? a : b;
  }

  private static String firstLine(String s) {
    if (s == null) return "";
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
