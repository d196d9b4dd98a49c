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
  private volatile Listener listener;

  /**
   * Told of every key whose state, role, primary, members, epoch or shared-properties version
   * changed (the laboratory's history, io.kmsregions.admin.NodeEventLog). Called on the key
   * actor's thread right after the change is persisted, so it must be quick.
   */
  public interface Listener {
    /** {@code before} is null when the key was not loaded (creation, or recovery after a start). */
    void changed(KeyEntity.Key before, KeyEntity.Key after);

    /** The key was deleted in this Region at the end of its waiting period. */
    void deleted(String keyId);
  }

  public void listen(Listener l) {
    this.listener = l;
  }

  /** The key's newest published state, or null if its actor has not recovered yet on this node. */
  public KeyEntity.Key get(String keyId) {
    return keys.get(keyId);
  }

  void publish(KeyEntity.Key key) {
    KeyEntity.Key before = keys.put(key.keyId(), key);
    Listener l = listener;
    if (l != null && (before == null || !sameSummary(before, key))) l.changed(before, key);
  }

  void deleted(String keyId) {
    keys.remove(keyId);
    Listener l = listener;
    if (l != null) l.deleted(keyId);
  }

  private static boolean sameSummary(KeyEntity.Key a, KeyEntity.Key b) {
    return a.keyState() == b.keyState()
        && java.util.Objects.equals(a.multiRegion(), b.multiRegion())
        && a.shared().version() == b.shared().version()
        && a.shared().generation() == b.shared().generation();
  }

  void evict(String keyId) {
    keys.remove(keyId);
  }
}
