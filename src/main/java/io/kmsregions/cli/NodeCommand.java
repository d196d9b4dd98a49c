package io.kmsregions.cli;

import com.typesafe.config.ConfigFactory;
import io.kmsregions.region.RegionNode;
import io.kmsregions.region.RegionSpec;
import io.kmsregions.security.tls.ClusterTls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code node}: runs one Region as its own process, joining the others through the seed nodes. */
@Command(name = "node", mixinStandardHelpOptions = true,
    description = "Run one Region as its own process; it joins the others through the seed nodes of regions/.")
final class NodeCommand implements Callable<Integer> {

  @Option(names = "--region", required = true, description = "The Region to run, as named in regions/.")
  String region;

  @Option(names = "--data-dir", defaultValue = "data", description = "Data folder; the Region uses DIR/<region> (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--regions", defaultValue = "regions", description = "Folder of Region files (default: ${DEFAULT-VALUE}).")
  Path regionsDir;

  @Option(names = "--http-host", description = "Address the HTTP endpoint binds (default: the Region file's).")
  String httpHost;

  @Option(names = "--cluster-hosts-are-region-names",
      description = "Reach every Region's node at the host named like the Region (docker-compose service names).")
  boolean hostsAreRegionNames;

  @Option(names = "--faults",
      description = "Fault support for the laboratory and `kms-regions fault`: Artery test mode (partitions) and the link shaper (latency, loss); loopback clusters only.")
  boolean faults;

  @Option(names = "--exit-with-parent", hidden = true,
      description = "Halt at once (as if killed) when the process that started this one dies: a supervisor's nodes never outlive it.")
  boolean exitWithParent;

  @picocli.CommandLine.Mixin
  NodeOptions nodeOptions = new NodeOptions();

  @Option(names = "--ready-timeout", defaultValue = "120", description = "Seconds to wait to be Up (default: ${DEFAULT-VALUE}).")
  int readyTimeout;

  @Override
  public Integer call() throws Exception {
    List<RegionSpec> regions;
    try {
      regions = RegionSpec.load(regionsDir);
    } catch (IllegalArgumentException e) {
      System.err.println("kms-regions node: " + e.getMessage());
      return 2;
    }
    if (hostsAreRegionNames) regions = regions.stream().map(r -> r.withClusterHost(r.name())).toList();
    RegionSpec spec = regions.stream().filter(r -> r.name().equals(region)).findFirst().orElse(null);
    if (spec == null) {
      System.err.println("kms-regions node: no Region '" + region + "' in " + regionsDir + "; known: "
          + regions.stream().map(RegionSpec::name).toList());
      return 2;
    }
    if (httpHost != null) spec = spec.withHttpHost(httpHost);
    var config = hostsAreRegionNames
        ? ConfigFactory.parseString("pekko.remote.artery.bind.hostname = \"0.0.0.0\"")
        : ConfigFactory.empty();
    if (faults) config = config.withFallback(ConfigFactory.parseString("kms.faults.enabled = on"));
    if (exitWithParent) {
      ProcessHandle.current().parent().ifPresent(parent -> parent.onExit().thenRun(() -> Runtime.getRuntime().halt(137)));
    }

    ClusterTls.Source tls;
    boolean newAuthority;
    try {
      var effective = nodeOptions.config().withFallback(config).withFallback(ConfigFactory.load());
      tls = ClusterTls.source(effective, dataDir);
      newAuthority = tls instanceof ClusterTls.Source.Generated g && !Files.exists(g.authority().resolve("ca.p12"));
      ClusterTls.prepare(effective, dataDir, List.of(spec.name()));
    } catch (IllegalStateException | java.io.UncheckedIOException e) {
      System.err.println("kms-regions node: " + e.getMessage());
      return 2;
    }

    RegionNode node;
    try {
      node = RegionNode.start(spec, regions, dataDir, nodeOptions.config().withFallback(config));
    } catch (io.kmsregions.seed.SeedException e) {
      System.err.println("kms-regions node: " + e.getMessage());
      return 2;
    }
    System.out.printf("%-16s http://%s:%d  (cluster %s:%d, admin %s, data %s)%n", spec.name(), spec.httpHost(), spec.httpPort(),
        spec.clusterHost(), spec.clusterPort(), spec.adminUrl(), dataDir.resolve(spec.name()));
    System.out.println("cluster links: " + ClusterTls.describe(tls));
    if (newAuthority && regions.size() > 1) {
      // Only a node of the same authority can join: Regions with another data folder must share it.
      System.out.println("cluster links: this node generated a new cluster CA; Regions started on another data folder "
          + "join only with a certificate it issued (share " + dataDir.toAbsolutePath().resolve("cluster-ca")
          + ", use `kms-regions tls generate` and KMS_CLUSTER_CERTS, or --no-cluster-tls everywhere)");
    }
    try {
      node.ready().toCompletableFuture().get(readyTimeout, TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable root = UpCommand.rootCause(e);
      System.err.println(root instanceof io.kmsregions.seed.SeedException
          ? "kms-regions node: " + root.getMessage()
          : "kms-regions node: " + spec.name() + " did not become ready: " + UpCommand.rootMessage(e));
      node.system().terminate();
      return 1;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      boolean terminated = node.system().getWhenTerminated().toCompletableFuture()
          .thenApply(t -> true).completeOnTimeout(false, 20, TimeUnit.SECONDS).join();
      if (!terminated) {
        // Pekko 1.7.0's Artery can wait without a deadline for a TLS stream on termination
        // (apache/pekko#3247): the journal is fsynced, so stop the process rather than hang.
        System.out.println("kms-regions stopped (forced: the cluster transport did not shut down within 20 s)");
        System.out.flush();
        Runtime.getRuntime().halt(0);
      }
      System.out.println("kms-regions stopped");
      System.out.flush();
    }, "kms-regions-stopped"));
    System.out.println("kms-regions ready: " + spec.name() + " serving the KMS API (Ctrl-C to stop)");
    System.out.flush();
    node.system().getWhenTerminated().toCompletableFuture().join();
    return 0;
  }
}
