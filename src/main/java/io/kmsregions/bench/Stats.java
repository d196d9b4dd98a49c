package io.kmsregions.bench;

import java.util.Locale;
import org.HdrHistogram.Histogram;

/** Percentile lines for the one-off measurements (replication, recovery). */
final class Stats {
  private Stats() {}

  static String line(String what, Histogram h, int failures) {
    if (h.getTotalCount() == 0) return String.format(Locale.ROOT, "%-34s no successful measurement (%d failed)", what, failures);
    return String.format(Locale.ROOT, "%-34s n=%-4d p50 %8.1f ms  p90 %8.1f ms  p99 %8.1f ms  max %8.1f ms%s", what,
        h.getTotalCount(), h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(90) / 1000.0,
        h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0, failures > 0 ? "  (" + failures + " failed)" : "");
  }

  static void record(Histogram h, long nanos) {
    h.recordValue(Math.min(OpResult.HIGHEST_MICROS, Math.max(1, nanos / 1000)));
  }
}
