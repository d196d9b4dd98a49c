package io.kmsregions.region;

import io.kmsregions.KmsSettings;
import io.kmsregions.alias.AliasCache;
import io.kmsregions.alias.AliasManager;
import io.kmsregions.api.KmsApi;
import io.kmsregions.api.KmsHttpServer;
import io.kmsregions.grant.GrantStore;
import io.kmsregions.key.KeyCache;
import io.kmsregions.key.KeyManager;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * The root actor of a Region node: starts the directory of other Regions, the key manager, the
 * gateway for other Regions and the HTTP front. It holds no logic of its own.
 */
public final class Guardian {
  private Guardian() {}

  /**
   * The node's admin side (issue 5): its endpoint, the Regions of the cluster, the link shaper when
   * fault support is on (else null) and the laboratory's event log (else null).
   *
   * @param port the admin endpoint's port, or -1 for none
   * @param bound completed when the admin endpoint is bound (at once without one), or failed if its
   *     port cannot be bound (the node then stops)
   */
  public record Admin(String host, int port, java.util.List<io.kmsregions.region.RegionSpec> regions,
      io.kmsregions.admin.LinkShaper shaper, io.kmsregions.admin.NodeEventLog eventLog,
      CompletableFuture<Void> bound) {}

  /**
   * @param binding completed with the HTTP binding, or failed if the port cannot be bound (the
   *     node then stops)
   * @param directoryRef completed with the node's {@link RegionDirectory}
   */
  public static Behavior<Void> create(
      KmsSettings settings,
      String httpHost,
      int httpPort,
      CompletableFuture<ServerBinding> binding,
      CompletableFuture<ActorRef<RegionDirectory.Command>> directoryRef,
      Admin admin,
      io.kmsregions.seed.SeedFile seed,
      CompletableFuture<Integer> seeded) {
    return Behaviors.setup(ctx -> {
      try {
        return start(ctx, settings, httpHost, httpPort, binding, directoryRef, admin, seed, seeded);
      } catch (RuntimeException e) {
        // The node stops; its readiness reports why, not only that it stopped.
        binding.completeExceptionally(e);
        admin.bound().completeExceptionally(e);
        throw e;
      }
    });
  }

  private static Behavior<Void> start(
      org.apache.pekko.actor.typed.javadsl.ActorContext<Void> ctx,
      KmsSettings settings,
      String httpHost,
      int httpPort,
      CompletableFuture<ServerBinding> binding,
      CompletableFuture<ActorRef<RegionDirectory.Command>> directoryRef,
      Admin admin,
      io.kmsregions.seed.SeedFile seed,
      CompletableFuture<Integer> seeded) {
    KeyCache cache = new KeyCache();
    if (admin.eventLog() != null) {
      cache.listen(admin.eventLog());
      ctx.spawn(io.kmsregions.admin.MembershipRecorder.create(admin.eventLog()), "membership-recorder");
    }
    // Key material crossing Regions is sealed for the receiving node (issue 7, "In transit").
    var transit = io.kmsregions.security.transit.TransitSealing.create(settings.region());
    ActorRef<RegionDirectory.Command> directory = ctx.spawn(RegionDirectory.create(settings, transit), "region-directory");
    directoryRef.complete(directory);
    // This Region's aliases and grants (never replicated); spawned before the keys, which tell
    // them when a key is deleted.
    AliasCache aliasCache = new AliasCache();
    ActorRef<AliasManager.Command> aliases = ctx.spawn(AliasManager.create(settings, aliasCache), "aliases");
    ActorRef<GrantStore.Command> grants = ctx.spawn(GrantStore.create(settings), "grants");
    ActorRef<KeyManager.Command> keys = ctx.spawn(KeyManager.create(settings, cache, directory), "keys");
    // This Region's custom key stores, the CloudHSM clusters it simulates, and the client of
    // external key store proxies (issue 8).
    var config = ctx.getSystem().settings().config();
    var cloudHsm = io.kmsregions.keystore.cloudhsm.SimulatedCloudHsm.fromConfig(config, settings.region());
    var proxies = io.kmsregions.keystore.xks.XksProxyClients.create(config, settings.region());
    var storeCache = new io.kmsregions.keystore.CustomKeyStoreCache();
    var stores = ctx.spawn(io.kmsregions.keystore.CustomKeyStores.create(settings, storeCache, cloudHsm,
        proxies::health), "custom-key-stores");
    var keyStores = new io.kmsregions.keystore.KeyStoreServices(stores, storeCache, cloudHsm, proxies);
    KmsApi api = new KmsApi(settings, ctx.getSystem(), keys, directory, cache, aliases, aliasCache, grants, keyStores);
    ctx.spawn(RegionGateway.create(settings.region(), keys, api::handle, transit), "region-gateway");
    if (seed == null) {
      seeded.complete(0);
    } else {
      new io.kmsregions.seed.SeedLoader(seed, settings, ctx.getSystem(), keys, aliases, aliasCache, api.defaultPolicy())
          .load().whenComplete((n, failure) -> {
            if (failure == null) seeded.complete(n);
            else seeded.completeExceptionally(failure instanceof java.util.concurrent.CompletionException c
                && c.getCause() != null ? c.getCause() : failure);
          });
    }
    var system = ctx.getSystem();
    new KmsHttpServer(settings, system, api, directory).bind(httpHost, httpPort)
        .whenComplete((b, failure) -> {
          if (failure != null) {
            system.log().error("Cannot serve HTTP on {}:{}: {}", httpHost, httpPort, failure.getMessage());
            binding.completeExceptionally(failure);
            system.terminate();
          } else {
            binding.complete(b);
          }
        });
    if (admin.port() >= 0) {
      var faults = new io.kmsregions.admin.Faults(system, settings.region(), admin.regions(), admin.shaper(),
          settings.clock());
      // A node starts healed. (Artery's test state may outlive a node in the same JVM: tests, `up`.)
      if (faults.enabled()) faults.heal(null);
      new io.kmsregions.admin.AdminServer(settings, system, keys, faults, cloudHsm).bind(admin.host(), admin.port())
          .whenComplete((b, failure) -> {
            if (failure != null) {
              system.log().error("Cannot serve the admin endpoint on {}:{}: {}", admin.host(), admin.port(),
                  failure.getMessage());
              // Its own future: the HTTP binding may have completed already.
              admin.bound().completeExceptionally(failure);
              system.terminate();
            } else {
              admin.bound().complete(null);
            }
          });
    } else {
      admin.bound().complete(null);
    }
    return Behaviors.empty();
  }
}
