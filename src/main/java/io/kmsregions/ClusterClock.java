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
 * <p>Configuration: {@code kms.clock.time-scale} (1.0 = wall clock) and {@code kms.clock.origin}
 * (epoch milliseconds where simulated and wall time agree; 0 means the start of this node). Nodes
 * of one cluster should share both; {@code up} gives all its Regions the same origin.
 */
public final class ClusterClock {
  private final double scale;
  private final long origin;

  public ClusterClock(double scale, long origin) {
    if (!(scale > 0)) throw new IllegalArgumentException("kms.clock.time-scale must be > 0, not " + scale);
    this.scale = scale;
    this.origin = origin;
  }

  public static ClusterClock from(Config config) {
    long origin = config.getLong("kms.clock.origin");
    return new ClusterClock(config.getDouble("kms.clock.time-scale"),
        origin == 0 ? System.currentTimeMillis() : origin);
  }

  /** Simulated now, epoch milliseconds. */
  public long now() {
    long wall = System.currentTimeMillis();
    return scale == 1.0 ? wall : origin + (long) ((wall - origin) * scale);
  }

  /** How long to wait in real time until the simulated time {@code epochMillis}; zero if past. */
  public Duration realDelayUntil(long epochMillis) {
    long simulated = epochMillis - now();
    return simulated <= 0 ? Duration.ZERO : Duration.ofMillis((long) Math.ceil(simulated / scale));
  }

  public double scale() {
    return scale;
  }

  public long origin() {
    return origin;
  }
}
