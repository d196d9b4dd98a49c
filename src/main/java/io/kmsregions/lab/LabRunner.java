package io.kmsregions.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigFactory;
import io.kmsregions.bench.SigV4;
import io.kmsregions.region.RegionSpec;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs one laboratory scenario end to end (issue 5): starts its own cluster of {@code node}
 * processes on free ports, sets up the keys, runs the client workload while the schedule injects
 * faults and control-plane commands, heals whatever is still broken, waits for convergence, takes
 * every Region's final view, verifies every acknowledged ciphertext and key, and writes
 * {@code history.jsonl} (lab/history/FORMAT.md) to the output folder. The checks and the report
 * are then made from that history alone.
 */
public final class LabRunner {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * How to run.
   *
   * @param out the output folder (history, report, node logs and data)
   * @param nodeJvmOptions JVM options of every node process
   * @param clientTimeout how long a client call may take before it counts as indeterminate
   */
  /**
   * @param clusterTls Artery between the Regions over mutual TLS (true), plain TCP (false), or as
   *     {@code kms.cluster.tls.enabled} says (null: on unless KMS_CLUSTER_TLS=off); with TLS the
   *     cluster CA is generated under {@code out/data/cluster-ca} before the nodes start
   */
  public record Options(Path out, Path regionsDir, List<String> nodeJvmOptions, Duration clientTimeout,
      Duration readyTimeout, String accessKeyId, String secretAccessKey, PrintStream progress, Boolean clusterTls) {
    /** Cluster TLS as configured (on by default). */
    public Options(Path out, Path regionsDir, List<String> nodeJvmOptions, Duration clientTimeout,
        Duration readyTimeout, String accessKeyId, String secretAccessKey, PrintStream progress) {
      this(out, regionsDir, nodeJvmOptions, clientTimeout, readyTimeout, accessKeyId, secretAccessKey, progress, null);
    }
  }

  private final Scenario scenario;
  private final Options options;
  // Made once the cluster is ready, so that t = 0 is the scenario's start, not the JVMs' start-up.
  private HistoryWriter history;
  private final long createdNanos = System.nanoTime();
  private final Map<String, String> keyIds = new ConcurrentHashMap<>();
  private final Map<String, LabClient> clients = new HashMap<>();
  private final Map<String, OpenWindow> openWindows = new LinkedHashMap<>();
  private RegionProcesses processes;
  // How the Regions' links were secured (ClusterTls.describe), for the progress and the history.
  private String clusterLinks;
  private FaultInjector faults;
  private List<RegionSpec> specs;
  private int windowCounter;

  private record OpenWindow(String id, String action, List<String> regions, JsonNode args) {}

  public LabRunner(Scenario scenario, Options options) {
    this.scenario = scenario;
    this.options = options;
  }

  /** Runs the scenario; returns the history file. Always tears the cluster down. */
  public Path run() throws IOException, InterruptedException {
    Path out = options.out();
    Files.createDirectories(out);
    specs = onFreePorts(scenario.regions());
    Path regionsDir = out.resolve("regions");
    Files.createDirectories(regionsDir);
    for (RegionSpec s : specs) Files.writeString(regionsDir.resolve(s.name() + ".conf"), s.toFileText());
    Map<String, String> props = new HashMap<>();
    props.put("kms.lab.event-log", out.resolve("events").resolve("{region}.jsonl").toString());
    props.put("kms.clock.origin", Long.toString(System.currentTimeMillis()));
    props.put("kms.clock.time-scale", Double.toString(scenario.timeScale()));
    if (options.clusterTls() != null) props.put("kms.cluster.tls.enabled", Boolean.toString(options.clusterTls()));
    // The nodes share out/data: its cluster CA is made here, once, before any of them starts.
    clusterLinks = io.kmsregions.security.tls.ClusterTls.describe(io.kmsregions.security.tls.ClusterTls.prepare(
        ConfigFactory.parseMap(props).withFallback(ConfigFactory.load()), out.resolve("data"), scenario.regions()));
    processes = new RegionProcesses(specs, regionsDir, out.resolve("data"), out.resolve("logs"), options.nodeJvmOptions(), props);
    try {
      say("starting " + specs.size() + " Region processes (logs in " + out.resolve("logs") + "; cluster links: "
          + clusterLinks + ")");
      for (int attempt = 1; ; attempt++) {
        processes.startAll();
        try {
          processes.awaitAllReady(options.readyTimeout());
          break;
        } catch (IllegalStateException e) {
          // A port found free may be taken by another process before a node binds it (another
          // cluster starting on this machine): start again on other ports, at most three times.
          if (attempt == 3 || !portTaken(out.resolve("logs"))) throw e;
          say("a port was taken before a node could bind it; starting again on other ports");
          processes.close();
          specs = onFreePorts(scenario.regions());
          for (RegionSpec s : specs) Files.writeString(regionsDir.resolve(s.name() + ".conf"), s.toFileText());
          archiveLogs(out.resolve("logs"), attempt);
          processes = new RegionProcesses(specs, regionsDir, out.resolve("data"), out.resolve("logs"),
              options.nodeJvmOptions(), props);
        }
      }
      faults = new FaultInjector(specs, processes);
      SigV4 signer = new SigV4(options.accessKeyId(), options.secretAccessKey());
      for (RegionSpec s : specs) clients.put(s.name(), new LabClient(s.name(), s.httpUrl(), signer, options.clientTimeout()));
      say("cluster ready; from here t = 0 is the scenario's start (the schedule's `at`)");
      history = new HistoryWriter();
      ObjectNode sc = history.record("scenario");
      sc.put("name", scenario.name());
      sc.set("regions", JSON.valueToTree(scenario.regions()));
      sc.put("startedAt", history.startedAtWall());
      ObjectNode settings = sc.putObject("settings");
      settings.put("description", scenario.description());
      settings.put("durationMs", scenario.duration().toMillis());
      settings.put("settleMs", scenario.settle().toMillis());
      settings.put("timeScale", scenario.timeScale());
      settings.put("clusterLinks", clusterLinks);
      settings.set("checks", JSON.valueToTree(scenario.checks()));
      settings.put("availabilityThreshold", scenario.availabilityThreshold());
      settings.put("availabilityGraceMs", scenario.availabilityGrace().toMillis());
      history.add(sc);

      phase("setup", "start");
      setUp();
      phase("setup", "end");

      phase("workload", "start");
      say("workload: " + scenario.duration().toSeconds() + " s, " + scenario.schedule().size() + " scheduled steps");
      runWorkload();
      phase("workload", "end");

      closeOpenWindows();

      phase("settle", "start");
      long settled = settle();
      phase("settle", "end");
      say(settled >= 0 ? "converged " + settled + " ms after the workload" : "did not converge within " + scenario.settle().toSeconds() + " s");

      phase("verify", "start");
      Map<String, Map<String, JsonNode>> finals = finalViews();
      verify(finals);
      phase("verify", "end");
    } finally {
      say("stopping the cluster");
      processes.close();
    }
    Path file = out.resolve("history.jsonl");
    history.write(file, out.resolve("events"));
    return file;
  }

  // ---- set-up

  private void setUp() throws InterruptedException {
    for (Scenario.KeySetup k : scenario.keys()) {
      ObjectNode body = JSON.createObjectNode().put("KeySpec", k.keySpec()).put("MultiRegion", k.multiRegion())
          .put("Description", "kms-regions lab: " + scenario.name() + "/" + k.name());
      if (k.keyUsage() != null) body.put("KeyUsage", k.keyUsage());
      LabClient.Result r = control("CreateKey", k.region(), null, body, JSON.createObjectNode().put("name", k.name()));
      if (!r.ok()) throw new IllegalStateException("set-up: CreateKey " + k.name() + " failed: " + r.error() + " " + r.message());
      keyIds.put(k.name(), r.body().path("KeyMetadata").path("KeyId").asText());
      for (String replica : k.replicas()) {
        LabClient.Result rr = control("ReplicateKey", k.region(), keyIds.get(k.name()),
            JSON.createObjectNode().put("KeyId", keyIds.get(k.name())).put("ReplicaRegion", replica),
            JSON.createObjectNode().put("replicaRegion", replica));
        if (!rr.ok()) throw new IllegalStateException("set-up: ReplicateKey " + k.name() + " to " + replica + " failed: " + rr.error());
      }
      for (String replica : k.replicas()) awaitState(replica, keyIds.get(k.name()), "Enabled", Duration.ofSeconds(60));
      say("key " + k.name() + " = " + keyIds.get(k.name()) + " in " + k.region()
          + (k.replicas().isEmpty() ? "" : ", replicas " + k.replicas()));
    }
    for (Scenario.Step s : scenario.setup()) step(s);
  }

  private void awaitState(String region, String keyId, String state, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      LabClient.Result r = clients.get(region).call("DescribeKey", JSON.createObjectNode().put("KeyId", keyId), CONTROL_TIMEOUT);
      if (r.ok() && r.body().path("KeyMetadata").path("KeyState").asText().equals(state)) return;
      Thread.sleep(100);
    }
    throw new IllegalStateException("set-up: " + keyId + " not " + state + " in " + region + " after " + timeout.toSeconds() + " s");
  }

  // ---- workload and schedule

  private void runWorkload() throws InterruptedException {
    long start = System.nanoTime();
    try (Workload w = new Workload(history, scenario.clients(), clients::get, keyIds::get)) {
      w.start();
      Thread progress = new Thread(() -> progress(w, start), "lab-progress");
      progress.setDaemon(true);
      progress.start();
      for (Scenario.Step s : scenario.schedule()) {
        sleepUntil(start, s.at());
        step(s);
      }
      sleepUntil(start, scenario.duration());
      progress.interrupt();
    }
  }

  private void progress(Workload w, long start) {
    try {
      while (true) {
        Thread.sleep(2000);
        StringBuilder b = new StringBuilder();
        b.append(String.format("t=%3ds ", (System.nanoTime() - start) / 1_000_000_000L));
        w.counts().forEach((r, c) -> b.append(String.format(" %s ok %d fail %d ?%d |", r, c[0], c[1], c[2])));
        synchronized (openWindows) {
          if (!openWindows.isEmpty()) {
            b.append(" faults:");
            openWindows.values().forEach(o -> b.append(' ').append(o.action()).append(' ').append(o.regions()));
          }
        }
        say(b.toString());
      }
    } catch (InterruptedException e) {
      // the workload ended
    }
  }

  private static void sleepUntil(long startNanos, Duration at) throws InterruptedException {
    long wait = startNanos + at.toNanos() - System.nanoTime();
    if (wait > 0) Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
  }

  /** Runs one step of the schedule or the set-up, recording it. */
  private void step(Scenario.Step s) throws InterruptedException {
    say("step: " + s.action() + " " + s.args());
    try {
      switch (s.action()) {
        case "crash", "pause", "stop" -> {
          // The window opens as the fault starts: a call in flight at that moment belongs to it.
          String id = open(s.action(), List.of(s.text("region")), s.args());
          try {
            switch (s.action()) {
              case "crash" -> faults.crash(s.text("region"));
              case "pause" -> faults.pause(s.text("region"));
              default -> faults.stop(s.text("region"));
            }
          } catch (RuntimeException e) {
            abandon(id);
            throw e;
          }
        }
        case "restart" -> {
          faults.restart(s.text("region"));
          close(List.of("crash", "stop"), List.of(s.text("region")), "restart", false);
          // A restarted node starts healed: its clock runs at the configured speed again.
          close(List.of("clock"), List.of(s.text("region")), "restart", false);
        }
        case "resume" -> {
          faults.resume(s.text("region"));
          close(List.of("pause"), List.of(s.text("region")), "resume", false);
        }
        case "partition" -> {
          boolean oneWay = s.args().path("oneWay").asBoolean(false);
          String id = open("partition", List.of(s.text("a"), s.text("b")), s.args());
          try {
            faults.partition(s.text("a"), s.text("b"), oneWay);
          } catch (IOException | RuntimeException e) {
            abandon(id);
            throw e;
          }
        }
        case "latency" -> {
          String id = open("latency", List.of(s.text("a"), s.text("b")), s.args());
          try {
            faults.latency(s.text("a"), s.text("b"), s.args().path("delayMs").asLong(0), s.args().path("jitterMs").asLong(0),
                s.args().path("lossPercent").asDouble(0), s.args().path("oneWay").asBoolean(false));
          } catch (IOException | RuntimeException e) {
            abandon(id);
            throw e;
          }
        }
        case "clock" -> {
          String region = s.text("region");
          double scale = Scenario.clockScale(s);
          // A new speed ends the window of the previous one in that Region; 1 opens none.
          close(List.of("clock"), List.of(region), "clock", false);
          String id = scale == 1.0 ? null : open("clock", List.of(region), s.args());
          try {
            faults.clock(region, scale);
          } catch (IOException | RuntimeException e) {
            if (id != null) abandon(id);
            throw e;
          }
        }
        case "heal" -> {
          if (s.args().isTextual()) {
            faults.healAll(); // clocks included
            closeNetwork(null, null);
          } else {
            faults.heal(s.text("a"), s.text("b"));
            closeNetwork(s.text("a"), s.text("b"));
          }
        }
        case "replicateKey" -> control("ReplicateKey", s.text("region"), keyIds.get(s.text("key")),
            JSON.createObjectNode().put("KeyId", keyIds.get(s.text("key"))).put("ReplicaRegion", s.text("replicaRegion")),
            JSON.createObjectNode().put("replicaRegion", s.text("replicaRegion")));
        case "updatePrimaryRegion" -> control("UpdatePrimaryRegion", s.text("region"), keyIds.get(s.text("key")),
            JSON.createObjectNode().put("KeyId", keyIds.get(s.text("key"))).put("PrimaryRegion", s.text("primaryRegion")),
            JSON.createObjectNode().put("primaryRegion", s.text("primaryRegion")));
        case "rotateKeyOnDemand" -> control("RotateKeyOnDemand", s.text("region"), keyIds.get(s.text("key")),
            JSON.createObjectNode().put("KeyId", keyIds.get(s.text("key"))), JSON.createObjectNode());
        case "scheduleKeyDeletion" -> control("ScheduleKeyDeletion", s.text("region"), keyIds.get(s.text("key")),
            JSON.createObjectNode().put("KeyId", keyIds.get(s.text("key")))
                .put("PendingWindowInDays", Scenario.pendingWindowInDays(s)),
            JSON.createObjectNode().put("pendingWindowInDays", Scenario.pendingWindowInDays(s)));
        case "forcePromote" -> forcePromote(s.text("region"), keyIds.get(s.text("key")));
        case "sleep" -> Thread.sleep(Scenario.duration(s.args(), "sleep").toMillis());
        default -> throw new IllegalArgumentException("unknown action " + s.action());
      }
    } catch (IOException | IllegalArgumentException | IllegalStateException e) {
      // The step could not be applied (e.g. the admin endpoint of a paused node): recorded, the run goes on.
      ObjectNode n = history.record("control");
      n.put("id", history.nextId()).put("op", "Fault:" + s.action()).put("region", s.textOr("region", s.textOr("a", "")))
          .putNull("key").put("outcome", "fail").put("error", e.getClass().getSimpleName()).put("message", e.getMessage())
          .put("latencyMs", 0);
      n.set("args", s.args());
      history.add(n);
      say("step failed: " + s + ": " + e.getMessage());
    }
  }

  /** Control-plane calls wait longer than the workload's: a first CreateKey on a cold node may take seconds. */
  private static final Duration CONTROL_TIMEOUT = Duration.ofSeconds(30);

  private LabClient.Result control(String op, String region, String keyId, ObjectNode body, ObjectNode args) {
    LabClient.Result r = clients.get(region).call(op, body, CONTROL_TIMEOUT);
    ObjectNode n = history.record("control");
    String key = keyId != null ? keyId : r.ok() ? r.body().path("KeyMetadata").path("KeyId").asText(null) : null;
    n.put("id", history.nextId()).put("op", op).put("region", region).put("key", key).put("outcome", r.outcome());
    if (r.error() == null) n.putNull("error"); else n.put("error", r.error()).put("message", r.message());
    n.set("args", args);
    n.put("latencyMs", Math.round(r.latencyMs() * 1000) / 1000.0);
    history.add(n);
    if (!r.ok()) say(op + " in " + region + ": " + r.error() + " " + (r.message() == null ? "" : r.message()));
    return r;
  }

  private void forcePromote(String region, String keyId) throws IOException {
    long start = System.nanoTime();
    ObjectNode n;
    try {
      JsonNode status = faults.forcePromote(region, keyId);
      n = history.record("control");
      n.put("outcome", "ok").putNull("error");
      n.putObject("args").put("epoch", status.path("epoch").asLong());
    } catch (IOException | IllegalStateException e) {
      n = history.record("control");
      n.put("outcome", "fail").put("error", "ForcePromoteRefused").put("message", e.getMessage());
      n.putObject("args");
    }
    n.put("id", history.nextId()).put("op", "ForcePromote").put("region", region).put("key", keyId)
        .put("latencyMs", (System.nanoTime() - start) / 1e6);
    history.add(n);
  }

  // ---- fault windows

  private String open(String action, List<String> regions, JsonNode args) {
    synchronized (openWindows) {
      String id = "w" + (++windowCounter);
      openWindows.put(id, new OpenWindow(id, action, regions, args));
      ObjectNode n = history.record("fault");
      n.put("action", action).put("window", id).put("edge", "open");
      n.set("regions", JSON.valueToTree(regions));
      if (args.has("oneWay")) n.put("direction", args.path("oneWay").asBoolean() ? "one-way" : "both");
      if (args.isObject()) n.set("params", args);
      history.add(n);
      return id;
    }
  }

  /** The fault of window {@code id} could not be applied: the window closes at once. */
  private void abandon(String id) {
    synchronized (openWindows) {
      OpenWindow w = openWindows.remove(id);
      if (w == null) return;
      ObjectNode n = history.record("fault");
      n.put("action", "abandoned").put("window", id).put("edge", "close");
      n.set("regions", JSON.valueToTree(w.regions()));
      n.putObject("params").put("failed", true);
      history.add(n);
    }
  }

  /** Closes the open window opened by one of {@code openedBy} on exactly {@code regions}. */
  private void close(List<String> openedBy, List<String> regions, String action, boolean auto) {
    synchronized (openWindows) {
      for (var it = openWindows.values().iterator(); it.hasNext(); ) {
        OpenWindow w = it.next();
        if (openedBy.contains(w.action()) && new LinkedHashSet<>(w.regions()).equals(new LinkedHashSet<>(regions))) {
          it.remove();
          closeRecord(w, action, auto);
          return;
        }
      }
    }
  }

  /** Closes the partition and latency windows between {@code a} and {@code b}; with {@code a} null every one, clock windows too. */
  private void closeNetwork(String a, String b) {
    synchronized (openWindows) {
      for (var it = openWindows.values().iterator(); it.hasNext(); ) {
        OpenWindow w = it.next();
        boolean network = w.action().equals("partition") || w.action().equals("latency");
        // Healing everything (a == null) also restores every clock's speed.
        boolean clock = a == null && w.action().equals("clock");
        if (clock || network && (a == null || Set.copyOf(w.regions()).equals(Set.of(a, b)))) {
          it.remove();
          closeRecord(w, "heal", false);
        }
      }
    }
  }

  private void closeRecord(OpenWindow w, String action, boolean auto) {
    ObjectNode n = history.record("fault");
    n.put("action", action).put("window", w.id()).put("edge", "close");
    n.set("regions", JSON.valueToTree(w.regions()));
    if (auto) n.putObject("params").put("auto", true);
    history.add(n);
  }

  /** After the workload: everything still broken is repaired, so that convergence can be checked. */
  private void closeOpenWindows() {
    List<OpenWindow> open;
    synchronized (openWindows) {
      open = new ArrayList<>(openWindows.values());
      openWindows.clear();
    }
    for (OpenWindow w : open) {
      say("healing what is still open: " + w.action() + " " + w.regions());
      try {
        switch (w.action()) {
          case "crash", "stop" -> faults.restart(w.regions().get(0));
          case "pause" -> faults.resume(w.regions().get(0));
          case "clock" -> faults.resetClock(w.regions().get(0));
          default -> faults.heal(w.regions().get(0), w.regions().get(1));
        }
      } catch (IOException | IllegalStateException | IllegalArgumentException e) {
        say("could not heal " + w.action() + " " + w.regions() + ": " + e.getMessage());
      }
      closeRecord(w, switch (w.action()) {
        case "crash", "stop" -> "restart";
        case "pause" -> "resume";
        default -> "heal";
      }, true);
    }
  }

  // ---- settle, final views, verification

  /** Waits until every Region answers and every multi-Region key set agrees; ms taken, or -1. */
  private long settle() throws InterruptedException {
    long start = System.nanoTime();
    long deadline = start + scenario.settle().toNanos();
    try {
      processes.awaitAllReady(scenario.settle());
    } catch (IllegalStateException e) {
      say("not every Region came back: " + e.getMessage());
      return -1;
    }
    while (System.nanoTime() < deadline) {
      Map<String, Map<String, JsonNode>> v = views();
      if (v != null && converged(v)) return (System.nanoTime() - start) / 1_000_000L;
      Thread.sleep(250);
    }
    return -1;
  }

  /** Region -> keyId -> status, or null if a Region does not answer. */
  private Map<String, Map<String, JsonNode>> views() {
    Map<String, Map<String, JsonNode>> all = new TreeMap<>();
    for (RegionSpec s : specs) {
      JsonNode st = faults.status(s.name(), Duration.ofSeconds(10));
      if (st == null) return null;
      Map<String, JsonNode> keys = new TreeMap<>();
      for (JsonNode k : st.path("keys")) keys.put(k.path("keyId").asText(), k);
      all.put(s.name(), keys);
    }
    return all;
  }

  static boolean converged(Map<String, Map<String, JsonNode>> views) {
    Map<String, List<JsonNode>> byKey = new TreeMap<>();
    views.values().forEach(m -> m.forEach((id, k) -> byKey.computeIfAbsent(id, x -> new ArrayList<>()).add(k)));
    for (var e : byKey.entrySet()) {
      List<JsonNode> members = e.getValue();
      JsonNode first = members.get(0);
      for (JsonNode k : members) {
        String st = k.path("keyState").asText();
        if (st.equals("Creating") || st.equals("Updating") || k.path("pendingDeliveries").asInt() > 0) return false;
        if (first.path("multiRegionKeyType").isNull()) continue;
        if (!k.path("sharedDigest").equals(first.path("sharedDigest"))
            || !k.path("primaryRegion").equals(first.path("primaryRegion"))
            || !k.path("members").equals(first.path("members"))) {
          return false;
        }
      }
      // Every listed member must hold the key.
      if (!first.path("multiRegionKeyType").isNull() && first.path("members").size() != members.size()) return false;
    }
    return true;
  }

  private Map<String, Map<String, JsonNode>> finalViews() {
    Map<String, Map<String, JsonNode>> v = new TreeMap<>();
    for (RegionSpec s : specs) {
      JsonNode st = faults.status(s.name(), Duration.ofSeconds(10));
      Map<String, JsonNode> keys = new TreeMap<>();
      if (st != null) for (JsonNode k : st.path("keys")) keys.put(k.path("keyId").asText(), k);
      v.put(s.name(), keys);
    }
    Set<String> allKeys = new LinkedHashSet<>();
    v.values().forEach(m -> allKeys.addAll(m.keySet()));
    for (String keyId : allKeys) {
      boolean multiRegion = keyId.startsWith("mrk-");
      for (RegionSpec s : specs) {
        JsonNode k = v.get(s.name()).get(keyId);
        if (k == null && !multiRegion) continue; // a single-Region key lives in one Region only
        ObjectNode n = history.record("final");
        n.put("region", s.name()).put("key", keyId).put("exists", k != null);
        if (k != null) {
          n.put("state", k.path("keyState").asText());
          n.set("multiRegionKeyType", k.path("multiRegionKeyType"));
          n.set("primaryRegion", k.path("primaryRegion"));
          n.set("members", k.path("members"));
          n.put("epoch", k.path("epoch").asLong()).put("version", k.path("version").asLong());
          n.put("sharedDigest", k.path("sharedDigest").asText());
        }
        history.add(n);
      }
    }
    return v;
  }

  /** Decrypts every acknowledged ciphertext in every Region holding its key; describes every acknowledged key. */
  private void verify(Map<String, Map<String, JsonNode>> finals) throws InterruptedException {
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2 * specs.size());
    java.util.concurrent.atomic.AtomicInteger decrypts = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger();
    for (ObjectNode r : history.records()) {
      String type = r.path("type").asText();
      if (type.equals("complete") && r.path("outcome").asText().equals("ok") && r.hasNonNull("ciphertext")) {
        String keyId = r.path("key").asText();
        for (RegionSpec s : specs) {
          if (!finals.get(s.name()).containsKey(keyId)) continue;
          pool.execute(() -> {
            LabClient.Result d = clients.get(s.name()).call("Decrypt", JSON.createObjectNode()
                .put("CiphertextBlob", r.path("ciphertext").asText()).put("KeyId", keyId), CONTROL_TIMEOUT);
            boolean ok = d.ok();
            String error = d.error();
            if (ok && r.hasNonNull("plaintextDigest")) {
              String got = Workload.sha256(java.util.Base64.getDecoder().decode(d.body().path("Plaintext").asText()));
              if (!got.equals(r.path("plaintextDigest").asText())) {
                ok = false;
                error = "PlaintextMismatch";
              }
            }
            verifyRecord("decrypt", s.name(), keyId, r.path("id").asLong(), ok, error);
            decrypts.incrementAndGet();
            if (!ok) failures.incrementAndGet();
          });
        }
      } else if (type.equals("control") && r.path("outcome").asText().equals("ok")
          && (r.path("op").asText().equals("CreateKey") || r.path("op").asText().equals("ReplicateKey"))) {
        String region = r.path("op").asText().equals("CreateKey") ? r.path("region").asText()
            : r.path("args").path("replicaRegion").asText();
        String keyId = r.path("key").asText();
        pool.execute(() -> {
          LabClient.Result d = clients.get(region).call("DescribeKey", JSON.createObjectNode().put("KeyId", keyId), CONTROL_TIMEOUT);
          verifyRecord("describe", region, keyId, r.path("id").asLong(), d.ok(), d.error());
          if (!d.ok()) failures.incrementAndGet();
        });
      }
    }
    pool.shutdown();
    pool.awaitTermination(10, java.util.concurrent.TimeUnit.MINUTES);
    say("verified " + decrypts.get() + " decryptions across Regions (" + failures.get() + " failures)");
  }

  private void verifyRecord(String check, String region, String keyId, long ref, boolean ok, String error) {
    ObjectNode n = history.record("verify");
    n.put("check", check).put("region", region).put("key", keyId).put("ref", ref).put("ok", ok);
    if (error == null) n.putNull("error"); else n.put("error", error);
    history.add(n);
  }

  private void phase(String name, String edge) {
    ObjectNode n = history.record("phase");
    n.put("name", name).put("edge", edge);
    history.add(n);
  }

  private void say(String line) {
    if (options.progress() != null) {
      // Before the cluster is ready: seconds of start-up; then the scenario time t.
      double t = history == null ? (System.nanoTime() - createdNanos) / 1e9 : history.now() / 1000.0;
      options.progress().println("[" + scenario.name() + " " + String.format("%6.1fs", t) + "] " + line);
      options.progress().flush();
    }
  }

  /** The scenario's Regions, each on free loopback ports (the lab never collides with a running `up`). */
  private List<RegionSpec> onFreePorts(List<String> regions) {
    List<RegionSpec> l = new ArrayList<>();
    for (String r : regions) l.add(new RegionSpec(r, "127.0.0.1", freePort(), "127.0.0.1", freePort(), freePort()));
    return l;
  }

  /** Whether a node's log says it could not bind a port. */
  private static boolean portTaken(Path logDir) throws IOException {
    if (!Files.isDirectory(logDir)) return false;
    try (var logs = Files.list(logDir)) {
      for (Path log : logs.filter(p -> p.toString().endsWith(".log")).toList()) {
        if (Files.readString(log).contains("Address already in use")) return true;
      }
    }
    return false;
  }

  /** Keeps a failed start's logs beside the new ones ({@code <region>.log.start<N>}). */
  private static void archiveLogs(Path logDir, int attempt) throws IOException {
    try (var logs = Files.list(logDir)) {
      for (Path log : logs.filter(p -> p.toString().endsWith(".log")).toList()) {
        Files.move(log, log.resolveSibling(log.getFileName() + ".start" + attempt));
      }
    }
  }

  private static int freePort() {
    return io.kmsregions.region.Ports.freePort();
  }

}
