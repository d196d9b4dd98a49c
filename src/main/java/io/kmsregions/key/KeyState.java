package io.kmsregions.key;

/**
 * The key states of the key-state table (kms-api.md §6). {@code Creating}, {@code Updating} and
 * {@code PendingReplicaDeletion} exist only for multi-Region keys.
 */
public enum KeyState {
  Creating("is creating."),
  Enabled("is enabled."),
  Disabled("is disabled."),
  PendingDeletion("is pending deletion."),
  PendingReplicaDeletion("is pending deletion."),
  PendingImport("is pending import."),
  Unavailable("is unavailable."),
  Updating("is updating.");

  private final String phrase;

  KeyState(String phrase) {
    this.phrase = phrase;
  }

  /** The tail of AWS's state error message, as in {@code "<key ARN> is pending import."}. */
  public String phrase() {
    return phrase;
  }
}
