package io.kmsregions.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.function.Executable;
import software.amazon.awssdk.services.kms.model.KmsException;

/** Assertions on AWS errors for the crypto API tests. */
public final class CryptoKeys {
  private CryptoKeys() {}

  /**
   * Asserts that {@code call} fails with the AWS error {@code type} and returns it (its SDK
   * class, for modeled errors, is a subclass of {@link KmsException}).
   */
  public static KmsException refused(String type, Executable call) {
    KmsException e = assertThrows(KmsException.class, call);
    assertEquals(type, e.awsErrorDetails().errorCode(), () -> "error " + e.awsErrorDetails());
    return e;
  }

  /** {@link #refused}, and the message is {@code message} (null: no message at all). */
  public static KmsException refused(String type, String message, Executable call) {
    KmsException e = refused(type, call);
    assertEquals(message, e.awsErrorDetails().errorMessage(), () -> "message of " + type);
    return e;
  }
}
