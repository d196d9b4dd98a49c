package io.kmsregions.api;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The request shapes of GetParametersForImport, ImportKeyMaterial and DeleteImportedKeyMaterial
 * (kms-api.md §2 "Imported key material"). Blobs arrive base64-decoded; {@code ValidTo} is an
 * epoch-seconds number (fractional allowed, §1), read as a JSON node and checked by
 * {@link ImportOperations}.
 */
public final class ImportRequests {
  private ImportRequests() {}

  public record GetParametersForImport(String keyId, String wrappingAlgorithm, String wrappingKeySpec) {}

  public record ImportKeyMaterial(
      String keyId,
      byte[] importToken,
      byte[] encryptedKeyMaterial,
      JsonNode validTo,
      String expirationModel,
      String importType,
      String keyMaterialDescription,
      String keyMaterialId) {}

  public record DeleteImportedKeyMaterial(String keyId, String keyMaterialId) {}
}
