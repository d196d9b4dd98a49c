package io.kmsregions.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A laboratory scenario, read from YAML (README, "The failover laboratory"; examples in
 * {@code conf/scenarios/}): the Regions, the keys to set up, a client workload per Region, a
 * schedule of faults and control-plane commands, a settle time and the checks to run.
 *
 * <pre>
 * name: primary-crash
 * description: The primary's Region crashes under load, stays down, then returns.
 * regions: [us-east-1, eu-west-1, ap-southeast-2]
 * keys:
 *   - { name: app, region: us-east-1, multiRegion: true, replicas: [eu-west-1, ap-southeast-2] }
 * workload:
 *   duration: 30s
 *   clients:
 *     - { regions: [us-east-1, eu-west-1, ap-southeast-2], keys: [app], ops: [Encrypt, Decrypt], rate: 20 }
 * schedule:
 *   - { at: 8s, crash: us-east-1 }
 *   - { at: 20s, restart: us-east-1 }
 * settle: 40s
 * checks: [convergence, singlePrimary, durability, decryptability, availability]
 * </pre>
 *
 * @param timeScale the cluster clock's speed-up (1 = wall clock), for lifecycle timing
 * @param setup control steps run after the keys exist, before the workload (no {@code at})
 * @param settle the longest wait for convergence after the workload and the final heal
 */
public record Scenario(
    String name,
    String description,
    List<String> regions,
    double timeScale,
    List<KeySetup> keys,
    List<Step> setup,
    Duration duration,
    List<Client> clients,
    List<Step> schedule,
    Duration settle,
    List<String> checks,
    double availabilityThreshold,
    Duration availabilityGrace) {

  /** Every check the laboratory knows. */
  public static final List<String> ALL_CHECKS =
      List.of("convergence", "singlePrimary", "durability", "decryptability", "availability");
  /** The operations a client may run. */
  public static final Set<String> CLIENT_OPS =
      Set.of("Encrypt", "Decrypt", "GenerateDataKey", "DescribeKey", "Sign", "Verify", "GenerateMac", "ReEncrypt");

  /**
   * A key created in set-up.
   *
   * @param name how the scenario names it (its KeyId is known only once created)
   * @param region where CreateKey runs (the primary's Region for a multi-Region key)
   * @param replicas Regions that get a replica (ReplicateKey), waited for until Enabled
   */
  public record KeySetup(String name, String region, boolean multiRegion, String keySpec, String keyUsage,
      List<String> replicas) {}

  /**
   * One client workload: in each of {@code regions}, {@code rate} operations per second against
   * that Region's own endpoint, cycling through {@code ops} and {@code keys}.
   */
  public record Client(List<String> regions, List<String> keys, List<String> ops, double rate, int concurrency) {}

  /**
   * One step of the schedule or the set-up: {@code action} is crash, stop, restart, pause, resume,
   * partition, heal, latency, clock, replicateKey, updatePrimaryRegion, rotateKeyOnDemand,
   * scheduleKeyDeletion, forcePromote, or sleep; {@code args} its arguments as written. {@code clock: {region, scale}}
   * runs that Region's clock {@code scale} times its configured speed; {@code scale: 1} (or
   * {@code heal: all}) ends it.
   *
   * @param at when, from the workload's start (zero in set-up)
   */
  public record Step(Duration at, String action, JsonNode args) {
    /** A text argument, or the step's value itself when it is a plain string (e.g. {@code crash: us-east-1}). */
    public String text(String field) {
      if (args.isTextual() && field.equals("region")) return args.asText();
      JsonNode v = args.get(field);
      if (v == null || !v.isTextual()) throw new IllegalArgumentException(action + " needs \"" + field + "\"");
      return v.asText();
    }

    public String textOr(String field, String fallback) {
      JsonNode v = args.get(field);
      return v == null || v.isNull() ? fallback : v.asText();
    }

    @Override
    public String toString() {
      return action + " " + args;
    }
  }

  static final Set<String> ACTIONS = Set.of("crash", "stop", "restart", "pause", "resume", "partition", "heal", "latency",
      "clock", "replicateKey", "updatePrimaryRegion", "rotateKeyOnDemand", "scheduleKeyDeletion", "forcePromote", "sleep");

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /**
   * Reads and validates a scenario file.
   *
   * @param knownRegions the Regions of {@code regions/}: a scenario may use only those
   * @throws IllegalArgumentException naming the file and what is wrong
   */
  public static Scenario read(Path file, List<String> knownRegions) {
    JsonNode root;
    try {
      root = YAML.readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": not readable YAML: " + e.getMessage(), e);
    }
    try {
      return parse(root, knownRegions);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  static Scenario parse(JsonNode root, List<String> knownRegions) {
    if (root == null || !root.isObject()) throw new IllegalArgumentException("a scenario is a YAML mapping");
    allowOnly(root, "scenario", Set.of("name", "description", "regions", "timeScale", "keys", "setup", "workload",
        "schedule", "settle", "checks", "availability"));
    String name = required(root, "name").asText();
    List<String> regions = root.has("regions") ? strings(root.get("regions"), "regions") : knownRegions;
    for (String r : regions) {
      if (!knownRegions.contains(r)) throw new IllegalArgumentException("Region " + r + " is not in regions/ " + knownRegions);
    }
    List<KeySetup> keys = new ArrayList<>();
    for (JsonNode k : root.path("keys")) {
      allowOnly(k, "key", Set.of("name", "region", "multiRegion", "keySpec", "keyUsage", "replicas"));
      KeySetup ks = new KeySetup(required(k, "name").asText(), region(required(k, "region").asText(), regions),
          k.path("multiRegion").asBoolean(false), k.path("keySpec").asText("SYMMETRIC_DEFAULT"),
          k.path("keyUsage").asText(null), k.has("replicas") ? strings(k.get("replicas"), "replicas") : List.of());
      for (String r : ks.replicas()) region(r, regions);
      if (!ks.multiRegion() && !ks.replicas().isEmpty()) {
        throw new IllegalArgumentException("key " + ks.name() + " has replicas but is not multiRegion");
      }
      keys.add(ks);
    }
    List<String> keyNames = keys.stream().map(KeySetup::name).toList();
    JsonNode w = required(root, "workload");
    allowOnly(w, "workload", Set.of("duration", "clients"));
    Duration duration = duration(required(w, "duration"), "workload.duration");
    List<Client> clients = new ArrayList<>();
    for (JsonNode c : w.path("clients")) {
      allowOnly(c, "client", Set.of("regions", "keys", "ops", "rate", "concurrency"));
      List<String> cr = c.has("regions") ? strings(c.get("regions"), "regions") : regions;
      for (String r : cr) region(r, regions);
      List<String> ck = strings(required(c, "keys"), "keys");
      for (String k : ck) if (!keyNames.contains(k)) throw new IllegalArgumentException("unknown key " + k + "; keys: " + keyNames);
      List<String> ops = strings(required(c, "ops"), "ops");
      for (String op : ops) {
        if (!CLIENT_OPS.contains(op)) throw new IllegalArgumentException("unknown client op " + op + "; known: " + CLIENT_OPS);
      }
      double rate = c.path("rate").asDouble(10);
      if (rate <= 0 || rate > 10_000) throw new IllegalArgumentException("rate must be in (0, 10000] per second");
      clients.add(new Client(cr, ck, ops, rate, Math.max(1, c.path("concurrency").asInt(2))));
    }
    List<Step> setup = steps(root.path("setup"), false, regions, keyNames);
    List<Step> schedule = steps(root.path("schedule"), true, regions, keyNames);
    for (Step s : schedule) {
      if (s.at().compareTo(duration) > 0) throw new IllegalArgumentException("step " + s + " is after the workload's end");
    }
    List<String> checks = root.has("checks") ? strings(root.get("checks"), "checks") : ALL_CHECKS;
    for (String c : checks) if (!ALL_CHECKS.contains(c)) throw new IllegalArgumentException("unknown check " + c + "; known: " + ALL_CHECKS);
    JsonNode a = root.path("availability");
    double timeScale = 1.0;
    if (root.has("timeScale")) {
      JsonNode ts = root.get("timeScale");
      // Checked here: a node refuses a bad scale only once the cluster is starting.
      if (!ts.isNumber() || !io.kmsregions.ClusterClock.validScale(ts.asDouble())) {
        throw new IllegalArgumentException("timeScale must be a number > 0 (1 = wall clock), not " + ts);
      }
      timeScale = ts.asDouble();
    }
    return new Scenario(name, root.path("description").asText(""), regions, timeScale, keys,
        setup, duration, clients, schedule,
        root.has("settle") ? duration(root.get("settle"), "settle") : Duration.ofSeconds(60), checks,
        a.path("threshold").asDouble(0.99),
        a.has("grace") ? duration(a.get("grace"), "availability.grace") : Duration.ofSeconds(10));
  }

  /** The same scenario with the workload's times divided by {@code speed} (short runs in tests). */
  public Scenario faster(double speed) {
    if (speed == 1.0) return this;
    List<Step> s = schedule.stream().map(x -> new Step(scale(x.at(), speed), x.action(), x.args())).toList();
    return new Scenario(name, description, regions, timeScale, keys, setup, scale(duration, speed), clients, s, settle,
        checks, availabilityThreshold, availabilityGrace);
  }

  private static Duration scale(Duration d, double speed) {
    return Duration.ofMillis(Math.round(d.toMillis() / speed));
  }

  private static List<Step> steps(JsonNode list, boolean timed, List<String> regions, List<String> keys) {
    List<Step> steps = new ArrayList<>();
    if (list.isMissingNode() || list.isNull()) return steps;
    if (!list.isArray()) throw new IllegalArgumentException((timed ? "schedule" : "setup") + " must be a list");
    for (JsonNode s : list) {
      if (!s.isObject()) throw new IllegalArgumentException("a step is a mapping, e.g. {at: 5s, crash: us-east-1}");
      Duration at = Duration.ZERO;
      String action = null;
      JsonNode args = null;
      for (Iterator<Map.Entry<String, JsonNode>> it = s.fields(); it.hasNext(); ) {
        var e = it.next();
        if (e.getKey().equals("at")) {
          if (!timed) throw new IllegalArgumentException("set-up steps have no \"at\"");
          at = duration(e.getValue(), "at");
        } else if (ACTIONS.contains(e.getKey())) {
          if (action != null) throw new IllegalArgumentException("one action per step: " + s);
          action = e.getKey();
          args = e.getValue();
        } else {
          throw new IllegalArgumentException("unknown step field " + e.getKey() + "; actions: " + ACTIONS);
        }
      }
      if (action == null) throw new IllegalArgumentException("a step without an action: " + s + "; actions: " + ACTIONS);
      if (timed && !s.has("at")) throw new IllegalArgumentException("a scheduled step needs \"at\": " + s);
      Step step = new Step(at, action, args);
      validate(step, regions, keys);
      steps.add(step);
    }
    steps.sort(java.util.Comparator.comparing(Step::at));
    return steps;
  }

  private static void validate(Step s, List<String> regions, List<String> keys) {
    switch (s.action()) {
      case "crash", "stop", "restart", "pause", "resume" -> region(s.text("region"), regions);
      case "partition", "latency" -> {
        region(s.text("a"), regions);
        region(s.text("b"), regions);
        if (s.text("a").equals(s.text("b"))) throw new IllegalArgumentException(s + ": two different Regions");
      }
      case "heal" -> {
        if (!(s.args().isTextual() && s.args().asText().equals("all"))) {
          region(s.text("a"), regions);
          region(s.text("b"), regions);
        }
      }
      case "clock" -> {
        allowOnly(s.args(), "clock", Set.of("region", "scale"));
        region(s.text("region"), regions);
        clockScale(s);
      }
      case "replicateKey" -> {
        key(s.text("key"), keys);
        region(s.text("region"), regions);
        region(s.text("replicaRegion"), regions);
      }
      case "updatePrimaryRegion" -> {
        key(s.text("key"), keys);
        region(s.text("region"), regions);
        region(s.text("primaryRegion"), regions);
      }
      case "scheduleKeyDeletion" -> {
        allowOnly(s.args(), "scheduleKeyDeletion", Set.of("key", "region", "pendingWindowInDays"));
        key(s.text("key"), keys);
        region(s.text("region"), regions);
        pendingWindowInDays(s);
      }
      case "rotateKeyOnDemand", "forcePromote" -> {
        key(s.text("key"), keys);
        region(s.text("region"), regions);
      }
      case "sleep" -> duration(s.args(), "sleep");
      default -> throw new IllegalArgumentException("unknown action " + s.action());
    }
  }

  /**
   * The speed factor of a {@code clock} step: a number, finite and &gt; 0 (1 restores the
   * configured speed).
   */
  public static double clockScale(Step s) {
    JsonNode v = s.args().get("scale");
    if (v == null || v.isNull()) throw new IllegalArgumentException("clock needs \"scale\" (a number > 0; 1 restores the configured speed): " + s);
    if (!v.isNumber() || !io.kmsregions.ClusterClock.validScale(v.asDouble())) {
      throw new IllegalArgumentException("clock.scale must be a number > 0 (1 restores the configured speed), not " + v
          + ": " + s);
    }
    return v.asDouble();
  }

  /** The deletion window of a {@code scheduleKeyDeletion} step: whole days, 7 to 30 as in AWS; default 30. */
  public static int pendingWindowInDays(Step s) {
    JsonNode v = s.args().get("pendingWindowInDays");
    if (v == null || v.isNull()) return 30;
    if (!v.isIntegralNumber() || v.asInt() < 7 || v.asInt() > 30) {
      throw new IllegalArgumentException("scheduleKeyDeletion.pendingWindowInDays must be a whole number of days from 7 to 30, not "
          + v + ": " + s);
    }
    return v.asInt();
  }

  private static void key(String k, List<String> keys) {
    if (!keys.contains(k)) throw new IllegalArgumentException("unknown key " + k + "; keys: " + keys);
  }

  private static String region(String r, List<String> regions) {
    if (!regions.contains(r)) throw new IllegalArgumentException("Region " + r + " is not one of the scenario's " + regions);
    return r;
  }

  private static JsonNode required(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) throw new IllegalArgumentException("missing \"" + field + "\"");
    return v;
  }

  private static void allowOnly(JsonNode n, String what, Set<String> fields) {
    if (!n.isObject()) throw new IllegalArgumentException(what + " must be a mapping");
    n.fieldNames().forEachRemaining(f -> {
      if (!fields.contains(f)) throw new IllegalArgumentException("unknown " + what + " field \"" + f + "\"; known: " + fields);
    });
  }

  private static List<String> strings(JsonNode n, String what) {
    if (!n.isArray()) throw new IllegalArgumentException(what + " must be a list");
    List<String> l = new ArrayList<>();
    n.forEach(x -> l.add(x.asText()));
    return l;
  }

  /** {@code 500ms}, {@code 10s}, {@code 2m}, or a number of seconds. */
  static Duration duration(JsonNode n, String what) {
    if (n.isNumber()) return Duration.ofMillis(Math.round(n.asDouble() * 1000));
    String s = n.asText().trim();
    try {
      if (s.endsWith("ms")) return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2).trim()));
      if (s.endsWith("s")) return Duration.ofMillis(Math.round(Double.parseDouble(s.substring(0, s.length() - 1).trim()) * 1000));
      if (s.endsWith("m")) return Duration.ofMillis(Math.round(Double.parseDouble(s.substring(0, s.length() - 1).trim()) * 60_000));
    } catch (NumberFormatException e) {
      // fall through
    }
    throw new IllegalArgumentException(what + ": \"" + s + "\" is not a duration like 500ms, 10s or 2m");
  }
}
