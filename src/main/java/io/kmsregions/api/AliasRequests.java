package io.kmsregions.api;

/**
 * The request shapes of the alias operations (kms-api.md §2 "Aliases"), as the AWS JSON 1.1
 * protocol sends them. Values are validated in {@link AliasOperations}.
 */
public final class AliasRequests {
  private AliasRequests() {}

  public record CreateAlias(String aliasName, String targetKeyId) {}

  public record UpdateAlias(String aliasName, String targetKeyId) {}

  public record DeleteAlias(String aliasName) {}

  public record ListAliases(String keyId, Integer limit, String marker) {}
}
