package io.kmsregions.alias;

import io.kmsregions.KmsSettings;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.NavigableMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;

/**
 * The aliases of this node's Region as the {@link AliasManager} last persisted them, readable by
 * the API without an actor round trip (like {@code KeyCache} for keys): KeyId parameters that name
 * an alias are resolved here, synchronously, and ListAliases pages through it in name order.
 *
 * <p>The manager is the only writer. It publishes each change after persisting it and before
 * replying, and the whole set once its recovery completes; until then {@link #isLoaded()} is false
 * and the API waits on {@link #whenLoaded} rather than answer "alias not found" for an alias that
 * exists.
 */
public final class AliasCache {
  private final ConcurrentSkipListMap<String, AliasManager.Alias> aliases = new ConcurrentSkipListMap<>();
  private final CompletableFuture<Void> loaded = new CompletableFuture<>();

  /** The alias named {@code aliasName} ({@code alias/...}), or null. */
  public AliasManager.Alias get(String aliasName) {
    return aliases.get(aliasName);
  }

  /** Every alias, in name order; a live, weakly consistent, read-only view. */
  public NavigableMap<String, AliasManager.Alias> all() {
    return Collections.unmodifiableNavigableMap(aliases);
  }

  /** True once the manager has recovered and published every alias. */
  public boolean isLoaded() {
    return loaded.isDone();
  }

  /** Completes when the cache is loaded, or fails with a TimeoutException after {@code max}. */
  public CompletionStage<Void> whenLoaded(Duration max) {
    return loaded.copy().orTimeout(max.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The ARN of an alias of this node's Region. */
  public static String aliasArn(KmsSettings settings, String aliasName) {
    return "arn:" + settings.partition() + ":kms:" + settings.region() + ":" + settings.accountId() + ":" + aliasName;
  }

  /** After each recovery (also after a restart of the manager): never empty in between. */
  void load(Collection<AliasManager.Alias> all) {
    java.util.Set<String> names = new java.util.HashSet<>();
    for (AliasManager.Alias a : all) {
      aliases.put(a.aliasName(), a);
      names.add(a.aliasName());
    }
    aliases.keySet().retainAll(names);
    loaded.complete(null);
  }

  void put(AliasManager.Alias alias) {
    aliases.put(alias.aliasName(), alias);
  }

  void remove(String aliasName) {
    aliases.remove(aliasName);
  }
}
