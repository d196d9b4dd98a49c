package io.kmsregions;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.List;

/**
 * The {@code kms.*} settings of one Region node (conf/application.conf), read once at start.
 *
 * @param region this node's Region, also its cluster data center
 * @param regions every Region of the cluster, from {@code regions/}
 * @param askTimeout how long the API waits for a key actor
 * @param forwardTimeout how long a request forwarded to another Region's node may take before 503
 * @param deliveryTimeout how long one cross-Region delivery attempt waits for its acknowledgement
 * @param minBackoff first retry delay of a failed cross-Region delivery; doubles up to maxBackoff
 * @param maxRequestBytes largest accepted HTTP request body
 * @param requestTimeout how long the KMS endpoint lets one request take before it answers
 *     DependencyTimeoutException (503) itself; a safety net, longer than every timeout inside
 * @param clock the cluster's (possibly sped-up) clock
 */
public record KmsSettings(
    String region,
    List<String> regions,
    String accountId,
    String partition,
    Duration askTimeout,
    Duration forwardTimeout,
    Duration deliveryTimeout,
    Duration minBackoff,
    Duration maxBackoff,
    int snapshotEvery,
    long maxRequestBytes,
    Duration requestTimeout,
    ClusterClock clock) {

  public static KmsSettings from(Config config) {
    Config kms = config.getConfig("kms");
    return new KmsSettings(
        kms.getString("region"),
        List.copyOf(kms.getStringList("regions")),
        kms.getString("account-id"),
        kms.getString("partition"),
        kms.getDuration("ask-timeout"),
        kms.getDuration("forward-timeout"),
        kms.getDuration("replication.delivery-timeout"),
        kms.getDuration("replication.min-backoff"),
        kms.getDuration("replication.max-backoff"),
        kms.getInt("snapshot-every"),
        kms.getBytes("http.max-request-bytes"),
        kms.getDuration("http.request-timeout"),
        ClusterClock.from(config));
  }

  /**
   * The settings a node was created with, handed to its ActorSystem at creation ({@link
   * org.apache.pekko.actor.setup.ActorSystemSetup}) so that its extensions use that very instance:
   * one clock per node, the one the laboratory's clock fault changes.
   */
  public static final class NodeSetup extends org.apache.pekko.actor.setup.Setup {
    private final KmsSettings settings;

    public NodeSetup(KmsSettings settings) {
      this.settings = settings;
    }
  }

  /**
   * The settings of the node {@code system} runs: those it was created with ({@link NodeSetup}), or
   * else those its configuration gives (an ActorSystem made without one, as some tests do).
   */
  public static KmsSettings of(org.apache.pekko.actor.typed.ActorSystem<?> system) {
    return system.settings().setup().get(NodeSetup.class).map(s -> s.settings)
        .orElseGet(() -> from(system.settings().config()));
  }

  /** The ARN of {@code keyId} in {@code inRegion}. */
  public String keyArn(String inRegion, String keyId) {
    return io.kmsregions.key.KeyArns.keyArn(partition, inRegion, accountId, keyId);
  }
}
