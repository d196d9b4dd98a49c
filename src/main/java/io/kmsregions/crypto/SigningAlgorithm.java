package io.kmsregions.crypto;

/**
 * The KMS signing algorithms (API reference: SigningAlgorithmSpec; kms-api.md §4, §7), with the
 * hash each one applies to a RAW message and the length a DIGEST must have.
 *
 * <p>The enum order is the service model's, so it can serve as the enum value set of AWS's
 * ValidationException text.
 */
public enum SigningAlgorithm {
  RSASSA_PSS_SHA_256(Scheme.RSA_PSS, "SHA-256", 32),
  RSASSA_PSS_SHA_384(Scheme.RSA_PSS, "SHA-384", 48),
  RSASSA_PSS_SHA_512(Scheme.RSA_PSS, "SHA-512", 64),
  RSASSA_PKCS1_V1_5_SHA_256(Scheme.RSA_PKCS1, "SHA-256", 32),
  RSASSA_PKCS1_V1_5_SHA_384(Scheme.RSA_PKCS1, "SHA-384", 48),
  RSASSA_PKCS1_V1_5_SHA_512(Scheme.RSA_PKCS1, "SHA-512", 64),
  ECDSA_SHA_256(Scheme.ECDSA, "SHA-256", 32),
  ECDSA_SHA_384(Scheme.ECDSA, "SHA-384", 48),
  ECDSA_SHA_512(Scheme.ECDSA, "SHA-512", 64),
  /** SM2 signature (GB/T 32918.2) over SM3(Z_A || M), default distinguishing id. */
  SM2DSA(Scheme.SM2, "SM3", 32),
  /** ML-DSA (FIPS 204), pure, empty context; SHAKE256 inside. */
  ML_DSA_SHAKE_256(Scheme.ML_DSA, null, 64),
  /** PureEdDSA Ed25519 (RFC 8032 §5.1) over the message itself. */
  ED25519_SHA_512(Scheme.ED25519, null, 0),
  /** HashEdDSA Ed25519ph (RFC 8032 §5.1) with an empty context over the bytes given. */
  ED25519_PH_SHA_512(Scheme.ED25519_PH, "SHA-512", 64);

  /** The signature scheme family of an algorithm. */
  public enum Scheme { RSA_PSS, RSA_PKCS1, ECDSA, SM2, ML_DSA, ED25519, ED25519_PH }

  private final Scheme scheme;
  private final String hash;
  private final int digestLength;

  SigningAlgorithm(Scheme scheme, String hash, int digestLength) {
    this.scheme = scheme;
    this.hash = hash;
    this.digestLength = digestLength;
  }

  public Scheme scheme() {
    return scheme;
  }

  /** The JCA name of the hash applied to a RAW message, or null (ML-DSA, pure Ed25519). */
  public String hash() {
    return hash;
  }

  /**
   * The length in bytes a DIGEST message must have (an EXTERNAL_MU for ML-DSA: 64), or 0 when
   * the algorithm takes no digest.
   */
  public int digestLength() {
    return digestLength;
  }

  /** Whether this algorithm accepts {@code type} (kms-api.md §7 "Signing"). */
  public boolean accepts(MessageType type) {
    return switch (scheme) {
      case ED25519 -> type == MessageType.RAW;
      case ED25519_PH -> type == MessageType.DIGEST;
      case ML_DSA -> type == MessageType.RAW || type == MessageType.EXTERNAL_MU;
      default -> type == MessageType.RAW || type == MessageType.DIGEST;
    };
  }

  /**
   * The ValidationException text for a message this algorithm cannot sign, or null if it can.
   * RAW messages are bounded by the service model (1..4096 bytes) before this is asked.
   */
  public String messageProblem(MessageType type, byte[] message) {
    if (!accepts(type)) {
      return "Message type " + type + " is incompatible with algorithm " + name() + ".";
    }
    if (type != MessageType.RAW && message.length != digestLength) {
      return "Digest is invalid length for algorithm " + name() + ".";
    }
    return null;
  }
}
