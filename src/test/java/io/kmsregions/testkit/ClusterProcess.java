package io.kmsregions.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The {@code kms-regions} command line run as a real child JVM ({@code up} or {@code node}), for
 * tests that need what only a process gives: {@code kill -9}. Uses the test's own classpath, and
 * a Regions folder of its own with free ports.
 */
public final class ClusterProcess implements AutoCloseable {
  private final Process process;
  private final List<String> output = Collections.synchronizedList(new ArrayList<>());
  private final Thread reader;

  private ClusterProcess(Process process) {
    this.process = process;
    this.reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) output.add(line);
      } catch (IOException ignored) {
        // the process is gone
      }
    }, "cluster-process-output");
    reader.setDaemon(true);
    reader.start();
  }

  /** Writes one Region file per name into {@code dir}, with free HTTP and cluster ports. */
  public static List<Integer> writeRegions(Path dir, List<String> regions) throws IOException {
    Files.createDirectories(dir);
    List<Integer> httpPorts = new ArrayList<>();
    for (String r : regions) {
      int http = TestCluster.freePort();
      httpPorts.add(http);
      Files.writeString(dir.resolve(r + ".conf"), "name = \"" + r + "\"\n"
          + "http { host = \"127.0.0.1\", port = " + http + " }\n"
          + "cluster { host = \"127.0.0.1\", port = " + TestCluster.freePort() + " }\n"
          + "admin { port = " + TestCluster.freePort() + " }\n");
    }
    return httpPorts;
  }

  /**
   * Starts {@code java io.kmsregions.cli.Main args...} and waits for its {@code kms-regions ready:}
   * line. Fails, with the output and the tail of each node log under {@code --data-dir}, when the
   * process exits or says it gave up first ({@code up}'s "did not become ready" also contains the
   * word ready: a test once took that for readiness and failed later, on a stopped cluster).
   */
  public static ClusterProcess start(Duration readyWithin, String... args) throws IOException {
    String classpath = classpath();
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-cp", classpath, "io.kmsregions.cli.Main"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    ClusterProcess cp = new ClusterProcess(p);
    long deadline = System.nanoTime() + readyWithin.toNanos();
    while (!cp.saidLine(READY_LINE)) {
      if (!p.isAlive() || cp.saidLine(GAVE_UP_LINE) || System.nanoTime() > deadline) {
        // Why, before the kill below makes every process look killed.
        String why = p.isAlive() && !cp.saidLine(GAVE_UP_LINE)
            ? "no 'kms-regions ready:' line within " + readyWithin + " (load average "
                + java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage() + ")"
            : p.isAlive() ? "gave up" : "exited with " + p.exitValue();
        cp.kill();
        throw new AssertionError(why + " from " + String.join(" ", args) + "\n--- output ---\n" + cp.output()
            + nodeLogTails(args));
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted");
      }
    }
    return cp;
  }

  /** What {@code up} and {@code node} print once serving. */
  static final String READY_LINE = "kms-regions ready:";
  /** What {@code up} prints when a node did not become ready (it then stops the others and exits). */
  static final String GAVE_UP_LINE = "kms-regions up:";

  private boolean saidLine(String prefix) {
    synchronized (output) {
      for (String line : output) if (line.startsWith(prefix)) return true;
    }
    return false;
  }

  /** The last lines of each node log of {@code up --data-dir DIR} (in DIR/logs), for a failure message. */
  static String nodeLogTails(String... args) {
    int at = List.of(args).indexOf("--data-dir");
    if (at < 0 || at + 1 >= args.length) return "";
    Path logs = Path.of(args[at + 1]).resolve("logs");
    StringBuilder out = new StringBuilder();
    try (var files = Files.list(logs)) {
      for (Path log : files.sorted().toList()) {
        List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
        out.append("\n--- ").append(log.getFileName()).append(" (last 40 lines) ---\n")
            .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
      }
    } catch (IOException | java.io.UncheckedIOException e) {
      out.append("\n(no node logs in ").append(logs).append(": ").append(e).append(')');
    }
    return out.toString();
  }

  /**
   * This test JVM's classpath. Surefire runs tests from a manifest-only jar, whose Class-Path
   * attribute lists the real entries.
   */
  static String classpath() {
    return io.kmsregions.lab.RegionProcesses.ownClasspath();
  }


  public String output() {
    synchronized (output) {
      return String.join("\n", output);
    }
  }

  /**
   * SIGKILL to the process and every process it started (the node processes of {@code up}): no
   * shutdown hook, no journal close, no cluster leave.
   */
  public void kill() {
    List<ProcessHandle> family = new ArrayList<>(process.descendants().toList());
    family.forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    for (ProcessHandle h : family) {
      try {
        h.onExit().get(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        // gone, or not ours to wait for
      }
    }
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** SIGTERM, then waits for a clean exit. */
  public int terminate(Duration within) throws InterruptedException {
    process.toHandle().destroy(); // Process.destroy() would also close our end of its output
    if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
      kill();
      throw new AssertionError("did not stop within " + within + " of SIGTERM:\n" + output());
    }
    reader.join(5_000); // the last lines
    return process.exitValue();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public void close() {
    if (process.isAlive()) kill();
  }
}
