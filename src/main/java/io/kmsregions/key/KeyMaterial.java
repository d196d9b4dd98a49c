package io.kmsregions.key;

import io.kmsregions.CborSerializable;

/**
 * One version of a key's material.
 *
 * @param keyMaterialId 64 lowercase hex characters (kms-api.md §7, "Key material ids")
 * @param secret the AES-256 key (32 bytes), the HMAC key, or the PKCS#8 DER private key (RFC 5958)
 * @param publicKey the X.509 SubjectPublicKeyInfo DER (RFC 5280) of an asymmetric key; null otherwise
 * @param createdAt epoch milliseconds
 */
public record KeyMaterial(String keyMaterialId, byte[] secret, byte[] publicKey, long createdAt)
    implements CborSerializable {

  @Override
  public String toString() {
    return "KeyMaterial[" + keyMaterialId + "]"; // never log secrets
  }
}
