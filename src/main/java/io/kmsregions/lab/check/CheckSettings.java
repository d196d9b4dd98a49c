package io.kmsregions.lab.check;

import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Thresholds and switches of the checkers.
 *
 * @param availabilityThreshold the success rate (0..1) each Region must reach in every window in
 *     which it is neither crashed nor paused (default 0.99)
 * @param graceMs after a Region's own restart or resume, how long its operations are not judged
 *     (default 5000 ms: the node must rejoin and recover its keys before it serves again)
 * @param minOps a window with fewer judged operations than this is reported, not judged (default 1;
 *     raise it so that one failure among three operations does not fail a run)
 * @param enabled the checkers to run, by name ({@link Checks#NAMES}); empty means all
 * @param conflictsFail whether a {@code conflict} record fails the {@code conflicts} check (default
 *     false: a forced promotion's conflict is expected and reported)
 */
public record CheckSettings(
    double availabilityThreshold, long graceMs, int minOps, Set<String> enabled, boolean conflictsFail) {

  /** Default success-rate threshold outside a Region's own outage. */
  public static final double DEFAULT_THRESHOLD = 0.99;
  /** Default grace after a Region's own restart or resume. */
  public static final long DEFAULT_GRACE_MS = 5_000;

  public CheckSettings {
    if (!(availabilityThreshold >= 0 && availabilityThreshold <= 1)) {
      throw new IllegalArgumentException("availabilityThreshold must be within 0..1: " + availabilityThreshold);
    }
    if (graceMs < 0) throw new IllegalArgumentException("graceMs must not be negative: " + graceMs);
    enabled = Set.copyOf(enabled == null ? Set.of() : enabled);
    for (String name : enabled) {
      if (!Checks.NAMES.contains(name)) {
        throw new IllegalArgumentException("unknown check '" + name + "'; known: " + Checks.NAMES);
      }
    }
  }

  /** The defaults: threshold 0.99, grace 5 s, every check, conflicts reported only. */
  public static CheckSettings defaults() {
    return new CheckSettings(DEFAULT_THRESHOLD, DEFAULT_GRACE_MS, 1, Set.of(), false);
  }

  /** Whether the checker {@code name} runs. */
  public boolean isEnabled(String name) {
    return enabled.isEmpty() || enabled.contains(name);
  }

  public CheckSettings withAvailabilityThreshold(double threshold) {
    return new CheckSettings(threshold, graceMs, minOps, enabled, conflictsFail);
  }

  public CheckSettings withGraceMs(long grace) {
    return new CheckSettings(availabilityThreshold, grace, minOps, enabled, conflictsFail);
  }

  public CheckSettings withMinOps(int min) {
    return new CheckSettings(availabilityThreshold, graceMs, min, enabled, conflictsFail);
  }

  /** Only these checks (a scenario's {@code checks:} list); empty means all. */
  public CheckSettings withEnabled(Collection<String> names) {
    return new CheckSettings(availabilityThreshold, graceMs, minOps, new TreeSet<>(names), conflictsFail);
  }

  public CheckSettings withConflictsFail(boolean fail) {
    return new CheckSettings(availabilityThreshold, graceMs, minOps, enabled, fail);
  }

  /** The enabled names, for display. */
  public List<String> enabledNames() {
    return enabled.isEmpty() ? Checks.NAMES : List.copyOf(new TreeSet<>(enabled));
  }
}
