package io.kmsregions.imports;

import io.kmsregions.CborSerializable;

/**
 * One answer of GetParametersForImport as the key keeps it until it expires (kms-api.md §2
 * "Imported key material"): the wrapping key pair and how it must be used. The import token
 * names {@code tokenId}, so a token is bound to the key that issued it (another key does not
 * know the id) and to this one wrapping key (material wrapped with any other key does not
 * unwrap).
 *
 * @param tokenId 32 lowercase hex characters, random
 * @param wrappingAlgorithm a {@link WrappingAlgorithm} name
 * @param wrappingKeySpec a {@link WrappingKeySpec} name
 * @param privateKey the wrapping private key, DER PKCS#8
 * @param publicKey the wrapping public key, DER SubjectPublicKeyInfo (the answer's PublicKey)
 * @param validTo epoch milliseconds on the cluster clock: issue time + 24 hours
 */
public record ImportParameters(
    String tokenId,
    String wrappingAlgorithm,
    String wrappingKeySpec,
    byte[] privateKey,
    byte[] publicKey,
    long validTo)
    implements CborSerializable {

  @Override
  public String toString() {
    return "ImportParameters[" + tokenId + ", " + wrappingAlgorithm + ", " + wrappingKeySpec + "]"; // no secrets
  }
}
