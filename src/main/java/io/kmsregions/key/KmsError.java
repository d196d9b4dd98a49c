package io.kmsregions.key;

import io.kmsregions.CborSerializable;

/**
 * An AWS KMS client error: the {@code __type} and {@code message} of the JSON error body
 * (kms-api.md §1, error catalogue). Always answered with HTTP 400 unless {@link #status} says
 * otherwise. A {@code null} message is omitted from the body, as AWS does for
 * InvalidCiphertextException and friends.
 */
public record KmsError(String type, String message, int status) implements CborSerializable {

  public KmsError(String type, String message) {
    this(type, message, 400);
  }

  public static KmsError validation(String message) {
    return new KmsError("ValidationException", message);
  }

  /**
   * AWS's Coral wording for a violated constraint on one field. A null {@code value} is one AWS
   * does not echo (blobs, lists): {@code Value at 'plaintext' failed to satisfy constraint: ...}.
   */
  public static KmsError constraint(String value, String field, String constraint) {
    String shown = value == null ? "Value " : "Value '" + value + "' ";
    return validation("1 validation error detected: " + shown + "at '" + field
        + "' failed to satisfy constraint: " + constraint);
  }

  public static KmsError notFound(String message) {
    return new KmsError("NotFoundException", message);
  }

  public static KmsError keyNotFound(String arn) {
    return notFound("Key '" + arn + "' does not exist");
  }

  public static KmsError invalidState(String message) {
    return new KmsError("KMSInvalidStateException", message);
  }

  public static KmsError disabled(String arn) {
    return new KmsError("DisabledException", arn + " is disabled.");
  }

  public static KmsError unsupported(String message) {
    return new KmsError("UnsupportedOperationException", message);
  }

  public static KmsError alreadyExists(String message) {
    return new KmsError("AlreadyExistsException", message);
  }

  public static KmsError invalidKeyUsage(String message) {
    return new KmsError("InvalidKeyUsageException", message);
  }

  public static KmsError invalidCiphertext() {
    return new KmsError("InvalidCiphertextException", null);
  }

  public static KmsError incorrectKey() {
    return new KmsError("IncorrectKeyException",
        "The key ID in the request does not identify a CMK that can perform this operation.");
  }

  /** Verify found the signature invalid: AWS sends no message (kms-api.md §1). */
  public static KmsError invalidSignature() {
    return new KmsError("KMSInvalidSignatureException", null);
  }

  /** VerifyMac found the MAC invalid: AWS sends no message (kms-api.md §1). */
  public static KmsError invalidMac() {
    return new KmsError("KMSInvalidMacException", null);
  }

  public static KmsError customKeyStoreNotFound(String customKeyStoreId) {
    return new KmsError("CustomKeyStoreNotFoundException",
        "Custom key store '" + customKeyStoreId + "' does not exist.");
  }

  public static KmsError serialization(String message) {
    return new KmsError("SerializationException", message);
  }

  public static KmsError unavailable(String message) {
    return new KmsError("ServiceUnavailableException", message, 503);
  }

  public static KmsError internal(String message) {
    return new KmsError("KMSInternalException", message, 500);
  }
}
