package io.kmsregions.api;

import io.kmsregions.key.Tag;
import java.util.List;

/**
 * The request shapes of the operations, as the AWS JSON 1.1 protocol sends them (kms-api.md §2).
 * Field names map to UpperCamelCase members; blobs arrive base64-decoded. Validation of values
 * happens in {@link KmsApi}, so that an invalid value gets AWS's ValidationException, not a
 * SerializationException.
 */
public final class Requests {
  private Requests() {}

  public record CreateKey(
      String policy,
      String description,
      String keyUsage,
      String keySpec,
      String customerMasterKeySpec,
      String origin,
      String customKeyStoreId,
      Boolean bypassPolicyLockoutSafetyCheck,
      List<Tag> tags,
      Boolean multiRegion,
      String xksKeyId) {}

  public record DescribeKey(String keyId, List<String> grantTokens) {}

  public record ListKeys(Integer limit, String marker) {}

  public record ReplicateKey(
      String keyId,
      String replicaRegion,
      String policy,
      Boolean bypassPolicyLockoutSafetyCheck,
      String description,
      List<Tag> tags) {}

  public record UpdatePrimaryRegion(String keyId, String primaryRegion) {}

  // Encrypt, Decrypt and GenerateDataKey moved to CryptoRequests with the other crypto shapes.
}
