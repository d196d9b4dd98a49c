package io.kmsregions.lab.check;

import java.util.ArrayList;
import java.util.List;

/**
 * One violated expectation, naming what a person needs to find it in the history.
 *
 * @param keys the KeyIds involved
 * @param regions the Regions involved
 * @param times the times ({@code t}, ms since the scenario started) involved
 * @param opIds the ids of the operations ({@code invoke}/{@code complete}/{@code control}) involved
 * @param message a human sentence
 */
public record Violation(
    List<String> keys, List<String> regions, List<Long> times, List<Long> opIds, String message) {

  public Violation {
    keys = List.copyOf(keys);
    regions = List.copyOf(regions);
    times = List.copyOf(times);
    opIds = List.copyOf(opIds);
    message = message == null ? "" : message;
  }

  /** Starts a violation with its message. */
  public static Builder of(String message) {
    return new Builder(message);
  }

  /** One line: the message followed by the keys, Regions, times and ids. */
  public String describe() {
    StringBuilder b = new StringBuilder(message);
    List<String> parts = new ArrayList<>();
    if (!keys.isEmpty()) parts.add("key " + String.join(",", keys));
    if (!regions.isEmpty()) parts.add("region " + String.join(",", regions));
    if (!times.isEmpty()) parts.add("t=" + join(times));
    if (!opIds.isEmpty()) parts.add("op " + join(opIds));
    if (!parts.isEmpty()) b.append(" [").append(String.join("; ", parts)).append(']');
    return b.toString();
  }

  private static String join(List<Long> l) {
    StringBuilder b = new StringBuilder();
    for (Long x : l) {
      if (b.length() > 0) b.append(',');
      b.append(x);
    }
    return b.toString();
  }

  /** Builds a {@link Violation}; null arguments are ignored, so callers need not test fields. */
  public static final class Builder {
    private final String message;
    private final List<String> keys = new ArrayList<>();
    private final List<String> regions = new ArrayList<>();
    private final List<Long> times = new ArrayList<>();
    private final List<Long> opIds = new ArrayList<>();

    private Builder(String message) {
      this.message = message;
    }

    public Builder key(String k) {
      if (k != null && !keys.contains(k)) keys.add(k);
      return this;
    }

    public Builder region(String r) {
      if (r != null && !regions.contains(r)) regions.add(r);
      return this;
    }

    public Builder regions(Iterable<String> rs) {
      for (String r : rs) region(r);
      return this;
    }

    public Builder time(Long t) {
      if (t != null && !times.contains(t)) times.add(t);
      return this;
    }

    public Builder op(Long id) {
      if (id != null && !opIds.contains(id)) opIds.add(id);
      return this;
    }

    public Violation build() {
      return new Violation(keys, regions, times, opIds, message);
    }
  }
}
