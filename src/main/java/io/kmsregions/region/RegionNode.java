package io.kmsregions.region;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.kmsregions.KmsSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import io.kmsregions.admin.LinkShaper;
import io.kmsregions.admin.NodeEventLog;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * One running Region: an ActorSystem that is a member of the cluster with data center = Region,
 * its LevelDB journal and snapshots under {@code dataDir/<region>}, and its HTTP endpoint.
 */
public final class RegionNode {
  /** The ActorSystem name, the same on every node of the cluster. */
  public static final String SYSTEM_NAME = "kms-regions";

  private final RegionSpec spec;
  private final ActorSystem<Void> system;
  private final CompletableFuture<ServerBinding> binding;
  private final CompletableFuture<Void> adminBound;
  private final CompletableFuture<ActorRef<RegionDirectory.Command>> directory;
  private final CompletableFuture<Void> up = new CompletableFuture<>();
  /** This Region's seeded keys exist (issue 8); 0 without a seed file. */
  private final CompletableFuture<Integer> seeded = new CompletableFuture<>();

  private RegionNode(
      RegionSpec spec,
      ActorSystem<Void> system,
      CompletableFuture<ServerBinding> binding,
      CompletableFuture<Void> adminBound,
      CompletableFuture<ActorRef<RegionDirectory.Command>> directory) {
    this.spec = spec;
    this.system = system;
    this.binding = binding;
    this.adminBound = adminBound;
    this.directory = directory;
    org.apache.pekko.cluster.Cluster.get(system).registerOnMemberUp(() -> up.complete(null));
  }

  /**
   * Starts the node of {@code spec}.
   *
   * @param all every Region of the cluster; their cluster addresses are the seed nodes
   * @param dataDir the parent of this Region's data folder
   * @param overrides configuration that wins over everything else (tests: ports, timings)
   */
  public static RegionNode start(RegionSpec spec, List<RegionSpec> all, Path dataDir, Config overrides) {
    Config base = overrides.withFallback(nodeConfig(spec, all, dataDir)).withFallback(ConfigFactory.load());
    // Artery over mutual TLS when kms.cluster.tls.enabled (io.kmsregions.security.tls.ClusterTls).
    Config config = io.kmsregions.security.tls.ClusterTls.config(base, dataDir.toAbsolutePath(), spec.name(),
        List.of(spec.clusterHost())).withFallback(base);
    try {
      // LevelDB creates only the last folder; several Regions starting at once must not race.
      Files.createDirectories(Path.of(config.getString("pekko.persistence.journal.leveldb.dir")));
      Files.createDirectories(Path.of(config.getString("pekko.persistence.snapshot-store.local.dir")));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create the data folder of " + spec.name(), e);
    }
    LinkShaper shaper = null;
    if (config.getBoolean("kms.faults.enabled")) {
      List<RegionSpec> sorted = all.stream().sorted(java.util.Comparator.comparing(RegionSpec::name)).toList();
      int index = sorted.indexOf(sorted.stream().filter(r -> r.name().equals(spec.name())).findFirst().orElseThrow());
      int arteryPort = freePort();
      try {
        // Artery binds an internal port; the shaper takes the canonical one (see LinkShaper).
        shaper = LinkShaper.start(new InetSocketAddress(spec.clusterHost(), spec.clusterPort()),
            new InetSocketAddress("127.0.0.1", arteryPort), address -> {
              byte[] b = address.getAddress();
              int i = b.length == 4 && b[0] == 127 && b[1] == 0 && b[2] == 0 ? (b[3] & 0xff) - 10 : -1;
              return i >= 0 && i < sorted.size() ? sorted.get(i).name() : null;
            });
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot listen on the cluster port " + spec.clusterHost() + ":" + spec.clusterPort()
            + " of " + spec.name() + ": " + e.getMessage(), e);
      }
      config = ConfigFactory.parseMap(Map.of(
              "pekko.remote.artery.advanced.test-mode", "on",
              "pekko.remote.artery.bind.hostname", "127.0.0.1",
              "pekko.remote.artery.bind.port", arteryPort,
              "pekko.remote.artery.advanced.tcp.outbound-client-hostname", "127.0.0." + (10 + index)))
          .withFallback(config);
    }
    String eventLogPath = config.getString("kms.lab.event-log");
    NodeEventLog eventLog = eventLogPath.isBlank() ? null
        : new NodeEventLog(spec.name(), Path.of(eventLogPath.replace("{region}", spec.name())));
    CompletableFuture<ServerBinding> binding = new CompletableFuture<>();
    CompletableFuture<ActorRef<RegionDirectory.Command>> directory = new CompletableFuture<>();
    KmsSettings settings = KmsSettings.from(config);
    // The root key that seals key material in this Region's journal and snapshots, kept beside
    // (not inside) the LevelDB folders.
    javax.crypto.SecretKey rootKey = io.kmsregions.security.atrest.RootKey.loadOrCreate(
        Path.of(config.getString("pekko.persistence.journal.leveldb.dir")).getParent(), spec.name());
    // A seed file is read before the node starts, so that an invalid one stops it at once.
    String seedPath = config.getString("kms.seed-file");
    io.kmsregions.seed.SeedFile seed;
    try {
      seed = seedPath.isBlank() ? null
          : io.kmsregions.seed.SeedFile.load(Path.of(seedPath), all.stream().map(RegionSpec::name).toList());
    } catch (RuntimeException e) {
      if (shaper != null) shaper.close();
      if (eventLog != null) eventLog.close();
      throw e;
    }
    CompletableFuture<Integer> seeded = new CompletableFuture<>();
    CompletableFuture<Void> adminBound = new CompletableFuture<>();
    Guardian.Admin admin = new Guardian.Admin(config.getString("kms.admin.host"), config.getInt("kms.admin.port"),
        all, shaper, eventLog, adminBound);
    ActorSystem<Void> system;
    try {
      system = ActorSystem.create(
          Guardian.create(settings, config.getString("kms.http.host"), config.getInt("kms.http.port"), binding,
              directory, admin, seed, seeded),
          SYSTEM_NAME,
          org.apache.pekko.actor.setup.ActorSystemSetup.create(
              org.apache.pekko.actor.BootstrapSetup.create(config),
              new KmsSettings.NodeSetup(settings), // the audit log dates its records on this node's clock
              org.apache.pekko.serialization.jackson.JacksonObjectMapperProviderSetup.create(
                  new io.kmsregions.security.atrest.SealingObjectMapperFactory(rootKey))));
    } catch (RuntimeException e) {
      if (shaper != null) shaper.close();
      throw e;
    }
    RegionNode node = new RegionNode(spec, system, binding, adminBound, directory);
    seeded.whenComplete((n, failure) -> {
      if (failure == null) node.seeded.complete(n);
      else node.seeded.completeExceptionally(failure);
    });
    LinkShaper s = shaper;
    system.getWhenTerminated().thenRun(() -> {
      IllegalStateException stopped = new NodeStopped(spec.name() + " stopped");
      binding.completeExceptionally(stopped);
      adminBound.completeExceptionally(stopped);
      node.up.completeExceptionally(stopped);
      node.seeded.completeExceptionally(stopped);
      if (s != null) s.close();
      if (eventLog != null) eventLog.close();
    });
    return node;
  }

  private static int freePort() {
    return io.kmsregions.region.Ports.freePort();
  }


  /** The configuration that makes a node the node of {@code spec}. */
  static Config nodeConfig(RegionSpec spec, List<RegionSpec> all, Path dataDir) {
    Path dir = dataDir.resolve(spec.name()).toAbsolutePath();
    Map<String, Object> c = new HashMap<>();
    c.put("kms.region", spec.name());
    c.put("kms.regions", all.stream().map(RegionSpec::name).toList());
    c.put("kms.http.host", spec.httpHost());
    c.put("kms.http.port", spec.httpPort());
    c.put("kms.admin.host", "0.0.0.0".equals(spec.httpHost()) ? "127.0.0.1" : spec.httpHost());
    c.put("kms.admin.port", spec.adminPort());
    c.put("pekko.remote.artery.canonical.hostname", spec.clusterHost());
    c.put("pekko.remote.artery.canonical.port", spec.clusterPort());
    c.put("pekko.cluster.multi-data-center.self-data-center", spec.name());
    c.put("pekko.cluster.seed-nodes", all.stream().map(r -> r.clusterAddress(SYSTEM_NAME)).toList());
    c.put("pekko.persistence.journal.leveldb.dir", dir.resolve("journal").toString());
    c.put("pekko.persistence.snapshot-store.local.dir", dir.resolve("snapshots").toString());
    return ConfigFactory.parseMap(c);
  }

  public RegionSpec spec() {
    return spec;
  }

  public ActorSystem<Void> system() {
    return system;
  }

  /**
   * Completes when this node is an Up member of the cluster, its HTTP and admin endpoints are bound
   * and its seeded keys exist; fails with a {@link io.kmsregions.seed.SeedException} on a seed
   * conflict, and with the bind failure when a port is taken.
   */
  public CompletionStage<ServerBinding> ready() {
    CompletableFuture<ServerBinding> ready = new CompletableFuture<>();
    CompletableFuture.allOf(up, binding, adminBound, seeded).whenComplete((v, failure) -> {
      if (failure == null) {
        ready.complete(binding.join());
        return;
      }
      // Several may fail at once (a refused bind or a seed conflict stops the node, which then
      // fails the rest with "stopped"): report the cause, not the consequence.
      Throwable chosen = null;
      for (CompletableFuture<?> f : List.of(seeded, binding, adminBound, up)) {
        Throwable cause = causeOf(f);
        if (cause != null && (chosen == null || chosen instanceof NodeStopped) && !(cause instanceof NodeStopped)) chosen = cause;
        if (cause != null && chosen == null) chosen = cause;
      }
      ready.completeExceptionally(chosen != null ? chosen : failure);
    });
    return ready;
  }

  private static Throwable causeOf(CompletableFuture<?> f) {
    if (!f.isCompletedExceptionally()) return null;
    try {
      f.join();
      return null;
    } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException e) {
      return e.getCause() != null ? e.getCause() : e;
    }
  }

  /** The node's ActorSystem terminated: a consequence, whose cause (if any) is reported instead. */
  static final class NodeStopped extends IllegalStateException {
    NodeStopped(String message) {
      super(message);
    }
  }

  /** The Regions this node reaches now, itself excluded. */
  public CompletionStage<List<String>> reachableRegions() {
    return directory.thenCompose(d -> AskPattern.<RegionDirectory.Command, RegionDirectory.ReachableRegions>ask(
            d, RegionDirectory.GetReachableRegions::new, Duration.ofSeconds(5), system.scheduler()))
        .thenApply(RegionDirectory.ReachableRegions::regions);
  }

  /** The HTTP port actually bound (differs from the spec's when it asked for port 0). */
  public int httpPort() {
    return binding.join().localAddress().getPort();
  }

  /**
   * Waits up to {@code timeout} for this node's ActorSystem to terminate (after {@link #stop} or
   * {@code system().terminate()}); false if it has not by then. Over tls-tcp, Pekko 1.7.0's Artery
   * may wait for a TLS stream without a deadline and never terminate (apache/pekko#3247).
   */
  public boolean awaitTerminated(Duration timeout) {
    return system.getWhenTerminated().toCompletableFuture().thenApply(t -> true)
        .completeOnTimeout(false, timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS).join();
  }

  /** Leaves the cluster and stops, running coordinated shutdown; waits up to {@code timeout}. */
  public void stop(Duration timeout) {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().orTimeout(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS).join();
  }
}
