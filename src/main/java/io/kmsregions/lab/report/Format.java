package io.kmsregions.lab.report;

import io.kmsregions.lab.check.WindowStats;
import java.util.Locale;
import java.util.Map;

/** Number formats shared by the terminal table and the HTML report. */
final class Format {
  private Format() {}

  /** {@code t} in seconds: {@code 12.345s}. */
  static String t(long ms) {
    return String.format(Locale.ROOT, "%.3fs", ms / 1000.0);
  }

  /** A duration: {@code 850 ms} or {@code 12.3 s}. */
  static String duration(Long ms) {
    if (ms == null) return "-";
    if (Math.abs(ms) < 10_000) return ms + " ms";
    return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
  }

  static String ms(double v) {
    if (Double.isNaN(v)) return "-";
    return String.format(Locale.ROOT, v < 10 ? "%.2f" : v < 100 ? "%.1f" : "%.0f", v);
  }

  static String percent(double rate) {
    if (Double.isNaN(rate)) return "-";
    return String.format(Locale.ROOT, "%.2f%%", 100 * rate);
  }

  /** The success column: the judged rate, and the raw rate when they differ. */
  static String success(WindowStats s) {
    if (s.ownOutage() || s.judged() == s.ops()) return percent(s.successRate());
    if (s.judged() == 0) return "not judged; all " + percent(s.successRate());
    return percent(s.judgedRate()) + " (all " + percent(s.successRate()) + ")";
  }

  /** The first {@code n} error types with counts. */
  static String errors(Map<String, Integer> errors, int n) {
    if (errors.isEmpty()) return "-";
    StringBuilder b = new StringBuilder();
    int i = 0;
    for (Map.Entry<String, Integer> e : errors.entrySet()) {
      if (i++ == n) {
        b.append(", +").append(errors.size() - n).append(" more");
        break;
      }
      if (b.length() > 0) b.append(", ");
      b.append(e.getKey()).append(' ').append(e.getValue());
    }
    return b.toString();
  }
}
