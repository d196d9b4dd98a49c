package io.kmsregions.crypto;

/**
 * What the Message of Sign and Verify is (API reference: MessageType): the message itself (RAW,
 * hashed by the algorithm), its digest under the algorithm's hash (DIGEST, signed as given), or
 * the 64-byte ML-DSA message representative mu of FIPS 204 §6.2 (EXTERNAL_MU).
 */
public enum MessageType {
  RAW,
  DIGEST,
  EXTERNAL_MU
}
