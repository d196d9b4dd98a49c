package io.kmsregions.crypto;

import io.kmsregions.key.KeySpec;

/**
 * The KMS encryption algorithms (API reference: EncryptionAlgorithmSpec; kms-api.md §7) and the
 * largest plaintext each accepts with a key spec.
 */
public enum EncryptionAlgorithm {
  /** AES-256-GCM with the ciphertext format of {@link SymmetricCiphertext}. */
  SYMMETRIC_DEFAULT(null, 0),
  /** RSAES-OAEP (RFC 8017 §7.1), SHA-1 and MGF1-SHA-1, empty label. */
  RSAES_OAEP_SHA_1("SHA-1", 20),
  /** RSAES-OAEP (RFC 8017 §7.1), SHA-256 and MGF1-SHA-256, empty label. */
  RSAES_OAEP_SHA_256("SHA-256", 32),
  /** SM2 public key encryption (GB/T 32918.4) with SM3; see {@link AsymmetricEncryption}. */
  SM2PKE("SM3", 32);

  /** kms-api.md §7: "SM2PKE 1024". */
  public static final int SM2PKE_MAX_PLAINTEXT = 1024;

  private final String hash;
  private final int hashLength;

  EncryptionAlgorithm(String hash, int hashLength) {
    this.hash = hash;
    this.hashLength = hashLength;
  }

  /** The JCA name of the hash (the OAEP hash and MGF1 hash for RSA); null for SYMMETRIC_DEFAULT. */
  public String hash() {
    return hash;
  }

  /**
   * The largest plaintext in bytes this algorithm encrypts under a key of {@code spec}: 4096 for
   * SYMMETRIC_DEFAULT, k − 2·hLen − 2 for RSA-OAEP with a k-byte modulus (RFC 8017 §7.1.1), 1024
   * for SM2PKE.
   */
  public int maxPlaintext(KeySpec spec) {
    return switch (this) {
      case SYMMETRIC_DEFAULT -> 4096;
      case RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256 -> spec.size() / 8 - 2 * hashLength - 2;
      case SM2PKE -> SM2PKE_MAX_PLAINTEXT;
    };
  }
}
