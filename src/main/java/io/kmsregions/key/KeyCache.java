package io.kmsregions.key;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The newest state of every key actor of one node, published by the actor after each persisted
 * event and read by the API without an actor round trip. This keeps Encrypt and Decrypt off the
 * key's mailbox (DESIGN.md, "Speed and size"): the actor stays the only writer, and because it
 * publishes before it replies, a client that saw a change acknowledged reads it here.
 */
public final class KeyCache {
  private final Map<String, KeyEntity.Key> keys = new ConcurrentHashMap<>();

  /** The key's newest published state, or null if its actor has not recovered yet on this node. */
  public KeyEntity.Key get(String keyId) {
    return keys.get(keyId);
  }

  void publish(KeyEntity.Key key) {
    keys.put(key.keyId(), key);
  }

  void evict(String keyId) {
    keys.remove(keyId);
  }
}
