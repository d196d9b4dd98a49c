package io.kmsregions.crypto;

import io.kmsregions.key.KeySpec;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.RSAKey;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAKeyGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Objects;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.gm.GMObjectIdentifiers;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.jcajce.spec.MLDSAParameterSpec;

/**
 * Creates fresh key material for each {@link KeySpec}, and parses the asymmetric encodings back.
 *
 * <p>Asymmetric private keys are DER PKCS#8 {@code PrivateKeyInfo} (RFC 5208 / RFC 5958) and
 * public keys DER X.509 {@code SubjectPublicKeyInfo} (RFC 5280 §4.1), the form KMS GetPublicKey
 * returns. EC keys always name their curve by OID (RFC 5480 / RFC 5915), never by explicit
 * parameters. The JDK does RSA, NIST P-curves and Ed25519 (RFC 8410); Bouncy Castle, via
 * {@link Providers#bouncyCastle()}, does secp256k1 (SEC 2), SM2 (GB/T 32918, curve
 * sm2p256v1) and ML-DSA (FIPS 204, encodings per RFC 9881). All methods are thread-safe.
 */
public final class KeyMaterialGenerator {

  // SecureRandom is thread-safe; one instance avoids reseeding cost per key.
  private static final SecureRandom RANDOM = new SecureRandom();

  private KeyMaterialGenerator() {}

  /**
   * Key material for one key. The arrays are not copied: the holder owns them and must not
   * mutate them.
   *
   * @param secret the secret: raw key bytes for SYMMETRIC_DEFAULT and HMAC specs, DER PKCS#8
   *     {@code PrivateKeyInfo} for asymmetric specs; never null
   * @param publicKey DER X.509 {@code SubjectPublicKeyInfo} for asymmetric specs, null for
   *     symmetric and HMAC specs
   */
  public record GeneratedMaterial(byte[] secret, byte[] publicKey) {
    public GeneratedMaterial {
      Objects.requireNonNull(secret, "secret");
    }

    /** Lengths only: key bytes must never reach a log line. */
    @Override
    public String toString() {
      return "GeneratedMaterial[secret=" + secret.length + " bytes, publicKey="
          + (publicKey == null ? "none" : publicKey.length + " bytes") + "]";
    }
  }

  /**
   * Generates new key material for {@code spec} from a {@link SecureRandom}.
   *
   * <ul>
   *   <li>SYMMETRIC_DEFAULT: 32 random bytes (AES-256), no public key.
   *   <li>HMAC_224/256/384/512: 28/32/48/64 random bytes, no public key.
   *   <li>RSA_2048/3072/4096: modulus of that many bits, public exponent 65537.
   *   <li>ECC_NIST_P256/P384/P521: secp256r1/secp384r1/secp521r1; ECC_SECG_P256K1: secp256k1;
   *       SM2: sm2p256v1.
   *   <li>ECC_NIST_EDWARDS25519: Ed25519.
   *   <li>ML_DSA_44/65/87: the FIPS 204 parameter set of that name.
   * </ul>
   *
   * @throws NullPointerException if {@code spec} is null
   * @throws IllegalStateException if the runtime lacks the algorithm (a broken JDK or classpath)
   */
  public static GeneratedMaterial generate(KeySpec spec) {
    Objects.requireNonNull(spec, "spec");
    Asymmetric asym = asymmetricOrNull(spec);
    if (asym == null) {
      byte[] secret = new byte[spec.size() / 8]; // size() is the key length in bits
      RANDOM.nextBytes(secret);
      return new GeneratedMaterial(secret, null);
    }
    try {
      KeyPairGenerator generator = asym.provider == null
          ? KeyPairGenerator.getInstance(asym.algorithm)
          : KeyPairGenerator.getInstance(asym.algorithm, asym.provider);
      generator.initialize(asym.generationParams, RANDOM);
      KeyPair pair = generator.generateKeyPair();
      return new GeneratedMaterial(pair.getPrivate().getEncoded(), pair.getPublic().getEncoded());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate " + spec + " key: " + e.getMessage(), e);
    }
  }

  /**
   * Parses a DER PKCS#8 {@code PrivateKeyInfo} (RFC 5208 / RFC 5958) as a private key of
   * {@code spec}.
   *
   * @throws NullPointerException if {@code spec} is null
   * @throws IllegalArgumentException if {@code spec} is symmetric or HMAC, {@code pkcs8} is null or
   *     not PKCS#8 DER, or the key is not of {@code spec} (algorithm, curve, modulus size or
   *     ML-DSA parameter set differ)
   */
  public static PrivateKey privateKey(KeySpec spec, byte[] pkcs8) {
    Asymmetric asym = requireAsymmetric(spec);
    if (pkcs8 == null) {
      throw new IllegalArgumentException(spec + " private key: encoding is missing");
    }
    AlgorithmIdentifier algorithm;
    try {
      algorithm = PrivateKeyInfo.getInstance(pkcs8).getPrivateKeyAlgorithm();
    } catch (RuntimeException e) { // BC reports malformed DER as assorted unchecked exceptions
      throw new IllegalArgumentException(
          spec + " private key: not a DER PKCS#8 PrivateKeyInfo: " + e.getMessage(), e);
    }
    checkAlgorithm(spec, asym, algorithm, "private key");
    PrivateKey key;
    try {
      key = keyFactory(asym).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new IllegalArgumentException(
          spec + " private key: invalid PKCS#8 key: " + e.getMessage(), e);
    }
    checkModulus(spec, key, "private key");
    return key;
  }

  /**
   * Parses a DER X.509 {@code SubjectPublicKeyInfo} (RFC 5280 §4.1.2.7) as a public key of
   * {@code spec}.
   *
   * @throws NullPointerException if {@code spec} is null
   * @throws IllegalArgumentException if {@code spec} is symmetric or HMAC, {@code spki} is null or
   *     not SubjectPublicKeyInfo DER, or the key is not of {@code spec} (algorithm, curve, modulus
   *     size or ML-DSA parameter set differ)
   */
  public static PublicKey publicKey(KeySpec spec, byte[] spki) {
    Asymmetric asym = requireAsymmetric(spec);
    if (spki == null) {
      throw new IllegalArgumentException(spec + " public key: encoding is missing");
    }
    AlgorithmIdentifier algorithm;
    try {
      algorithm = SubjectPublicKeyInfo.getInstance(spki).getAlgorithm();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          spec + " public key: not a DER SubjectPublicKeyInfo: " + e.getMessage(), e);
    }
    checkAlgorithm(spec, asym, algorithm, "public key");
    PublicKey key;
    try {
      key = keyFactory(asym).generatePublic(new X509EncodedKeySpec(spki));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new IllegalArgumentException(
          spec + " public key: invalid SubjectPublicKeyInfo: " + e.getMessage(), e);
    }
    checkModulus(spec, key, "public key");
    return key;
  }

  /**
   * How to make and recognise one asymmetric spec.
   *
   * @param provider null for the JDK's default providers
   * @param keyOid the AlgorithmIdentifier OID in PKCS#8 and SPKI
   * @param curveOid the named-curve parameter for EC keys, null otherwise
   */
  private record Asymmetric(
      String algorithm,
      Provider provider,
      AlgorithmParameterSpec generationParams,
      ASN1ObjectIdentifier keyOid,
      ASN1ObjectIdentifier curveOid) {}

  private static Asymmetric asymmetricOrNull(KeySpec spec) {
    Provider bc = Providers.bouncyCastle();
    ASN1ObjectIdentifier ec = X9ObjectIdentifiers.id_ecPublicKey;
    return switch (spec) {
      case SYMMETRIC_DEFAULT, HMAC_224, HMAC_256, HMAC_384, HMAC_512 -> null;
      case RSA_2048, RSA_3072, RSA_4096 -> new Asymmetric("RSA", null,
          new RSAKeyGenParameterSpec(spec.size(), RSAKeyGenParameterSpec.F4),
          PKCSObjectIdentifiers.rsaEncryption, null);
      case ECC_NIST_P256 -> jdkCurve("secp256r1", SECObjectIdentifiers.secp256r1);
      case ECC_NIST_P384 -> jdkCurve("secp384r1", SECObjectIdentifiers.secp384r1);
      case ECC_NIST_P521 -> jdkCurve("secp521r1", SECObjectIdentifiers.secp521r1);
      // JDK 16 removed secp256k1 (a "legacy" curve) from SunEC: no generation or signing.
      case ECC_SECG_P256K1 -> new Asymmetric("EC", bc, new ECGenParameterSpec("secp256k1"),
          ec, SECObjectIdentifiers.secp256k1);
      case SM2 -> new Asymmetric("EC", bc, new ECGenParameterSpec("sm2p256v1"),
          ec, GMObjectIdentifiers.sm2p256v1);
      case ECC_NIST_EDWARDS25519 -> new Asymmetric("Ed25519", null, NamedParameterSpec.ED25519,
          EdECObjectIdentifiers.id_Ed25519, null);
      case ML_DSA_44 -> new Asymmetric("ML-DSA", bc, MLDSAParameterSpec.ml_dsa_44,
          NISTObjectIdentifiers.id_ml_dsa_44, null);
      case ML_DSA_65 -> new Asymmetric("ML-DSA", bc, MLDSAParameterSpec.ml_dsa_65,
          NISTObjectIdentifiers.id_ml_dsa_65, null);
      case ML_DSA_87 -> new Asymmetric("ML-DSA", bc, MLDSAParameterSpec.ml_dsa_87,
          NISTObjectIdentifiers.id_ml_dsa_87, null);
    };
  }

  private static Asymmetric jdkCurve(String name, ASN1ObjectIdentifier curveOid) {
    return new Asymmetric("EC", null, new ECGenParameterSpec(name),
        X9ObjectIdentifiers.id_ecPublicKey, curveOid);
  }

  private static Asymmetric requireAsymmetric(KeySpec spec) {
    Objects.requireNonNull(spec, "spec");
    Asymmetric asym = asymmetricOrNull(spec);
    if (asym == null) {
      throw new IllegalArgumentException(spec + " is not an asymmetric key spec");
    }
    return asym;
  }

  private static KeyFactory keyFactory(Asymmetric asym) throws GeneralSecurityException {
    return asym.provider == null
        ? KeyFactory.getInstance(asym.algorithm)
        : KeyFactory.getInstance(asym.algorithm, asym.provider);
  }

  // Checked on the DER itself: KeyFactory "EC" takes any curve and "ML-DSA" any parameter set.
  private static void checkAlgorithm(
      KeySpec spec, Asymmetric asym, AlgorithmIdentifier algorithm, String what) {
    ASN1ObjectIdentifier oid = algorithm.getAlgorithm();
    if (!asym.keyOid.equals(oid)) {
      throw new IllegalArgumentException(spec + " " + what + ": algorithm OID is " + oid
          + ", expected " + asym.keyOid);
    }
    if (asym.curveOid != null) {
      ASN1Encodable curve = algorithm.getParameters();
      if (!asym.curveOid.equals(curve)) {
        throw new IllegalArgumentException(spec + " " + what + ": EC parameters are "
            + (curve instanceof ASN1ObjectIdentifier ? "curve " + curve : "not a named curve")
            + ", expected named curve " + asym.curveOid);
      }
    }
  }

  private static void checkModulus(KeySpec spec, Key key, String what) {
    if (spec.family() == KeySpec.Family.RSA) {
      int bits = ((RSAKey) key).getModulus().bitLength();
      if (bits != spec.size()) {
        throw new IllegalArgumentException(spec + " " + what + ": modulus is " + bits
            + " bits, expected " + spec.size());
      }
    }
  }
}
