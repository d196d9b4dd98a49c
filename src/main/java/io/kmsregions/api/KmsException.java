package io.kmsregions.api;

import io.kmsregions.key.KmsError;

/** Carries a {@link KmsError} out of an operation to the HTTP answer. Has no stack trace. */
public final class KmsException extends RuntimeException {
  private final KmsError error;

  public KmsException(KmsError error) {
    super(error.type() + ": " + error.message(), null, false, false);
    this.error = error;
  }

  public KmsError error() {
    return error;
  }
}
