package io.kmsregions.key;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The last cryptographic use of each key of one node, for GetKeyLastUsage (kms-api.md §2). Kept
 * in memory and off the key actors, so that recording a use costs the hot path one map write;
 * tracking therefore starts when the node starts ({@link #trackingStartDate()}), which
 * GetKeyLastUsage reports as {@code TrackingStartDate}. Each member of a multi-Region key tracks
 * its own use.
 */
public final class KeyUsageTracker {
  /**
   * One use.
   *
   * @param timestamp epoch milliseconds on the cluster clock
   */
  public record LastUsage(String operation, long timestamp, String requestId) {}

  private final Map<String, LastUsage> last = new ConcurrentHashMap<>();
  private final long trackingStartDate;

  /** @param trackingStartDate epoch milliseconds on the cluster clock */
  public KeyUsageTracker(long trackingStartDate) {
    this.trackingStartDate = trackingStartDate;
  }

  public void record(String keyId, String operation, long timestamp, String requestId) {
    last.put(keyId, new LastUsage(operation, timestamp, requestId));
  }

  /** The last use of {@code keyId} since tracking started, or null. */
  public LastUsage lastUsage(String keyId) {
    return last.get(keyId);
  }

  public long trackingStartDate() {
    return trackingStartDate;
  }
}
