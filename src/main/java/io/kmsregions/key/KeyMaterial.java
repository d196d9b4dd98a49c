package io.kmsregions.key;

import io.kmsregions.CborSerializable;

/**
 * One version of a key's material.
 *
 * <p>In the journal and snapshots the secret is never written in clear: the persisted binding
 * seals it under the Region's root key, bound to {@code keyId} and {@code keyMaterialId}
 * ({@link io.kmsregions.security.atrest.KeyMaterialSealing}).
 *
 * @param keyMaterialId 64 lowercase hex characters (kms-api.md §7, "Key material ids")
 * @param secret the AES-256 key (32 bytes), the HMAC key, or the PKCS#8 DER private key (RFC 5958)
 * @param publicKey the X.509 SubjectPublicKeyInfo DER (RFC 5280) of an asymmetric key; null otherwise
 * @param createdAt epoch milliseconds
 * @param keyId the key this material belongs to (the same id in every Region of a multi-Region
 *     key); null only for material that is never persisted (tests, benchmarks)
 */
public record KeyMaterial(String keyMaterialId, byte[] secret, byte[] publicKey, long createdAt, String keyId)
    implements CborSerializable {

  /** Material not bound to a key id (never persisted by the service itself). */
  public KeyMaterial(String keyMaterialId, byte[] secret, byte[] publicKey, long createdAt) {
    this(keyMaterialId, secret, publicKey, createdAt, null);
  }

  @Override
  public String toString() {
    return "KeyMaterial[" + keyMaterialId + "]"; // never log secrets
  }
}
