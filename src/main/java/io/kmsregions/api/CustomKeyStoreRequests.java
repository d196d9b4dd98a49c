package io.kmsregions.api;

/**
 * The request shapes of the custom key store operations (kms-api.md §2 "Custom key stores"), as
 * the AWS JSON 1.1 protocol sends them. Values are validated in {@link CustomKeyStoreOperations}.
 */
public final class CustomKeyStoreRequests {
  private CustomKeyStoreRequests() {}

  /** XksProxyAuthenticationCredentialType. */
  public record Credential(String accessKeyId, String rawSecretAccessKey) {}

  public record CreateCustomKeyStore(
      String customKeyStoreName,
      String cloudHsmClusterId,
      String trustAnchorCertificate,
      String keyStorePassword,
      String customKeyStoreType,
      String xksProxyUriEndpoint,
      String xksProxyUriPath,
      String xksProxyVpcEndpointServiceName,
      String xksProxyVpcEndpointServiceOwner,
      Credential xksProxyAuthenticationCredential,
      String xksProxyConnectivity) {}

  public record UpdateCustomKeyStore(
      String customKeyStoreId,
      String newCustomKeyStoreName,
      String keyStorePassword,
      String cloudHsmClusterId,
      String xksProxyUriEndpoint,
      String xksProxyUriPath,
      String xksProxyVpcEndpointServiceName,
      String xksProxyVpcEndpointServiceOwner,
      Credential xksProxyAuthenticationCredential,
      String xksProxyConnectivity) {}

  public record DescribeCustomKeyStores(String customKeyStoreId, String customKeyStoreName, Integer limit, String marker) {}

  /** ConnectCustomKeyStore, DisconnectCustomKeyStore and DeleteCustomKeyStore. */
  public record ByCustomKeyStoreId(String customKeyStoreId) {}
}
