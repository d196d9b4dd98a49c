package io.kmsregions.imports;

import io.kmsregions.CborSerializable;

/**
 * One imported key material as this Region holds it (kms-api.md §5 "Imported key material": the
 * import, its expiry and its deletion are independent per Region, while the material's identity
 * is shared).
 *
 * @param keyMaterialId derived from the key id and the material ({@link KeyMaterialImport#keyMaterialId})
 * @param secret the material (AES key, HMAC key, or PKCS#8 private key); null once deleted or expired
 * @param expirationModel KEY_MATERIAL_EXPIRES or KEY_MATERIAL_DOES_NOT_EXPIRE
 * @param validTo epoch milliseconds on the cluster clock when it expires; 0 when it does not
 * @param description the KeyMaterialDescription of the import ("" when none)
 * @param importedAt epoch milliseconds on the cluster clock of the last import
 */
public record ImportedKeyMaterial(
    String keyMaterialId,
    byte[] secret,
    String expirationModel,
    long validTo,
    String description,
    long importedAt)
    implements CborSerializable {

  public static final String EXPIRES = "KEY_MATERIAL_EXPIRES";
  public static final String DOES_NOT_EXPIRE = "KEY_MATERIAL_DOES_NOT_EXPIRE";

  /** Whether this Region holds the material now (imported, not deleted, not expired). */
  public boolean isImported() {
    return secret != null;
  }

  /** The same entry without its secret: deleted, or expired. */
  public ImportedKeyMaterial deleted() {
    return new ImportedKeyMaterial(keyMaterialId, null, expirationModel, validTo, description, importedAt);
  }

  @Override
  public String toString() {
    return "ImportedKeyMaterial[" + keyMaterialId + (secret == null ? ", deleted" : "") + "]"; // never log secrets
  }
}
