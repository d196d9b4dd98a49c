package io.kmsregions.lab.history;

/**
 * A client operation: an {@code invoke} record paired with its {@code complete} record by {@code id}.
 *
 * @param id the operation id
 * @param region the Region whose port the call was sent to
 * @param op the API operation name
 * @param key the KeyId
 * @param invokeT when it was sent, or, when the invoke record is missing, the completion time minus
 *     the latency
 * @param completeT when it completed, or -1 when no completion was recorded
 * @param outcome {@code ok}, {@code fail}, {@code info}; {@code info} too when no completion was
 *     recorded (indeterminate)
 * @param error the error type, or null
 * @param latencyMs the latency, or NaN
 * @param ciphertext the ciphertext handed to the client, or null
 */
public record Operation(
    long id,
    String region,
    String op,
    String key,
    long invokeT,
    long completeT,
    String outcome,
    String error,
    double latencyMs,
    String ciphertext) {

  /** Whether the call succeeded. */
  public boolean ok() {
    return "ok".equals(outcome);
  }

  /** Whether the call failed for certain. */
  public boolean failed() {
    return "fail".equals(outcome);
  }

  /** Whether the outcome is unknown (timed out, or never completed). */
  public boolean indeterminate() {
    return !ok() && !failed();
  }

  /** Whether a completion record was seen. */
  public boolean completed() {
    return completeT >= 0;
  }
}
