package io.kmsregions.api;

import java.util.List;
import java.util.Map;

/**
 * The request shapes of the grant operations (kms-api.md §2 "Grants"), as the AWS JSON 1.1
 * protocol sends them. Values are validated in {@link GrantOperations}.
 */
public final class GrantRequests {
  private GrantRequests() {}

  public record CreateGrant(
      String keyId,
      String granteePrincipal,
      String granteeServicePrincipal,
      String retiringPrincipal,
      String retiringServicePrincipal,
      List<String> operations,
      Constraints constraints,
      List<String> grantTokens,
      String name,
      Boolean dryRun) {}

  /** GrantConstraints. */
  public record Constraints(
      Map<String, String> encryptionContextSubset,
      Map<String, String> encryptionContextEquals,
      String sourceArn) {}

  public record ListGrants(
      Integer limit,
      String marker,
      String keyId,
      String grantId,
      String granteePrincipal,
      String granteeServicePrincipal) {}

  public record ListRetirableGrants(
      Integer limit, String marker, String retiringPrincipal, String retiringServicePrincipal) {}

  public record RetireGrant(String grantToken, String keyId, String grantId, Boolean dryRun) {}

  public record RevokeGrant(String keyId, String grantId, Boolean dryRun) {}
}
