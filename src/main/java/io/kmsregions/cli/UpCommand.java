package io.kmsregions.cli;

import com.typesafe.config.ConfigFactory;
import io.kmsregions.lab.RegionProcesses;
import io.kmsregions.lab.SupervisorServer;
import io.kmsregions.region.RegionSpec;
import io.kmsregions.seed.SeedException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code up}: starts every Region of {@code regions/} as its own {@code node} process (one JVM
 * each, as in production, and so that {@code kms-regions fault crash} is a real {@code kill -9}),
 * supervises them, and stops them all on Ctrl-C or SIGTERM.
 */
@Command(name = "up", mixinStandardHelpOptions = true,
    description = "Start every Region defined in regions/, each as its own node process, all in one cluster.")
final class UpCommand implements Callable<Integer> {

  @Option(names = "--data-dir", defaultValue = "data", description = "Data folder; each Region uses DIR/<region>, logs go to DIR/logs (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--regions", defaultValue = "regions", description = "Folder of Region files (default: ${DEFAULT-VALUE}).")
  Path regionsDir;

  @picocli.CommandLine.Mixin
  NodeOptions nodeOptions = new NodeOptions();

  @Option(names = "--ready-timeout", defaultValue = "120", description = "Seconds to wait for every Region to be Up (default: ${DEFAULT-VALUE}).")
  int readyTimeout;

  @Option(names = "--supervisor-port", defaultValue = "4565",
      description = "Loopback port where `kms-regions fault crash|restart|pause|resume` reach this supervisor (default: ${DEFAULT-VALUE}; -1: none).")
  int supervisorPort;

  @Option(names = "--node-jvm-options", split = " ", defaultValue = "-Xmx512m -XX:+UseSerialGC",
      description = "JVM options of each node process (default: ${DEFAULT-VALUE}).")
  List<String> nodeJvmOptions = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    List<RegionSpec> regions;
    try {
      regions = RegionSpec.load(regionsDir);
    } catch (IllegalArgumentException e) {
      System.err.println("kms-regions up: " + e.getMessage());
      return 2;
    }
    // One clock origin for every Region, so that a sped-up clock shows the same time everywhere.
    long origin = ConfigFactory.load().getLong("kms.clock.origin");
    Path data = dataDir.toAbsolutePath();
    Map<String, String> props = new java.util.HashMap<>();
    props.put("kms.clock.origin", Long.toString(origin == 0 ? System.currentTimeMillis() : origin));
    // --seed, --auth and --[no-]cluster-tls reach every node process as configuration.
    props.putAll(nodeOptions.properties());
    Path seedFile = nodeOptions.seedFile;
    if (seedFile != null) {
      try {
        // Read once here, so that an invalid file stops `up` before any node starts.
        io.kmsregions.seed.SeedFile.load(seedFile, regions.stream().map(RegionSpec::name).toList());
      } catch (SeedException e) {
        System.err.println("kms-regions up: " + e.getMessage());
        return 2;
      }
    }
    io.kmsregions.security.tls.ClusterTls.Source tls;
    try {
      // The cluster CA is made here, once, before any node starts (they share this data folder);
      // each node then issues or loads only its own certificate.
      tls = io.kmsregions.security.tls.ClusterTls.prepare(nodeOptions.config().withFallback(ConfigFactory.load()),
          data, regions.stream().map(RegionSpec::name).toList());
    } catch (IllegalStateException | java.io.UncheckedIOException e) {
      System.err.println("kms-regions up: " + e.getMessage());
      return 2;
    }
    RegionProcesses nodes = new RegionProcesses(regions, regionsDir.toAbsolutePath(), data, data.resolve("logs"),
        nodeJvmOptions, props);
    SupervisorServer supervisor = null;
    if (supervisorPort >= 0) {
      try {
        supervisor = SupervisorServer.start(supervisorPort, nodes);
      } catch (java.io.IOException e) {
        System.err.println("kms-regions up: cannot listen on supervisor port " + supervisorPort + " (" + e.getMessage()
            + "); is another `up` running? Use --supervisor-port.");
        return 2;
      }
    }
    SupervisorServer s = supervisor;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      nodes.close();
      if (s != null) s.close();
      System.out.println("kms-regions stopped");
      System.out.flush();
    }, "kms-regions-stopped"));
    nodes.startAll();
    System.out.println("cluster links: " + io.kmsregions.security.tls.ClusterTls.describe(tls));
    for (RegionSpec r : regions) {
      System.out.printf("%-16s http://%s:%d  (cluster %s:%d, admin %s, data %s, log %s)%n", r.name(), r.httpHost(),
          r.httpPort(), r.clusterHost(), r.clusterPort(), r.adminUrl(), data.resolve(r.name()),
          data.resolve("logs").resolve(r.name() + ".log"));
    }
    try {
      // Ready means every Region reaches every other, so a forwarded call does not meet a 503.
      nodes.awaitAllReady(Duration.ofSeconds(readyTimeout));
    } catch (IllegalStateException e) {
      // A node that refused to start (a seed conflict, a port taken) said why: say that, on one line.
      String reason = null;
      for (RegionSpec r : regions) {
        if (nodes.condition(r.name()) == RegionProcesses.Condition.CRASHED && nodes.startFailure(r.name()) != null) {
          reason = nodes.startFailure(r.name());
        }
      }
      System.err.println("kms-regions up: " + (reason != null ? reason : "not every Region became ready: " + e.getMessage()));
      nodes.close();
      if (s != null) s.close();
      return 1;
    }
    System.out.println("kms-regions ready: " + regions.size() + " Regions serving the KMS API (Ctrl-C to stop)"
        + (s == null ? "" : "; faults: kms-regions fault --help"));
    System.out.flush();
    // Until SIGTERM or Ctrl-C (the hook stops the nodes); meanwhile say when a node dies by itself.
    while (true) {
      Thread.sleep(1000);
      nodes.unexpectedExits().forEach((region, code) -> {
        String why = nodes.startFailure(region);
        System.err.println("kms-regions up: the node of " + region + " exited with " + code
            + (why != null ? " (" + why + ")" : "") + "; see " + nodes.log(region)
            + "; `kms-regions fault restart " + region + "` starts it again");
      });
    }
  }

  static Throwable rootCause(Throwable e) {
    while (e.getCause() != null) e = e.getCause();
    return e;
  }

  static String rootMessage(Throwable e) {
    while (e.getCause() != null) e = e.getCause();
    return e.getMessage() == null ? e.toString() : e.getMessage();
  }
}
