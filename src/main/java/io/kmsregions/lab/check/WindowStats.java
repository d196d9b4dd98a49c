package io.kmsregions.lab.check;

import java.util.List;
import java.util.Map;

/**
 * Client operations against one Region during one fault window (or the fault-free time).
 *
 * @param region the Region the operations were sent to
 * @param windowId the fault window's id, or {@link #FAULT_FREE}
 * @param label a human label of the window
 * @param fromT the window's start ({@code t})
 * @param toT the window's end ({@code t})
 * @param ownOutage whether the window crashes or pauses this Region itself (failures expected)
 * @param ops every operation invoked in the window
 * @param ok the successful ones
 * @param failed the failed ones
 * @param indeterminate the ones of unknown outcome
 * @param judged the operations the availability expectation applies to: {@code ops} less those
 *     during the Region's own outage or the grace after it, and less refusals a key's state explains
 * @param judgedOk the successful ones among them
 * @param excusedByState failures explained by the key's state in the Region at the time
 *     ({@code KMSInvalidStateException} while not Enabled, {@code NotFoundException} before the key
 *     existed there)
 * @param p50Ms median latency of the successful operations, NaN when none
 * @param p99Ms 99th percentile latency of the successful operations, NaN when none
 * @param errors counts per error type (the outcome {@code info} when no type), most frequent first
 * @param firstFailures ids of the first judged failures (up to 5), for the violation
 * @param failureKeys keys of the first judged failures (up to 5)
 */
public record WindowStats(
    String region,
    String windowId,
    String label,
    long fromT,
    long toT,
    boolean ownOutage,
    int ops,
    int ok,
    int failed,
    int indeterminate,
    int judged,
    int judgedOk,
    int excusedByState,
    double p50Ms,
    double p99Ms,
    Map<String, Integer> errors,
    List<Long> firstFailures,
    List<String> failureKeys) {

  /** The id of the fault-free row. */
  public static final String FAULT_FREE = "fault-free";

  /** Success rate of all operations (NaN when none). */
  public double successRate() {
    return ops == 0 ? Double.NaN : (double) ok / ops;
  }

  /** Success rate of the judged operations (NaN when none). */
  public double judgedRate() {
    return judged == 0 ? Double.NaN : (double) judgedOk / judged;
  }

  /** What the failure model expects: {@code down} (own crash or pause) or {@code serve}. */
  public String expectation() {
    return ownOutage ? "down" : "serve";
  }
}
