package io.kmsregions.seed;

/**
 * A seed file that cannot be loaded: unreadable, invalid, or in conflict with the keys a Region
 * already holds. The message is one line that names the entry and the reason, for the command
 * line to print as it is.
 */
public final class SeedException extends RuntimeException {
  public SeedException(String message) {
    super(message);
  }

  public SeedException(String message, Throwable cause) {
    super(message, cause);
  }
}
