package io.kmsregions.region;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.kmsregions.KmsSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
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
  private final CompletableFuture<ActorRef<RegionDirectory.Command>> directory;
  private final CompletableFuture<Void> up = new CompletableFuture<>();

  private RegionNode(
      RegionSpec spec,
      ActorSystem<Void> system,
      CompletableFuture<ServerBinding> binding,
      CompletableFuture<ActorRef<RegionDirectory.Command>> directory) {
    this.spec = spec;
    this.system = system;
    this.binding = binding;
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
    CompletableFuture<ServerBinding> binding = new CompletableFuture<>();
    CompletableFuture<ActorRef<RegionDirectory.Command>> directory = new CompletableFuture<>();
    KmsSettings settings = KmsSettings.from(config);
    // The root key that seals key material in this Region's journal and snapshots, kept beside
    // (not inside) the LevelDB folders.
    javax.crypto.SecretKey rootKey = io.kmsregions.security.atrest.RootKey.loadOrCreate(
        Path.of(config.getString("pekko.persistence.journal.leveldb.dir")).getParent(), spec.name());
    ActorSystem<Void> system = ActorSystem.create(
        Guardian.create(settings, config.getString("kms.http.host"), config.getInt("kms.http.port"), binding,
            directory),
        SYSTEM_NAME,
        org.apache.pekko.actor.setup.ActorSystemSetup.create(
            org.apache.pekko.actor.BootstrapSetup.create(config),
            org.apache.pekko.serialization.jackson.JacksonObjectMapperProviderSetup.create(
                new io.kmsregions.security.atrest.SealingObjectMapperFactory(rootKey))));
    RegionNode node = new RegionNode(spec, system, binding, directory);
    system.getWhenTerminated().thenRun(() -> {
      IllegalStateException stopped = new IllegalStateException(spec.name() + " stopped");
      binding.completeExceptionally(stopped);
      node.up.completeExceptionally(stopped);
    });
    return node;
  }

  /** The configuration that makes a node the node of {@code spec}. */
  static Config nodeConfig(RegionSpec spec, List<RegionSpec> all, Path dataDir) {
    Path dir = dataDir.resolve(spec.name()).toAbsolutePath();
    Map<String, Object> c = new HashMap<>();
    c.put("kms.region", spec.name());
    c.put("kms.regions", all.stream().map(RegionSpec::name).toList());
    c.put("kms.http.host", spec.httpHost());
    c.put("kms.http.port", spec.httpPort());
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

  /** Completes when this node is an Up member of the cluster and its HTTP endpoint is bound. */
  public CompletionStage<ServerBinding> ready() {
    return up.thenCombine(binding, (u, b) -> b);
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

  /** Leaves the cluster and stops, running coordinated shutdown; waits up to {@code timeout}. */
  public void stop(Duration timeout) {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().orTimeout(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS).join();
  }
}
