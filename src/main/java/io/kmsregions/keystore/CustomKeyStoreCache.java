package io.kmsregions.keystore;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This Region's custom key stores as their actor ({@link CustomKeyStores}) last persisted them,
 * and whether each external key store's proxy answered its last health check: what the API reads
 * on every call to a key in a custom key store, without asking the actor.
 */
public final class CustomKeyStoreCache {
  private volatile Map<String, CustomKeyStore> stores = Map.of();
  private final Set<String> unreachableProxies = ConcurrentHashMap.newKeySet();

  void publish(Map<String, CustomKeyStore> current) {
    stores = Map.copyOf(current);
  }

  void proxyHealth(String customKeyStoreId, boolean reachable) {
    if (reachable) unreachableProxies.remove(customKeyStoreId);
    else unreachableProxies.add(customKeyStoreId);
  }

  public Optional<CustomKeyStore> get(String customKeyStoreId) {
    return Optional.ofNullable(stores.get(customKeyStoreId));
  }

  public List<CustomKeyStore> all() {
    return List.copyOf(stores.values());
  }

  /**
   * Whether keys of this store can be used now: the store is CONNECTED and, for an external key
   * store, its proxy answered the last health check. Otherwise its Enabled and Disabled keys show
   * KeyState Unavailable (kms-api.md §6).
   */
  public boolean isAvailable(String customKeyStoreId) {
    CustomKeyStore s = stores.get(customKeyStoreId);
    return s != null && s.isConnected() && !unreachableProxies.contains(customKeyStoreId);
  }

  /** Whether the last health check of this external key store's proxy failed. */
  public boolean isProxyUnreachable(String customKeyStoreId) {
    return unreachableProxies.contains(customKeyStoreId);
  }
}
