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
   * @param binding completed with the HTTP binding, or failed if the port cannot be bound (the
   *     node then stops)
   * @param directoryRef completed with the node's {@link RegionDirectory}
   */
  public static Behavior<Void> create(
      KmsSettings settings,
      String httpHost,
      int httpPort,
      CompletableFuture<ServerBinding> binding,
      CompletableFuture<ActorRef<RegionDirectory.Command>> directoryRef) {
    return create(settings, httpHost, httpPort, binding, directoryRef, null, new CompletableFuture<>());
  }

  /**
   * @param seed keys to create at start (issue 8, seeded keys), or null
   * @param seeded completed with the number of this Region's seeded keys once they exist, or
   *     failed with a {@link io.kmsregions.seed.SeedException} (a conflict)
   */
  public static Behavior<Void> create(
      KmsSettings settings,
      String httpHost,
      int httpPort,
      CompletableFuture<ServerBinding> binding,
      CompletableFuture<ActorRef<RegionDirectory.Command>> directoryRef,
      io.kmsregions.seed.SeedFile seed,
      CompletableFuture<Integer> seeded) {
    return Behaviors.setup(ctx -> {
      KeyCache cache = new KeyCache();
      ActorRef<RegionDirectory.Command> directory = ctx.spawn(RegionDirectory.create(settings), "region-directory");
      directoryRef.complete(directory);
      // This Region's aliases and grants (never replicated); spawned before the keys, which tell
      // them when a key is deleted.
      AliasCache aliasCache = new AliasCache();
      ActorRef<AliasManager.Command> aliases = ctx.spawn(AliasManager.create(settings, aliasCache), "aliases");
      ActorRef<GrantStore.Command> grants = ctx.spawn(GrantStore.create(settings), "grants");
      ActorRef<KeyManager.Command> keys = ctx.spawn(KeyManager.create(settings, cache, directory), "keys");
      KmsApi api = new KmsApi(settings, ctx.getSystem(), keys, directory, cache, aliases, aliasCache, grants);
      ctx.spawn(RegionGateway.create(settings.region(), keys, api::handle), "region-gateway");
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
      return Behaviors.empty();
    });
  }
}
