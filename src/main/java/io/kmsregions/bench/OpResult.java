package io.kmsregions.bench;

import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * The measurement of one operation against one endpoint, summed over the rounds: the latency
 * histogram (microseconds), completed requests, measured seconds, errors by type, and the load
 * generator's own CPU time. A skipped operation carries only its reason.
 */
public final class OpResult {
  /** Latencies up to one hour are tracked at three significant digits (1 µs resolution below 1 ms). */
  public static final long HIGHEST_MICROS = 3_600_000_000L;

  private final String endpoint;
  private final String op;
  private final Histogram histogram = newHistogram();
  private final Map<String, Long> errors = new TreeMap<>();
  private long requests;
  private double seconds;
  private long clientCpuNanos;
  private double busyCoreSeconds;
  private double ownCoreSeconds;
  private String skipped;

  public OpResult(String endpoint, String op) {
    this.endpoint = endpoint;
    this.op = op;
  }

  public static Histogram newHistogram() {
    return new Histogram(HIGHEST_MICROS, 3);
  }

  public static OpResult skipped(String endpoint, String op, String reason) {
    OpResult r = new OpResult(endpoint, op);
    r.skipped = reason;
    return r;
  }

  /** Adds one measured window. */
  public synchronized void add(Histogram latencies, long completed, double windowSeconds, Map<String, Long> errorCounts,
      long clientCpu, double busyCores, double ownCores) {
    histogram.add(latencies);
    requests += completed;
    seconds += windowSeconds;
    errorCounts.forEach((k, v) -> errors.merge(k, v, Long::sum));
    clientCpuNanos += clientCpu;
    busyCoreSeconds += busyCores * windowSeconds;
    ownCoreSeconds += ownCores * windowSeconds;
  }

  public String endpoint() {
    return endpoint;
  }

  public String op() {
    return op;
  }

  public Histogram histogram() {
    return histogram;
  }

  public String skippedReason() {
    return skipped;
  }

  public boolean isSkipped() {
    return skipped != null;
  }

  /** Requests completed in the measured windows (successes and errors). */
  public long requests() {
    return requests;
  }

  public double seconds() {
    return seconds;
  }

  /** Completed requests per second over the measured windows. */
  public double throughput() {
    return seconds <= 0 ? 0 : requests / seconds;
  }

  public Map<String, Long> errors() {
    return errors;
  }

  public long errorCount() {
    return errors.values().stream().mapToLong(Long::longValue).sum();
  }

  /** The load generator's CPU time per request, in microseconds (NaN when unknown). */
  public double clientCpuMicrosPerRequest() {
    return requests == 0 || clientCpuNanos <= 0 ? Double.NaN : clientCpuNanos / 1000.0 / requests;
  }

  /** The machine's average busy cores during the windows (from /proc/stat; NaN when unknown). */
  public double busyCores() {
    return seconds <= 0 || busyCoreSeconds < 0 ? Double.NaN : busyCoreSeconds / seconds;
  }

  private double kernelShareSeconds;
  private double kernelShareWeight;

  /** Adds the share of this JVM's CPU time spent in the kernel during a window. */
  public synchronized void addKernelShare(double share, double windowSeconds) {
    kernelShareSeconds += share * windowSeconds;
    kernelShareWeight += windowSeconds;
  }

  /** The share of this JVM's CPU time spent in the kernel (system time), NaN when unknown. */
  public double kernelShare() {
    return kernelShareWeight <= 0 ? Double.NaN : kernelShareSeconds / kernelShareWeight;
  }

  private long allocatedBytes;
  private boolean allocationKnown;

  /** Adds the bytes this JVM allocated during a window (load generator and in-process servers). */
  public synchronized void addAllocated(long bytes) {
    allocatedBytes += bytes;
    allocationKnown = true;
  }

  /** Bytes this JVM allocated per completed request during the windows, NaN when unknown. */
  public double allocatedBytesPerRequest() {
    return !allocationKnown || requests == 0 ? Double.NaN : (double) allocatedBytes / requests;
  }

  /** This JVM's average busy cores during the windows (NaN when unknown). */
  public double ownCores() {
    return seconds <= 0 ? Double.NaN : ownCoreSeconds / seconds;
  }

  /** The latency at {@code percentile} in milliseconds. */
  public double millisAt(double percentile) {
    return histogram.getTotalCount() == 0 ? Double.NaN : histogram.getValueAtPercentile(percentile) / 1000.0;
  }
}
