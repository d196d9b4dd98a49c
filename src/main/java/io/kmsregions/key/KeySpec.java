package io.kmsregions.key;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Key specs and the CreateKey validation matrix (kms-api.md §4): which KeyUsage values each spec
 * allows, the default usage, and the algorithm lists KeyMetadata shows for each usage.
 */
public enum KeySpec {
  SYMMETRIC_DEFAULT(Family.SYMMETRIC, 256, Map.of(KeyUsage.ENCRYPT_DECRYPT, List.of("SYMMETRIC_DEFAULT"))),
  RSA_2048(Family.RSA, 2048, rsa()),
  RSA_3072(Family.RSA, 3072, rsa()),
  RSA_4096(Family.RSA, 4096, rsa()),
  ECC_NIST_P256(Family.ECC, 256, ecc("ECDSA_SHA_256")),
  ECC_NIST_P384(Family.ECC, 384, ecc("ECDSA_SHA_384")),
  ECC_NIST_P521(Family.ECC, 521, ecc("ECDSA_SHA_512")),
  ECC_SECG_P256K1(Family.ECC, 256, Map.of(KeyUsage.SIGN_VERIFY, List.of("ECDSA_SHA_256"))),
  ECC_NIST_EDWARDS25519(Family.EDWARDS, 255,
      Map.of(KeyUsage.SIGN_VERIFY, List.of("ED25519_SHA_512", "ED25519_PH_SHA_512"))),
  ML_DSA_44(Family.ML_DSA, 44, Map.of(KeyUsage.SIGN_VERIFY, List.of("ML_DSA_SHAKE_256"))),
  ML_DSA_65(Family.ML_DSA, 65, Map.of(KeyUsage.SIGN_VERIFY, List.of("ML_DSA_SHAKE_256"))),
  ML_DSA_87(Family.ML_DSA, 87, Map.of(KeyUsage.SIGN_VERIFY, List.of("ML_DSA_SHAKE_256"))),
  HMAC_224(Family.HMAC, 224, Map.of(KeyUsage.GENERATE_VERIFY_MAC, List.of("HMAC_SHA_224"))),
  HMAC_256(Family.HMAC, 256, Map.of(KeyUsage.GENERATE_VERIFY_MAC, List.of("HMAC_SHA_256"))),
  HMAC_384(Family.HMAC, 384, Map.of(KeyUsage.GENERATE_VERIFY_MAC, List.of("HMAC_SHA_384"))),
  HMAC_512(Family.HMAC, 512, Map.of(KeyUsage.GENERATE_VERIFY_MAC, List.of("HMAC_SHA_512"))),
  SM2(Family.SM2, 256, Map.of(
      KeyUsage.ENCRYPT_DECRYPT, List.of("SM2PKE"),
      KeyUsage.SIGN_VERIFY, List.of("SM2DSA"),
      KeyUsage.KEY_AGREEMENT, List.of("ECDH")));

  /** The kind of key material a spec has. */
  public enum Family { SYMMETRIC, HMAC, RSA, ECC, EDWARDS, ML_DSA, SM2 }

  private final Family family;
  private final int size;
  private final Map<KeyUsage, List<String>> algorithms;

  KeySpec(Family family, int size, Map<KeyUsage, List<String>> algorithms) {
    this.family = family;
    this.size = size;
    this.algorithms = algorithms;
  }

  private static Map<KeyUsage, List<String>> rsa() {
    return Map.of(
        KeyUsage.ENCRYPT_DECRYPT, List.of("RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"),
        KeyUsage.SIGN_VERIFY, List.of(
            "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
            "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512"));
  }

  private static Map<KeyUsage, List<String>> ecc(String signing) {
    return Map.of(KeyUsage.SIGN_VERIFY, List.of(signing), KeyUsage.KEY_AGREEMENT, List.of("ECDH"));
  }

  public Family family() {
    return family;
  }

  /** Key size in bits (RSA modulus, curve order bits, HMAC key bits); the parameter set for ML-DSA. */
  public int size() {
    return size;
  }

  /** The usages this spec allows, in the order AWS documents them. */
  public Set<KeyUsage> allowedUsages() {
    Set<KeyUsage> usages = EnumSet.noneOf(KeyUsage.class);
    usages.addAll(algorithms.keySet());
    return usages;
  }

  /** The usage CreateKey applies when the request names none; empty when the spec needs one. */
  public Optional<KeyUsage> defaultUsage() {
    return this == SYMMETRIC_DEFAULT ? Optional.of(KeyUsage.ENCRYPT_DECRYPT) : Optional.empty();
  }

  /** The algorithm list KeyMetadata shows for this spec under {@code usage}; empty if not allowed. */
  public List<String> algorithms(KeyUsage usage) {
    return algorithms.getOrDefault(usage, List.of());
  }

  /** The deprecated CustomerMasterKeySpec mirror, absent for specs it never had (Ed25519, ML-DSA). */
  public Optional<String> customerMasterKeySpec() {
    return family == Family.EDWARDS || family == Family.ML_DSA ? Optional.empty() : Optional.of(name());
  }

  public boolean isSymmetricEncryption() {
    return this == SYMMETRIC_DEFAULT;
  }
}
