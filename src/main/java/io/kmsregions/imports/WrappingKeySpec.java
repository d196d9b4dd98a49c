package io.kmsregions.imports;

import io.kmsregions.key.KeySpec;

/**
 * The wrapping key specs of GetParametersForImport (kms-api.md §7, "Import"): RSA of 2048, 3072
 * or 4096 bits, and SM2 (AWS offers SM2 only in its China Regions; kms-regions, as for SM2 keys,
 * everywhere).
 */
public enum WrappingKeySpec {
  RSA_2048(KeySpec.RSA_2048),
  RSA_3072(KeySpec.RSA_3072),
  RSA_4096(KeySpec.RSA_4096),
  SM2(KeySpec.SM2);

  private final KeySpec keySpec;

  WrappingKeySpec(KeySpec keySpec) {
    this.keySpec = keySpec;
  }

  /** The key spec whose generator and parsers make and read the wrapping key pair. */
  public KeySpec keySpec() {
    return keySpec;
  }
}
