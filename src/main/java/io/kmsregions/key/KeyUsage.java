package io.kmsregions.key;

/** The cryptographic operations a KMS key is for (API reference: KeyUsageType). */
public enum KeyUsage {
  ENCRYPT_DECRYPT,
  SIGN_VERIFY,
  GENERATE_VERIFY_MAC,
  KEY_AGREEMENT
}
