package io.kmsregions.admin;

import io.kmsregions.ClusterClock;
import io.kmsregions.region.RegionSpec;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.AddressFromURIString;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.remote.RARP;
import org.apache.pekko.remote.transport.ThrottlerTransportAdapter;
import scala.jdk.javaapi.FutureConverters;

/**
 * The network faults one node applies to its own cluster traffic (the laboratory, issue 5):
 * partitions through Artery's test-mode blackhole ({@code pekko.remote.artery.advanced.test-mode}),
 * which drops the real cluster messages so that the failure detector and membership react, and
 * latency and loss through the {@link LinkShaper} in front of this node's Artery port, and the
 * clock fault: this node's {@link ClusterClock} runs a given factor faster (or slower) than the
 * configured scale, so lifecycle timers (deletion windows, rotations) run fast in this Region only.
 *
 * <p>A two-way partition between A and B is applied on both nodes (each blackholes the other), so
 * that it holds even while one side restarts. Faults live in memory: a restarted node starts healed.
 */
public final class Faults {
  /** Which way a partition cuts: {@code both}, {@code outbound} (this node to the peer only), {@code inbound}. */
  public enum Direction { both, outbound, inbound }

  private final ActorSystem<?> system;
  private final String region;
  private final Map<String, RegionSpec> regions = new TreeMap<>();
  private final LinkShaper shaper; // null when this node runs without fault support
  private final Map<String, Direction> partitions = new TreeMap<>();
  private final ClusterClock clock;

  /**
   * @param shaper the link shaper of a node with fault support, or null
   * @param clock this node's clock, the one its keys and API use
   */
  public Faults(ActorSystem<?> system, String region, List<RegionSpec> all, LinkShaper shaper, ClusterClock clock) {
    this.system = system;
    this.clock = clock;
    this.region = region;
    for (RegionSpec r : all) regions.put(r.name(), r);
    this.shaper = shaper;
  }

  /** Whether this node was started with fault support (test mode and the link shaper). */
  public boolean enabled() {
    return shaper != null;
  }

  /**
   * Cuts the cluster traffic between this node and {@code peer}'s node.
   *
   * @throws IllegalArgumentException for an unknown Region, this node's own Region, or a node
   *     without fault support
   */
  public synchronized CompletionStage<Void> partition(String peer, Direction direction) {
    Address address = peerAddress(peer);
    partitions.put(peer, direction);
    ThrottlerTransportAdapter.Direction d = switch (direction) {
      case both -> direction("Both");
      case outbound -> direction("Send");
      case inbound -> direction("Receive");
    };
    return command(new ThrottlerTransportAdapter.SetThrottle(address, d, ThrottlerTransportAdapter.Blackhole$.MODULE$));
  }

  /**
   * Ends the partition with {@code peer}, and its shaping; with {@code peer} null, every fault of
   * this node: every partition and shape, and the clock back to its configured speed.
   */
  public synchronized CompletionStage<Void> heal(String peer) {
    if (peer == null && enabled()) clock.setFactor(1.0);
    List<String> peers = peer == null ? List.copyOf(regions.keySet()) : List.of(peer);
    CompletableFuture<Void> all = CompletableFuture.completedFuture(null);
    for (String p : peers) {
      if (p.equals(region)) continue;
      Address address = peerAddress(p);
      partitions.remove(p);
      if (shaper != null) shaper.shape(p, new LinkShaper.Shape(0, 0, 0));
      all = all.thenCompose(v -> command(new ThrottlerTransportAdapter.SetThrottle(address,
          direction("Both"), ThrottlerTransportAdapter.Unthrottled$.MODULE$)));
    }
    return all;
  }

  /** Shapes the traffic from {@code peer} to this node (a zero shape clears it). */
  public synchronized void shape(String peer, LinkShaper.Shape shape) {
    peerAddress(peer);
    shaper.shape(peer, shape);
  }

  /**
   * Runs this node's clock at {@code factor} times its configured scale ({@code kms.clock.time-scale})
   * from now on; 1 restores the configured speed. Simulated time stays continuous (no jump); key
   * timers notice within {@code kms.clock.max-timer-delay-with-faults}.
   *
   * @throws IllegalArgumentException for a factor that is not a finite number &gt; 0, or a node
   *     without fault support (whose timers would not notice the change for up to a day)
   */
  public synchronized void setClock(double factor) {
    requireEnabled();
    clock.setFactor(factor);
  }

  /** The partitions and link shapes in force on this node, by peer Region, and its clock. */
  public synchronized Map<String, Object> describe() {
    Map<String, Object> m = new TreeMap<>();
    m.put("enabled", enabled());
    // scale: the fault's factor (1 = none); effectiveScale: simulated ms per wall ms now.
    m.put("clock", Map.of("scale", clock.factor(), "configuredScale", clock.configuredScale(),
        "effectiveScale", clock.scale()));
    m.put("partitions", Map.copyOf(partitions));
    m.put("links", shaper == null ? Map.of() : shaper.shapes());
    return m;
  }

  private void requireEnabled() {
    if (!enabled()) {
      throw new IllegalArgumentException("the node of " + region + " runs without fault support "
          + "(start it with `up`, `lab`, or `node --faults`)");
    }
  }

  private Address peerAddress(String peer) {
    requireEnabled();
    RegionSpec spec = regions.get(peer);
    if (spec == null) throw new IllegalArgumentException("unknown Region '" + peer + "'; known: " + regions.keySet());
    if (peer.equals(region)) throw new IllegalArgumentException("a Region cannot be cut off from itself");
    return AddressFromURIString.parse(spec.clusterAddress(system.name()));
  }

  /** Scala's case objects nested in an object are out of javac's reach by name. */
  private static ThrottlerTransportAdapter.Direction direction(String name) {
    try {
      return (ThrottlerTransportAdapter.Direction) Class.forName(
          "org.apache.pekko.remote.transport.ThrottlerTransportAdapter$Direction$" + name + "$").getField("MODULE$").get(null);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("Pekko's Artery test-mode API changed: " + e, e);
    }
  }

  private CompletionStage<Void> command(Object cmd) {
    var future = ((RARP) RARP.get(system)).provider().transport().managementCommand(cmd);
    return FutureConverters.asJava(future).thenApply(ok -> null);
  }
}
