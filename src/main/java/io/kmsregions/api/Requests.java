package io.kmsregions.api;

import io.kmsregions.key.Tag;
import java.util.List;
import java.util.Map;

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

  public record Encrypt(
      String keyId,
      byte[] plaintext,
      Map<String, String> encryptionContext,
      List<String> grantTokens,
      String encryptionAlgorithm,
      Boolean dryRun) {}

  public record Decrypt(
      byte[] ciphertextBlob,
      Map<String, String> encryptionContext,
      List<String> grantTokens,
      String keyId,
      String encryptionAlgorithm,
      Boolean dryRun) {}

  public record GenerateDataKey(
      String keyId,
      Map<String, String> encryptionContext,
      Integer numberOfBytes,
      String keySpec,
      List<String> grantTokens,
      Boolean dryRun) {}
}
