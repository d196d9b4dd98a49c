package io.kmsregions.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * The request shapes of the cryptographic operations (kms-api.md §2 "Cryptographic operations"),
 * as the AWS JSON 1.1 protocol sends them: members in UpperCamelCase, blobs base64-decoded.
 * Values are validated in {@link CryptoOperations}, so that a bad value gets AWS's
 * ValidationException rather than a SerializationException.
 *
 * <p>{@code Recipient} (an AWS Nitro Enclaves attestation document) is read only to be refused:
 * silently ignoring it would return a plaintext the caller asked never to see.
 */
public final class CryptoRequests {
  private CryptoRequests() {}

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
      JsonNode recipient,
      Boolean dryRun,
      List<String> dryRunModifiers) {}

  public record ReEncrypt(
      byte[] ciphertextBlob,
      Map<String, String> sourceEncryptionContext,
      String sourceKeyId,
      String destinationKeyId,
      Map<String, String> destinationEncryptionContext,
      String sourceEncryptionAlgorithm,
      String destinationEncryptionAlgorithm,
      List<String> grantTokens,
      Boolean dryRun,
      List<String> dryRunModifiers) {}

  public record GenerateDataKey(
      String keyId,
      Map<String, String> encryptionContext,
      Integer numberOfBytes,
      String keySpec,
      List<String> grantTokens,
      JsonNode recipient,
      Boolean dryRun) {}

  public record GenerateDataKeyPair(
      Map<String, String> encryptionContext,
      String keyId,
      String keyPairSpec,
      List<String> grantTokens,
      JsonNode recipient,
      Boolean dryRun) {}

  public record Sign(
      String keyId,
      byte[] message,
      String messageType,
      List<String> grantTokens,
      String signingAlgorithm,
      Boolean dryRun) {}

  public record Verify(
      String keyId,
      byte[] message,
      String messageType,
      byte[] signature,
      String signingAlgorithm,
      List<String> grantTokens,
      Boolean dryRun) {}

  public record GenerateMac(
      byte[] message,
      String keyId,
      String macAlgorithm,
      List<String> grantTokens,
      Boolean dryRun) {}

  public record VerifyMac(
      byte[] message,
      String keyId,
      String macAlgorithm,
      byte[] mac,
      List<String> grantTokens,
      Boolean dryRun) {}

  public record GenerateRandom(Integer numberOfBytes, String customKeyStoreId, JsonNode recipient) {}

  public record GetPublicKey(String keyId, List<String> grantTokens) {}

  public record DeriveSharedSecret(
      String keyId,
      String keyAgreementAlgorithm,
      byte[] publicKey,
      List<String> grantTokens,
      Boolean dryRun,
      JsonNode recipient) {}
}
