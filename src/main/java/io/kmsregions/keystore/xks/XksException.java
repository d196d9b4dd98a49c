package io.kmsregions.keystore.xks;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * A failed call to an XKS proxy, as {@link XksClient} reports it: which KMS connection error code
 * applies, and the proxy's own {@code errorName} when it answered with a well-formed error.
 *
 * <p>Two kinds, told apart by {@link #connectionErrorCode()}:
 * <ul>
 *   <li>Connection-level (non-null code): the proxy is unreachable, slow, refuses KMS's
 *       credentials, does not know the URI path, or answers something KMS cannot interpret. KMS
 *       reports these as a custom key store's {@code ConnectionErrorCode} (KMS API Reference,
 *       {@code CustomKeyStoresListEntry}) and as the Create/UpdateCustomKeyStore exceptions of the
 *       XKS Proxy API specification's table "KMS Considerations" under "Error codes".
 *   <li>Key-level (null code, non-null {@link #errorName()}): {@code KeyNotFoundException},
 *       {@code InvalidStateException} (the external key is disabled), {@code InvalidCiphertextException},
 *       {@code InvalidKeyUsageException}, {@code UnsupportedOperationException},
 *       {@code ThrottlingException}: the connection is fine, this key or request is not.
 * </ul>
 *
 * <p>Mapping of the proxy's errors (XKS Proxy API specification, "Error codes"):
 * AuthenticationFailedException (401) → {@code INVALID_CREDENTIALS}; AccessDeniedException (403)
 * → {@code XKS_PROXY_ACCESS_DENIED}; InvalidUriPathException (404) →
 * {@code XKS_PROXY_INVALID_CONFIGURATION}; DependencyTimeoutException (503) →
 * {@code XKS_PROXY_TIMED_OUT}; ValidationException, InternalException, an unknown errorName, a
 * body that is not a JSON error, or a success body of the wrong shape →
 * {@code XKS_PROXY_INVALID_RESPONSE}. Without an answer: connection refused, unknown host or a
 * connect timeout → {@code XKS_PROXY_NOT_REACHABLE}; no answer within the request timeout →
 * {@code XKS_PROXY_TIMED_OUT}; a TLS handshake failure → {@code XKS_PROXY_INVALID_TLS_CONFIGURATION}.
 */
public final class XksException extends Exception {

  /** The KMS {@code ConnectionErrorCode} values that concern an external key store. */
  public enum ConnectionErrorCode {
    /** The proxy refused KMS's SigV4 credential (its AuthenticationFailedException). */
    INVALID_CREDENTIALS,
    /** The proxy denied KMS access (its AccessDeniedException). */
    XKS_PROXY_ACCESS_DENIED,
    /** The proxy rejected the URI path (its InvalidUriPathException): XksProxyUriPath is wrong. */
    XKS_PROXY_INVALID_CONFIGURATION,
    /** The proxy's answer cannot be interpreted. */
    XKS_PROXY_INVALID_RESPONSE,
    /** No TLS connection could be established. */
    XKS_PROXY_INVALID_TLS_CONFIGURATION,
    /** No connection could be established (refused, unknown host, connect timeout). */
    XKS_PROXY_NOT_REACHABLE,
    /** Connected, but no answer in the time allotted (or the proxy's DependencyTimeoutException). */
    XKS_PROXY_TIMED_OUT
  }

  private final transient ConnectionErrorCode connectionErrorCode;
  private final String errorName;
  private final int httpStatus;

  public XksException(ConnectionErrorCode connectionErrorCode, String errorName, int httpStatus, String message,
      Throwable cause) {
    super(message, cause);
    this.connectionErrorCode = connectionErrorCode;
    this.errorName = errorName;
    this.httpStatus = httpStatus;
  }

  /** The connection error code that applies, or null for a key-level error. */
  public ConnectionErrorCode connectionErrorCode() {
    return connectionErrorCode;
  }

  /** The proxy's {@code errorName} (e.g. {@code KeyNotFoundException}), or null when it gave none. */
  public String errorName() {
    return errorName;
  }

  /** The HTTP status of the proxy's answer, or 0 when there was none. */
  public int httpStatus() {
    return httpStatus;
  }

  /**
   * The XksException behind a failure of an {@link XksClient} stage (dependent stages wrap it in
   * CompletionException, {@code get()} in ExecutionException), or null if it is another failure.
   */
  public static XksException of(Throwable failure) {
    Throwable t = failure;
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t instanceof XksException x ? x : null;
  }
}
