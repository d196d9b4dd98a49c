package io.kmsregions.lab;

import io.kmsregions.region.RegionSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Regions of a cluster as separate {@code node} processes (one JVM each) under this
 * process's control, so that a crash is a real {@code kill -9} and a pause a real
 * {@code SIGSTOP}/{@code SIGCONT} (issue 5). Used by {@code up} and the laboratory.
 *
 * <p>Every node runs with fault support (Artery test mode and the link shaper) and its admin
 * endpoint; its output goes to {@code logDir/<region>.log} (appended across restarts).
 */
public final class RegionProcesses implements AutoCloseable {
  /** What a Region's process is doing, as this supervisor made it. */
  public enum Condition { RUNNING, PAUSED, CRASHED, STOPPED }

  private final List<RegionSpec> specs;
  private final Path regionsDir;
  private final Path dataDir;
  private final Path logDir;
  private final List<String> jvmOptions;
  private final Map<String, String> properties;
  private final Map<String, Process> processes = new LinkedHashMap<>();
  // Where each node's current incarnation starts in its (appended) log.
  private final Map<String, Long> logOffsets = new LinkedHashMap<>();
  private final Map<String, Condition> conditions = new LinkedHashMap<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  /**
   * @param regionsDir the Region files the nodes read (must describe {@code specs})
   * @param properties configuration given to every node as {@code -Dkey=value}; a value containing
   *     {@code {region}} gets the node's Region (e.g. the event log's path)
   */
  public RegionProcesses(List<RegionSpec> specs, Path regionsDir, Path dataDir, Path logDir, List<String> jvmOptions,
      Map<String, String> properties) {
    this.specs = List.copyOf(specs);
    this.regionsDir = regionsDir;
    this.dataDir = dataDir;
    this.logDir = logDir;
    this.jvmOptions = List.copyOf(jvmOptions);
    this.properties = Map.copyOf(properties);
    for (RegionSpec s : specs) conditions.put(s.name(), Condition.STOPPED);
  }

  public List<RegionSpec> specs() {
    return specs;
  }

  public RegionSpec spec(String region) {
    return RegionSpec.named(specs, region);
  }

  public synchronized Condition condition(String region) {
    spec(region);
    Process p = processes.get(region);
    Condition c = conditions.get(region);
    if (c == Condition.RUNNING && p != null && !p.isAlive()) return Condition.CRASHED;
    return c;
  }

  private synchronized Condition conditionOf(String region) {
    return conditions.get(region);
  }

  private synchronized String exitValue(String region) {
    Process p = processes.get(region);
    return p == null || p.isAlive() ? "?" : Integer.toString(p.exitValue());
  }

  public synchronized long pid(String region) {
    Process p = processes.get(region);
    return p == null ? -1 : p.pid();
  }

  /**
   * This JVM's class path, for the node processes. A manifest-only jar (Maven Surefire's) is
   * replaced by the entries of its Class-Path attribute.
   */
  public static String ownClasspath() {
    String cp = System.getProperty("java.class.path");
    if (cp.contains(java.io.File.pathSeparator) || !cp.endsWith(".jar")) return cp;
    try (java.util.jar.JarFile jar = new java.util.jar.JarFile(cp)) {
      var manifest = jar.getManifest();
      String entries = manifest == null ? null : manifest.getMainAttributes().getValue("Class-Path");
      if (entries == null || jar.getEntry("io/kmsregions/cli/Main.class") != null) return cp;
      List<String> paths = new ArrayList<>();
      for (String e : entries.trim().split("\\s+")) paths.add(Path.of(URI.create(e)).toString());
      return String.join(java.io.File.pathSeparator, paths);
    } catch (IOException | IllegalArgumentException e) {
      return cp;
    }
  }

  /**
   * The Regions whose node died without this supervisor making it (not crash, stop or pause),
   * each with its exit code, reported once: they are marked CRASHED.
   */
  public synchronized Map<String, Integer> unexpectedExits() {
    Map<String, Integer> out = new LinkedHashMap<>();
    for (var e : processes.entrySet()) {
      if (conditions.get(e.getKey()) == Condition.RUNNING && !e.getValue().isAlive()) {
        conditions.put(e.getKey(), Condition.CRASHED);
        out.put(e.getKey(), e.getValue().exitValue());
      }
    }
    return out;
  }

  /** The log file of {@code region}'s node. */
  public Path log(String region) {
    return logDir.resolve(region + ".log");
  }

  /** Whether the current incarnation of {@code region}'s node printed its {@code kms-regions ready} line. */
  private boolean saidReady(String region) {
    Path log = logDir.resolve(region + ".log");
    long from;
    synchronized (this) {
      from = logOffsets.getOrDefault(region, 0L);
    }
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(log.toFile(), "r")) {
      if (f.length() <= from) return false;
      f.seek(from);
      byte[] rest = new byte[(int) Math.min(f.length() - from, 16 * 1024 * 1024)];
      f.readFully(rest);
      return new String(rest, java.nio.charset.StandardCharsets.UTF_8).contains("kms-regions ready:");
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * What {@code region}'s node said when it refused to start (its last {@code kms-regions node: …}
   * line, without that prefix), or null.
   */
  public String startFailure(String region) {
    Path log = logDir.resolve(region + ".log");
    try {
      if (!Files.exists(log)) return null;
      String found = null;
      for (String line : Files.readAllLines(log)) {
        if (line.startsWith("kms-regions node: ")) found = line.substring("kms-regions node: ".length());
      }
      return found;
    } catch (IOException | java.io.UncheckedIOException e) {
      return null;
    }
  }

  /** Starts every Region's node (not waiting). */
  public synchronized void startAll() {
    for (RegionSpec s : specs) start(s.name());
  }

  /** Starts {@code region}'s node; it must not be running. */
  public synchronized void start(String region) {
    RegionSpec s = spec(region);
    Process old = processes.get(region);
    if (old != null && old.isAlive()) throw new IllegalStateException(region + " is already running");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.addAll(jvmOptions);
    for (var e : properties.entrySet()) cmd.add("-D" + e.getKey() + "=" + e.getValue().replace("{region}", region));
    cmd.addAll(List.of("-cp", ownClasspath(), "io.kmsregions.cli.Main", "node",
        "--region", s.name(), "--data-dir", dataDir.toString(), "--regions", regionsDir.toString(), "--faults", "--exit-with-parent"));
    try {
      Files.createDirectories(logDir);
      Path log = logDir.resolve(region + ".log");
      logOffsets.put(region, Files.exists(log) ? Files.size(log) : 0L);
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(logDir.resolve(region + ".log").toFile())).start();
      processes.put(region, p);
      conditions.put(region, Condition.RUNNING);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot start the node of " + region, e);
    }
  }

  /** {@code kill -9}: the node dies at once, without leaving the cluster. */
  public synchronized void crash(String region) {
    Process p = processes.get(region);
    if (p == null || !p.isAlive()) throw new IllegalStateException(region + " is not running");
    if (conditions.get(region) == Condition.PAUSED) signal(p, "CONT"); // a stopped process dies on SIGKILL too, but be plain
    p.destroyForcibly();
    waitFor(p, Duration.ofSeconds(10));
    conditions.put(region, Condition.CRASHED);
  }

  /** Starts a crashed or stopped node again (a new incarnation on the same data). */
  public synchronized void restart(String region) {
    Condition c = condition(region);
    if (c == Condition.RUNNING || c == Condition.PAUSED) throw new IllegalStateException(region + " is " + c.name().toLowerCase());
    start(region);
  }

  /** {@code SIGSTOP}: the node freezes (its sockets stay open, nothing answers). */
  public synchronized void pause(String region) {
    Process p = processes.get(region);
    if (p == null || !p.isAlive() || conditions.get(region) != Condition.RUNNING) {
      throw new IllegalStateException(region + " is not running");
    }
    signal(p, "STOP");
    conditions.put(region, Condition.PAUSED);
  }

  /** {@code SIGCONT}: a paused node goes on where it stopped. */
  public synchronized void resume(String region) {
    Process p = processes.get(region);
    if (p == null || conditions.get(region) != Condition.PAUSED) throw new IllegalStateException(region + " is not paused");
    signal(p, "CONT");
    conditions.put(region, Condition.RUNNING);
  }

  /** SIGTERM and wait: the node leaves the cluster and stops cleanly. */
  public void stop(String region) {
    Process p;
    synchronized (this) {
      p = processes.get(region);
      if (p == null) return;
      if (conditions.get(region) == Condition.PAUSED) signal(p, "CONT");
      conditions.put(region, Condition.STOPPED);
    }
    // Not under the lock: several nodes stop in parallel.
    if (p.isAlive()) {
      p.destroy();
      if (!waitFor(p, Duration.ofSeconds(30))) {
        p.destroyForcibly();
        waitFor(p, Duration.ofSeconds(10));
      }
    }
  }

  /**
   * Waits until {@code region}'s node serves the KMS API and reaches every Region in
   * {@code mustReach} (its /health names them).
   *
   * @throws IllegalStateException when the node exits or the time runs out (naming its log)
   */
  public void awaitReady(String region, List<String> mustReach, Duration timeout) {
    RegionSpec s = spec(region);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Process p;
      synchronized (this) {
        p = processes.get(region);
      }
      if (p == null || !p.isAlive()) {
        throw new IllegalStateException(region + " node exited" + (p == null ? "" : " with " + p.exitValue())
            + "; see " + logDir.resolve(region + ".log"));
      }
      for (String other : mustReach) {
        // A node it waits for died (say, its start failed): no point waiting for the timeout.
        if (!other.equals(region) && condition(other) == Condition.CRASHED && conditionOf(other) == Condition.RUNNING) {
          throw new IllegalStateException(other + " node exited with " + exitValue(other) + "; see " + logDir.resolve(other + ".log"));
        }
      }
      // Ready is what the node itself says once it is Up, bound and seeded; /health then tells
      // whether it reaches the others (it answers before seeding is done).
      String health = saidReady(region) ? get(s.httpUrl() + "/health") : null;
      if (health != null && mustReach.stream().allMatch(o -> o.equals(region) || health.contains("\"" + o + "\""))) return;
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(region + " node not ready after " + timeout.toSeconds() + " s; see "
            + logDir.resolve(region + ".log"));
      }
      sleep(100);
    }
  }

  /** Waits until every running Region reaches every other running Region. */
  public void awaitAllReady(Duration timeout) {
    List<String> running = specs.stream().map(RegionSpec::name).filter(r -> condition(r) == Condition.RUNNING).toList();
    for (String r : running) awaitReady(r, running, timeout);
  }

  private String get(String url) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? r.body() : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static void signal(Process p, String signal) {
    try {
      Process k = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).redirectErrorStream(true).start();
      if (!k.waitFor(5, TimeUnit.SECONDS) || k.exitValue() != 0) {
        throw new IllegalStateException("kill -" + signal + " " + p.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot run kill -" + signal + " (needs the `kill` command)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  private static boolean waitFor(Process p, Duration d) {
    try {
      return p.waitFor(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** Stops every node cleanly (paused ones are resumed first), in parallel. */
  @Override
  public void close() {
    List<Thread> stoppers = new ArrayList<>();
    for (RegionSpec s : specs) {
      Thread t = new Thread(() -> stop(s.name()), "stop-" + s.name());
      t.start();
      stoppers.add(t);
    }
    for (Thread t : stoppers) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
