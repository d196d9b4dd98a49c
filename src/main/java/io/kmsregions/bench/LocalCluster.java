package io.kmsregions.bench;

import com.typesafe.config.Config;
import io.kmsregions.region.RegionNode;
import io.kmsregions.region.RegionSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Region nodes started in this JVM for the bench (as {@code up} does): each spec's
 * {@link RegionNode#start}, then wait until every node is Up, bound, and reaches every other.
 */
public final class LocalCluster implements AutoCloseable {
  private final List<RegionSpec> specs;
  private final Path dataDir;
  private final Config overrides;
  private final Map<String, RegionNode> nodes = new LinkedHashMap<>();
  private final boolean deleteData;

  private LocalCluster(List<RegionSpec> specs, Path dataDir, Config overrides, boolean deleteData) {
    this.specs = specs;
    this.dataDir = dataDir;
    this.overrides = overrides;
    this.deleteData = deleteData;
  }

  /** Starts every Region of {@code specs} with its data under {@code dataDir} (a temporary folder when null). */
  public static LocalCluster start(List<RegionSpec> specs, Path dataDir, Config overrides, Duration readyTimeout) {
    boolean temp = dataDir == null;
    try {
      if (temp) dataDir = Files.createTempDirectory("kms-regions-bench-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    LocalCluster c = new LocalCluster(specs, dataDir, overrides, temp);
    try {
      for (RegionSpec s : specs) c.nodes.put(s.name(), RegionNode.start(s, specs, dataDir, overrides));
      c.awaitReady(readyTimeout);
    } catch (RuntimeException e) {
      c.close();
      throw e;
    }
    return c;
  }

  /**
   * {@code specs} as they are when all their ports are free on this machine; otherwise (another
   * cluster or test is running) the same Regions on free loopback ports.
   */
  public static List<RegionSpec> onFreePorts(List<RegionSpec> specs, java.io.PrintStream out) {
    boolean busy = specs.stream().anyMatch(s -> !free(s.httpHost(), s.httpPort()) || !free(s.clusterHost(), s.clusterPort()));
    if (!busy) return specs;
    List<RegionSpec> moved = new ArrayList<>();
    for (RegionSpec s : specs) {
      moved.add(new RegionSpec(s.name(), "127.0.0.1", RecoveryBench.freePort(), "127.0.0.1", RecoveryBench.freePort()));
    }
    out.println("the ports of " + specs.stream().map(RegionSpec::name).toList()
        + " are in use on this machine: the bench's cluster uses free ports instead");
    return moved;
  }

  private static boolean free(String host, int port) {
    try (java.net.ServerSocket s = new java.net.ServerSocket()) {
      s.bind(new java.net.InetSocketAddress(host, port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Starts {@code region} again on the same data and ports; returns without waiting. */
  public RegionNode startAgain(String region) {
    RegionSpec spec = specs.stream().filter(s -> s.name().equals(region)).findFirst().orElseThrow();
    RegionNode n = RegionNode.start(spec, specs, dataDir, overrides);
    nodes.put(region, n);
    return n;
  }

  /** Stops {@code region}'s node and waits until it is terminated. */
  public void stop(String region) {
    RegionNode n = nodes.remove(region);
    if (n != null) n.stop(Duration.ofSeconds(60));
  }

  public void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      for (RegionNode n : nodes.values()) {
        n.ready().toCompletableFuture().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      }
      for (RegionNode n : nodes.values()) {
        while (n.reachableRegions().toCompletableFuture().get(5, TimeUnit.SECONDS).size() < nodes.size() - 1) {
          if (System.nanoTime() > deadline) throw new IllegalStateException(n.spec().name() + " does not reach every other Region");
          Thread.sleep(50);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (Exception e) {
      throw new IllegalStateException("the bench's cluster did not become ready: " + e, e);
    }
  }

  public RegionNode node(String region) {
    return nodes.get(region);
  }

  public List<RegionSpec> specs() {
    return specs;
  }

  public Path dataDir() {
    return dataDir;
  }

  /** The HTTP endpoint of {@code region}'s node. */
  public Endpoint endpoint(String name, String region) {
    RegionNode n = nodes.get(region);
    if (n == null) throw new IllegalArgumentException("no Region " + region + " in this cluster; have " + nodes.keySet());
    return Endpoint.of(name, "http://" + n.spec().httpHost() + ":" + n.httpPort(), region);
  }

  @Override
  public void close() {
    for (RegionNode n : new ArrayList<>(nodes.values())) n.system().terminate();
    for (RegionNode n : nodes.values()) n.awaitTerminated(Duration.ofSeconds(30)); // the JVM exits anyway (cli.Main)
    nodes.clear();
    if (deleteData) {
      try (Stream<Path> files = Files.walk(dataDir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException ignored) {
        // a temporary folder; the OS cleans it eventually
      }
    }
  }
}
