package io.kmsregions.cli;

import com.typesafe.config.ConfigFactory;
import io.kmsregions.region.RegionNode;
import io.kmsregions.region.RegionSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code up}: starts every Region of {@code regions/} in this JVM, one ActorSystem each. */
@Command(name = "up", mixinStandardHelpOptions = true,
    description = "Start every Region defined in regions/ in one JVM, all in one cluster.")
final class UpCommand implements Callable<Integer> {

  @Option(names = "--data-dir", defaultValue = "data", description = "Data folder; each Region uses DIR/<region> (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--regions", defaultValue = "regions", description = "Folder of Region files (default: ${DEFAULT-VALUE}).")
  Path regionsDir;

  @Option(names = "--auth", description = "sigv4 (verify AWS SigV4 signatures against kms.auth.credentials) or open "
      + "(accept anyone; on a non-loopback address only when given here, with a warning). Default: kms.auth.mode, sigv4.")
  AuthOption.Mode auth;

  @Option(names = "--cluster-tls", description = "Run Artery between Regions over mutual TLS; generates a throwaway "
      + "cluster CA and node certificates under the data folder on first start (kms.cluster.tls.enabled).")
  boolean clusterTls;

  @Option(names = "--ready-timeout", defaultValue = "120", description = "Seconds to wait for every Region to be Up (default: ${DEFAULT-VALUE}).")
  int readyTimeout;

  @Override
  public Integer call() throws Exception {
    List<RegionSpec> regions;
    try {
      regions = RegionSpec.load(regionsDir);
    } catch (IllegalArgumentException e) {
      System.err.println("kms-regions up: " + e.getMessage());
      return 2;
    }
    List<RegionNode> nodes = new ArrayList<>();
    // One clock origin for every Region, so that a sped-up clock shows the same time everywhere.
    long origin = ConfigFactory.load().getLong("kms.clock.origin");
    var shared = ConfigFactory.parseString("kms.clock.origin = " + (origin == 0 ? System.currentTimeMillis() : origin))
        .withFallback(AuthOption.config(auth, clusterTls));
    for (RegionSpec r : regions) {
      nodes.add(RegionNode.start(r, regions, dataDir, shared));
      System.out.printf("%-16s http://%s:%d  (cluster %s:%d, data %s)%n", r.name(), r.httpHost(), r.httpPort(),
          r.clusterHost(), r.clusterPort(), dataDir.resolve(r.name()));
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      // Pekko's own hook runs each node's coordinated shutdown; say when all are done.
      for (RegionNode n : nodes) {
        n.system().getWhenTerminated().toCompletableFuture().completeOnTimeout(null, 25, TimeUnit.SECONDS).join();
      }
      System.out.println("kms-regions stopped");
      System.out.flush();
    }, "kms-regions-stopped"));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(readyTimeout);
    try {
      CompletableFuture.allOf(nodes.stream().map(n -> n.ready().toCompletableFuture())
          .toArray(CompletableFuture[]::new)).get(readyTimeout, TimeUnit.SECONDS);
      // Ready means every Region reaches every other, so a forwarded call does not meet a 503.
      for (RegionNode n : nodes) {
        while (n.reachableRegions().toCompletableFuture().get(5, TimeUnit.SECONDS).size() < regions.size() - 1) {
          if (System.nanoTime() > deadline) throw new IllegalStateException(n.spec().name() + " does not reach every other Region");
          Thread.sleep(100);
        }
      }
    } catch (Exception e) {
      System.err.println("kms-regions up: not every Region became ready: " + rootMessage(e));
      nodes.forEach(n -> n.system().terminate());
      return 1;
    }
    System.out.println("kms-regions ready: " + regions.size() + " Regions serving the KMS API (Ctrl-C to stop)");
    System.out.flush();
    for (RegionNode n : nodes) n.system().getWhenTerminated().toCompletableFuture().join();
    return 0;
  }

  static String rootMessage(Throwable e) {
    while (e.getCause() != null) e = e.getCause();
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }
}
