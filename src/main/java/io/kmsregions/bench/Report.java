package io.kmsregions.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/** Formats the bench's results: one line per run, the final table, and the A/B ratios. */
public final class Report {
  private Report() {}

  static final String HEADER = String.format(Locale.ROOT, "%-12s %-18s %11s %9s %9s %9s %9s %9s %8s  %s",
      "endpoint", "operation", "req/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "cpu µs/r", "errors");

  /** One row of the table: throughput, p50/p90/p99/p99.9/max in ms, client CPU per request, errors by type. */
  public static String row(OpResult r) {
    if (r.isSkipped()) {
      return String.format(Locale.ROOT, "%-12s %-18s skipped: %s", r.endpoint(), r.op(), r.skippedReason());
    }
    return String.format(Locale.ROOT, "%-12s %-18s %11s %9s %9s %9s %9s %9s %8s  %s",
        r.endpoint(), r.op(), rate(r.throughput()), ms(r.millisAt(50)), ms(r.millisAt(90)), ms(r.millisAt(99)),
        ms(r.millisAt(99.9)), ms(r.histogram().getTotalCount() == 0 ? Double.NaN : r.histogram().getMaxValue() / 1000.0),
        Double.isNaN(r.clientCpuMicrosPerRequest()) ? "-" : String.format(Locale.ROOT, "%.1f", r.clientCpuMicrosPerRequest()),
        errors(r.errors()));
  }

  public static String table(List<OpResult> results) {
    StringBuilder b = new StringBuilder(HEADER).append('\n');
    for (OpResult r : results) b.append(row(r)).append('\n');
    return b.toString();
  }

  /**
   * Per operation, the ratio of {@code a}'s throughput to {@code b}'s (and of b's p50 latency to
   * a's); operations skipped on either side are listed with the reason.
   */
  public static String ratios(String aName, List<OpResult> a, String bName, List<OpResult> b) {
    Map<String, OpResult> bs = new LinkedHashMap<>();
    for (OpResult r : b) bs.put(r.op(), r);
    List<String> lines = new ArrayList<>();
    lines.add(String.format(Locale.ROOT, "%-18s %12s %12s %10s %12s", "operation",
        trim(aName, 12) + " r/s", trim(bName, 12) + " r/s", "A/B r/s", "B/A p50"));
    for (OpResult ra : a) {
      OpResult rb = bs.get(ra.op());
      if (rb == null) continue;
      if (ra.isSkipped() || rb.isSkipped()) {
        lines.add(String.format(Locale.ROOT, "%-18s skipped on %s", ra.op(), ra.isSkipped() ? aName : bName));
        continue;
      }
      lines.add(String.format(Locale.ROOT, "%-18s %12s %12s %10s %12s%s", ra.op(), rate(ra.throughput()), rate(rb.throughput()),
          ratio(ra.throughput(), rb.throughput()), ratio(rb.millisAt(50), ra.millisAt(50)), errorNote(ra) + errorNote(rb)));
    }
    return String.join("\n", lines) + "\n";
  }

  /**
   * A warning for a summary line whose run had errors (throughput counts every answer, errors
   * included, so the line alone would overstate it), else "".
   */
  static String errorNote(OpResult r) {
    long n = r.errorCount();
    return n == 0 ? "" : String.format(Locale.ROOT, "   ! %s: %d errors (%s)", r.endpoint(), n, errors(r.errors()));
  }

  static String ratio(double x, double y) {
    if (!(y > 0) || Double.isNaN(x)) return "-";
    return String.format(Locale.ROOT, "%.1f×", x / y);
  }

  static String rate(double perSecond) {
    return String.format(Locale.ROOT, "%,.1f", perSecond);
  }

  static String ms(double millis) {
    return Double.isNaN(millis) ? "-" : String.format(Locale.ROOT, "%.3f", millis);
  }

  static String errors(Map<String, Long> errors) {
    if (errors.isEmpty()) return "0";
    return errors.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
  }

  private static String trim(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max);
  }
}
