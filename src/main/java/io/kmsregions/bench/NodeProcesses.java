package io.kmsregions.bench;

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
 * The default cluster as separate {@code node} processes (one JVM per Region, as in production),
 * started with this JVM's java and class path, their data and logs in a temporary folder; so the
 * load generator and the server do not share a JVM (they still share the machine's cores).
 */
public final class NodeProcesses implements AutoCloseable {
  private final Map<String, Process> processes = new LinkedHashMap<>();
  private final List<RegionSpec> specs;
  private final Path dir;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private NodeProcesses(List<RegionSpec> specs, Path dir) {
    this.specs = specs;
    this.dir = dir;
  }

  /**
   * Starts one {@code node} process per spec and waits until each answers /health naming every
   * other Region.
   *
   * @param jvmOptions extra JVM options of every node process (heap size, JFR)
   */
  public static NodeProcesses start(Path regionsDir, List<RegionSpec> specs, List<String> jvmOptions, Duration timeout) {
    Path dir;
    try {
      dir = Files.createTempDirectory("kms-regions-bench-nodes-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<RegionSpec> onPorts = LocalCluster.onFreePorts(specs, System.out);
    if (onPorts != specs) {
      // Write the moved Regions as Region files for the node processes.
      specs = onPorts;
      regionsDir = dir.resolve("regions");
      try {
        Files.createDirectories(regionsDir);
        for (RegionSpec s : specs) {
          Files.writeString(regionsDir.resolve(s.name() + ".conf"), "name = \"" + s.name() + "\"\n"
              + "http { host = \"" + s.httpHost() + "\", port = " + s.httpPort() + " }\n"
              + "cluster { host = \"" + s.clusterHost() + "\", port = " + s.clusterPort() + " }\n");
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    NodeProcesses n = new NodeProcesses(specs, dir);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    try {
      for (RegionSpec s : specs) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.kmsregions.cli.Main", "node",
            "--region", s.name(), "--data-dir", dir.resolve("data").toString(), "--regions", regionsDir.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
            .redirectOutput(dir.resolve(s.name() + ".log").toFile()).start();
        n.processes.put(s.name(), p);
      }
      n.awaitConnected(timeout);
    } catch (IOException e) {
      n.close();
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      n.close();
      throw e;
    }
    return n;
  }

  public Path dir() {
    return dir;
  }

  public long pid(String region) {
    return processes.get(region).pid();
  }

  public Endpoint endpoint(String name, String region) {
    RegionSpec s = specs.stream().filter(r -> r.name().equals(region)).findFirst().orElseThrow();
    return Endpoint.of(name, "http://" + s.httpHost() + ":" + s.httpPort(), region);
  }

  private void awaitConnected(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (RegionSpec s : specs) {
      while (true) {
        Process p = processes.get(s.name());
        if (!p.isAlive()) {
          throw new IllegalStateException(s.name() + " node exited with " + p.exitValue() + "; see " + dir.resolve(s.name() + ".log"));
        }
        String health = health(s);
        if (health != null && specs.stream().allMatch(o -> o == s || health.contains("\"" + o.name() + "\""))) break;
        if (System.nanoTime() > deadline) throw new IllegalStateException(s.name() + " node not ready; see " + dir);
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", e);
        }
      }
    }
  }

  private String health(RegionSpec s) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + s.httpHost() + ":" + s.httpPort() + "/health"))
          .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? r.body() : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** Stops every node (SIGTERM: coordinated shutdown), forcibly after 30 s; the data folder is deleted. */
  @Override
  public void close() {
    processes.values().forEach(Process::destroy);
    for (Process p : processes.values()) {
      try {
        if (!p.waitFor(30, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    processes.clear();
    try (var files = Files.walk(dir.resolve("data"))) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // temporary
    }
  }
}
