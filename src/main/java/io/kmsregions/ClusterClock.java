package io.kmsregions;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The time of the simulated cluster: wall-clock time by default, or time that runs
 * {@code time-scale} times faster from {@code origin}, so that a study can watch a 7-day deletion
 * window or a rotation period pass in seconds (issue: key lifecycle). Every date a key shows
 * (CreationDate, DeletionDate, NextRotationDate, …) is on this clock; timers convert back to real
 * delays with {@link #realDelayUntil}.
 *
 * <p>The laboratory's clock fault (issue 5) changes one node's speed while it runs: {@link
 * #setFactor} multiplies the configured scale. The clock re-anchors at the moment of change, so
 * simulated time is continuous: it never jumps and never runs backwards, only its rate changes.
 * The state is one immutable {@link Anchor} behind a volatile field, so {@link #now} (on hot paths)
 * costs one volatile read and no lock.
 *
 * <p>Configuration: {@code kms.clock.time-scale} (1.0 = wall clock), {@code kms.clock.origin}
 * (epoch milliseconds where simulated and wall time agree; 0 means the start of this node), and
 * the longest real delay a key timer waits before it looks at the clock again: {@code
 * kms.clock.max-timer-delay}, or {@code kms.clock.max-timer-delay-with-faults} on a node with
 * fault support, whose speed may change. Nodes of one cluster should share scale and origin;
 * {@code up} gives all its Regions the same origin.
 */
public final class ClusterClock {
  /**
   * Simulated time is {@code simMillis + (wall - wallMillis) * scale} for wall times from
   * {@code wallMillis} on.
   *
   * @param wallMillis wall-clock epoch milliseconds of the anchor
   * @param simMillis simulated epoch milliseconds at that moment
   * @param scale simulated milliseconds per wall millisecond from then on (configured × factor)
   * @param factor the fault's multiplier of the configured scale (1 = no fault)
   */
  record Anchor(long wallMillis, long simMillis, double scale, double factor) {}

  private final double configuredScale;
  private final long origin;
  private final Duration maxTimerDelay;
  private volatile Anchor anchor;

  /** A clock of {@code scale} from {@code origin} (epoch ms) whose key timers wait at most a day. */
  public ClusterClock(double scale, long origin) {
    this(scale, origin, Duration.ofDays(1));
  }

  /**
   * @param scale simulated milliseconds per wall millisecond, &gt; 0
   * @param origin epoch milliseconds where simulated and wall time agree
   * @param maxTimerDelay the longest real delay a key timer is armed for (see {@link #maxTimerDelay})
   */
  public ClusterClock(double scale, long origin, Duration maxTimerDelay) {
    if (!validScale(scale)) throw new IllegalArgumentException("kms.clock.time-scale must be > 0, not " + scale);
    if (maxTimerDelay.isNegative() || maxTimerDelay.isZero()) {
      throw new IllegalArgumentException("kms.clock.max-timer-delay must be > 0, not " + maxTimerDelay);
    }
    this.configuredScale = scale;
    this.origin = origin;
    this.maxTimerDelay = maxTimerDelay;
    this.anchor = new Anchor(origin, origin, scale, 1.0);
  }

  /** The clock of a node's configuration ({@code kms.clock.*}, {@code kms.faults.enabled}). */
  public static ClusterClock from(Config config) {
    long origin = config.getLong("kms.clock.origin");
    // A node with fault support may have its speed changed: its timers must notice within seconds.
    Duration cap = config.getBoolean("kms.faults.enabled")
        ? config.getDuration("kms.clock.max-timer-delay-with-faults")
        : config.getDuration("kms.clock.max-timer-delay");
    return new ClusterClock(config.getDouble("kms.clock.time-scale"),
        origin == 0 ? System.currentTimeMillis() : origin, cap);
  }

  /** Whether {@code scale} can be a clock's speed: a finite number &gt; 0. */
  public static boolean validScale(double scale) {
    return scale > 0 && Double.isFinite(scale);
  }

  /** Simulated now, epoch milliseconds. */
  public long now() {
    return at(anchor, System.currentTimeMillis());
  }

  private static long at(Anchor a, long wall) {
    // A wall time read just before a concurrent re-anchoring counts as the anchor's moment.
    long elapsed = Math.max(0, wall - a.wallMillis());
    return a.scale() == 1.0 ? a.simMillis() + elapsed : a.simMillis() + (long) (elapsed * a.scale());
  }

  /**
   * Runs this node's clock at {@code factor} times the configured scale from now on (the
   * laboratory's clock fault); 1 restores the configured speed. Simulated time stays continuous.
   *
   * @throws IllegalArgumentException unless {@code factor} is a finite number &gt; 0, or the
   *     resulting scale is not
   */
  public synchronized void setFactor(double factor) {
    if (!validScale(factor) || !validScale(configuredScale * factor)) {
      throw new IllegalArgumentException("a clock scale is a number > 0, not " + factor);
    }
    long wall = System.currentTimeMillis();
    Anchor a = anchor;
    anchor = new Anchor(Math.max(wall, a.wallMillis()), at(a, wall), configuredScale * factor, factor);
  }

  /** How long to wait in real time until the simulated time {@code epochMillis}; zero if past. */
  public Duration realDelayUntil(long epochMillis) {
    Anchor a = anchor;
    long simulated = epochMillis - at(a, System.currentTimeMillis());
    return simulated <= 0 ? Duration.ZERO : Duration.ofMillis((long) Math.ceil(simulated / a.scale()));
  }

  /**
   * The longest real delay a key timer is armed for: it then looks at the clock again, so a timer
   * armed before a speed-up fires at most this late (Pekko's scheduler also cannot wait ~250 days).
   */
  public Duration maxTimerDelay() {
    return maxTimerDelay;
  }

  /** Simulated milliseconds per wall millisecond now (the configured scale × the fault's factor). */
  public double scale() {
    return anchor.scale();
  }

  /** The fault's multiplier of the configured scale; 1 when no clock fault is in force. */
  public double factor() {
    return anchor.factor();
  }

  /** The scale of the configuration ({@code kms.clock.time-scale}). */
  public double configuredScale() {
    return configuredScale;
  }

  /** Epoch milliseconds where simulated and wall time agreed at start. */
  public long origin() {
    return origin;
  }
}
