package io.kmsregions.keystore;

import io.kmsregions.keystore.CustomKeyStore.ConnectionErrorCode;
import io.kmsregions.keystore.CustomKeyStore.XksProxySettings;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * What KMS asks of external key store proxies (XKS Proxy API specification: GetHealthStatus,
 * GetKeyMetadata, Encrypt, Decrypt), one call per request, signed with the store's credential.
 * Key operations fail with {@link XksFailure}.
 */
public interface XksProxies {

  /** Empty when the proxy answered GetHealthStatus; otherwise why not. Never fails. */
  CompletionStage<Optional<ConnectionErrorCode>> health(XksProxySettings proxy);

  /** GetKeyMetadata of external key {@code xksKeyId}. */
  CompletionStage<ExternalKey> keyMetadata(XksProxySettings proxy, String xksKeyId, RequestMetadata metadata);

  /** Encrypt with AES_GCM under external key {@code xksKeyId}; {@code aad} may be empty. */
  CompletionStage<ExternalCiphertext> encrypt(XksProxySettings proxy, String xksKeyId, byte[] plaintext, byte[] aad,
      RequestMetadata metadata);

  /** Decrypt what {@link #encrypt} made. */
  CompletionStage<byte[]> decrypt(XksProxySettings proxy, String xksKeyId, ExternalCiphertext ciphertext, byte[] aad,
      RequestMetadata metadata);

  /** The requestMetadata of every key operation (XKS spec §4). */
  record RequestMetadata(String awsPrincipalArn, String kmsKeyArn, String kmsOperation, String kmsRequestId) {}

  /** GetKeyMetadata's answer: keySpec (AES_256), keyUsage (ENCRYPT, DECRYPT), keyStatus (ENABLED, DISABLED). */
  record ExternalKey(String keySpec, List<String> keyUsage, String keyStatus) {}

  /** AES-GCM output of the proxy: 12-byte IV (as the proxy chose), ciphertext, 16-byte tag. */
  record ExternalCiphertext(byte[] initializationVector, byte[] ciphertext, byte[] authenticationTag) {}

  /**
   * A failed call: {@code connectionError} when the proxy could not be used at all (not reachable,
   * timed out, refused the credential, answered nonsense), else the proxy's {@code errorName}
   * (KeyNotFoundException, InvalidStateException, InvalidCiphertextException, ...).
   */
  final class XksFailure extends RuntimeException {
    private final ConnectionErrorCode connectionError;
    private final String errorName;

    public XksFailure(ConnectionErrorCode connectionError, String errorName, String message) {
      super(message);
      this.connectionError = connectionError;
      this.errorName = errorName;
    }

    public Optional<ConnectionErrorCode> connectionError() {
      return Optional.ofNullable(connectionError);
    }

    public Optional<String> errorName() {
      return Optional.ofNullable(errorName);
    }
  }
}
