package io.kmsregions.imports;

/**
 * The wrapping algorithms of GetParametersForImport (kms-api.md §7, "Import"; API reference:
 * AlgorithmSpec). {@code RSAES_PKCS1_V1_5} is still in the API's enum but AWS stopped accepting
 * it on 2023-10-10, so it is recognised only to be refused.
 */
public enum WrappingAlgorithm {
  RSAES_PKCS1_V1_5(null, false),
  RSAES_OAEP_SHA_1("SHA-1", false),
  RSAES_OAEP_SHA_256("SHA-256", false),
  RSA_AES_KEY_WRAP_SHA_1("SHA-1", true),
  RSA_AES_KEY_WRAP_SHA_256("SHA-256", true),
  SM2PKE(null, false);

  private final String hash;
  private final boolean aesKeyWrap;

  WrappingAlgorithm(String hash, boolean aesKeyWrap) {
    this.hash = hash;
    this.aesKeyWrap = aesKeyWrap;
  }

  /** The OAEP hash (also MGF1's) of the RSA algorithms; null for SM2PKE. */
  public String hash() {
    return hash;
  }

  /**
   * Whether the material is wrapped in two steps: an ephemeral AES key under RSA-OAEP, then the
   * material under that key with AES key wrap with padding (RFC 5649).
   */
  public boolean aesKeyWrap() {
    return aesKeyWrap;
  }

  /** Whether this algorithm needs an RSA wrapping key (every one but SM2PKE). */
  public boolean isRsa() {
    return hash != null;
  }
}
