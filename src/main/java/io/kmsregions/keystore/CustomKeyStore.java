package io.kmsregions.keystore;

import io.kmsregions.CborSerializable;
import java.util.Map;
import java.util.TreeMap;

/**
 * One custom key store of a Region as DescribeCustomKeyStores shows it (API reference:
 * CustomKeyStoresListEntry; kms-api.md §2 "Custom key stores"), plus the KMS keys created in it.
 *
 * @param customKeyStoreId {@code cks-} and 17 hex digits
 * @param creationDate epoch milliseconds on the cluster clock
 * @param cloudHsm the CloudHSM settings; null for an external key store
 * @param xks the external key store proxy settings; null for a CloudHSM key store
 * @param connectionErrorCode set only while {@code connectionState} is FAILED
 * @param keys the KMS keys created in this store (key id to XksKeyId, "" for CloudHSM keys):
 *     DeleteCustomKeyStore refuses a store that has any (CustomKeyStoreHasCMKsException), and two
 *     keys of one external key store may not share an external key (XksKeyAlreadyInUseException)
 */
public record CustomKeyStore(
    String customKeyStoreId,
    String customKeyStoreName,
    Type customKeyStoreType,
    long creationDate,
    CloudHsmSettings cloudHsm,
    XksProxySettings xks,
    ConnectionState connectionState,
    ConnectionErrorCode connectionErrorCode,
    Map<String, String> keys)
    implements CborSerializable {

  public CustomKeyStore {
    keys = keys == null ? Map.of() : Map.copyOf(keys);
  }

  /** CustomKeyStoreType. */
  public enum Type { AWS_CLOUDHSM, EXTERNAL_KEY_STORE }

  /** ConnectionStateType. */
  public enum ConnectionState { CONNECTED, CONNECTING, FAILED, DISCONNECTED, DISCONNECTING }

  /**
   * ConnectionErrorCodeType: why the last connection attempt failed (API reference,
   * DescribeCustomKeyStores). kms-regions produces the ones its simulation can cause.
   */
  public enum ConnectionErrorCode {
    INVALID_CREDENTIALS, CLUSTER_NOT_FOUND, NETWORK_ERRORS, INTERNAL_ERROR, INSUFFICIENT_CLOUDHSM_HSMS,
    USER_LOCKED_OUT, USER_NOT_FOUND, USER_LOGGED_IN, SUBNET_NOT_FOUND, INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET,
    XKS_PROXY_ACCESS_DENIED, XKS_PROXY_NOT_REACHABLE, XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND,
    XKS_PROXY_INVALID_RESPONSE, XKS_PROXY_INVALID_CONFIGURATION,
    XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION, XKS_PROXY_TIMED_OUT, XKS_PROXY_INVALID_TLS_CONFIGURATION
  }

  /**
   * A CloudHSM key store's settings.
   *
   * @param trustAnchorCertificate the PEM certificate given at creation (shown as given)
   * @param keyStorePassword the kmsuser password KMS logs in with (never shown)
   */
  public record CloudHsmSettings(String cloudHsmClusterId, String trustAnchorCertificate, String keyStorePassword)
      implements CborSerializable {}

  /**
   * An external key store's proxy settings (XksProxyConfigurationType plus the credential, which
   * DescribeCustomKeyStores shows by access key id only).
   *
   * @param connectivity PUBLIC_ENDPOINT (the only one simulated)
   * @param uriEndpoint scheme, host and optional port, e.g. {@code http://127.0.0.1:7400}
   * @param uriPath the proxy's path, ending in {@code /kms/xks/v1}
   */
  public record XksProxySettings(
      String connectivity, String uriEndpoint, String uriPath, String accessKeyId, String secretAccessKey)
      implements CborSerializable {}

  public boolean isConnected() {
    return connectionState == ConnectionState.CONNECTED;
  }

  CustomKeyStore withConnection(ConnectionState state, ConnectionErrorCode code) {
    return new CustomKeyStore(customKeyStoreId, customKeyStoreName, customKeyStoreType, creationDate, cloudHsm, xks,
        state, code, keys);
  }

  CustomKeyStore withSettings(String name, CloudHsmSettings hsm, XksProxySettings proxy) {
    return new CustomKeyStore(customKeyStoreId, name, customKeyStoreType, creationDate, hsm, proxy,
        connectionState, connectionErrorCode, keys);
  }

  CustomKeyStore withKey(String keyId, String xksKeyId) {
    Map<String, String> k = new TreeMap<>(keys);
    k.put(keyId, xksKeyId == null ? "" : xksKeyId);
    return new CustomKeyStore(customKeyStoreId, customKeyStoreName, customKeyStoreType, creationDate, cloudHsm, xks,
        connectionState, connectionErrorCode, k);
  }

  CustomKeyStore withoutKey(String keyId) {
    Map<String, String> k = new TreeMap<>(keys);
    k.remove(keyId);
    return new CustomKeyStore(customKeyStoreId, customKeyStoreName, customKeyStoreType, creationDate, cloudHsm, xks,
        connectionState, connectionErrorCode, k);
  }

  /** The KMS key that uses external key {@code xksKeyId} in this store, or null. */
  public String keyUsing(String xksKeyId) {
    for (Map.Entry<String, String> e : keys.entrySet()) if (e.getValue().equals(xksKeyId)) return e.getKey();
    return null;
  }
}
