package io.kmsregions.crypto;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.EdDSAParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.digests.SHAKEDigest;
import org.bouncycastle.crypto.digests.SM3Digest;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.math.ec.ECPoint;
import org.bouncycastle.util.BigIntegers;

/**
 * Signing and verification by implementations independent of kms-regions' own code, for the
 * interoperability tests: the JDK's {@link Signature} wherever JDK 17 has the algorithm (RSA
 * PKCS#1 v1.5 and PSS, ECDSA on the NIST curves, Ed25519 and Ed25519ph), else a Bouncy Castle
 * provider of this class's own, through the JCA names any BC user would pick (secp256k1 ECDSA,
 * SM3withSM2, ML-DSA). Digests for MessageType DIGEST and ML-DSA's mu are computed here from their
 * definitions (FIPS 180-4, GB/T 32918.2 §5.5 for Z_A, FIPS 204 Algorithm 7 line 6).
 *
 * <p>Algorithm names are the KMS ones (SigningAlgorithmSpec), as strings, so that tests driving
 * the AWS SDK use them as they are.
 */
public final class IndependentCrypto {
  /** A provider instance of its own: not the one kms-regions' {@link Providers} hands out. */
  public static final Provider BC = new BouncyCastleProvider();
  private static final byte[] SM2_ID = "1234567812345678".getBytes(StandardCharsets.US_ASCII);

  private IndependentCrypto() {}

  /** The JCA public key of a DER SubjectPublicKeyInfo (JDK when it can parse it, else BC). */
  public static PublicKey publicKey(byte[] spki) throws GeneralSecurityException {
    String oid = SubjectPublicKeyInfo.getInstance(spki).getAlgorithm().getAlgorithm().getId();
    X509EncodedKeySpec spec = new X509EncodedKeySpec(spki);
    return switch (oid) {
      case "1.2.840.113549.1.1.1" -> KeyFactory.getInstance("RSA").generatePublic(spec);
      case "1.3.101.112" -> KeyFactory.getInstance("Ed25519").generatePublic(spec);
      case "1.2.840.10045.2.1" -> isJdkCurve(spki)
          ? KeyFactory.getInstance("EC").generatePublic(spec)
          : KeyFactory.getInstance("EC", BC).generatePublic(spec);
      default -> KeyFactory.getInstance("ML-DSA", BC).generatePublic(spec);
    };
  }

  /** The JCA private key of a DER PKCS#8 PrivateKeyInfo, by the algorithm of {@code spki}. */
  public static PrivateKey privateKey(byte[] pkcs8, byte[] spki) throws GeneralSecurityException {
    String oid = SubjectPublicKeyInfo.getInstance(spki).getAlgorithm().getAlgorithm().getId();
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(pkcs8);
    return switch (oid) {
      case "1.2.840.113549.1.1.1" -> KeyFactory.getInstance("RSA").generatePrivate(spec);
      case "1.3.101.112" -> KeyFactory.getInstance("Ed25519").generatePrivate(spec);
      case "1.2.840.10045.2.1" -> isJdkCurve(spki)
          ? KeyFactory.getInstance("EC").generatePrivate(spec)
          : KeyFactory.getInstance("EC", BC).generatePrivate(spec);
      default -> KeyFactory.getInstance("ML-DSA", BC).generatePrivate(spec);
    };
  }

  private static boolean isJdkCurve(byte[] spki) {
    String curve = SubjectPublicKeyInfo.getInstance(spki).getAlgorithm().getParameters().toString();
    return curve.equals("1.2.840.10045.3.1.7") || curve.equals("1.3.132.0.34") || curve.equals("1.3.132.0.35");
  }

  /**
   * A verifier or signer for KMS {@code algorithm} over the RAW message. Ed25519ph is the JDK's
   * EdDSA with the prehash flag (RFC 8032 HashEdDSA, empty context).
   */
  public static Signature signature(String algorithm, byte[] spki) throws GeneralSecurityException {
    return switch (algorithm) {
      case "RSASSA_PKCS1_V1_5_SHA_256" -> Signature.getInstance("SHA256withRSA");
      case "RSASSA_PKCS1_V1_5_SHA_384" -> Signature.getInstance("SHA384withRSA");
      case "RSASSA_PKCS1_V1_5_SHA_512" -> Signature.getInstance("SHA512withRSA");
      case "RSASSA_PSS_SHA_256" -> pss("SHA-256", 32);
      case "RSASSA_PSS_SHA_384" -> pss("SHA-384", 48);
      case "RSASSA_PSS_SHA_512" -> pss("SHA-512", 64);
      case "ECDSA_SHA_256" -> isJdkCurve(spki) ? Signature.getInstance("SHA256withECDSA")
          : Signature.getInstance("SHA256withECDSA", BC);
      case "ECDSA_SHA_384" -> Signature.getInstance("SHA384withECDSA");
      case "ECDSA_SHA_512" -> Signature.getInstance("SHA512withECDSA");
      case "SM2DSA" -> Signature.getInstance("SM3withSM2", BC);
      case "ML_DSA_SHAKE_256" -> Signature.getInstance("ML-DSA", BC);
      case "ED25519_SHA_512" -> Signature.getInstance("Ed25519");
      case "ED25519_PH_SHA_512" -> {
        Signature s = Signature.getInstance("Ed25519");
        s.setParameter(new EdDSAParameterSpec(true));
        yield s;
      }
      default -> throw new IllegalArgumentException(algorithm);
    };
  }

  private static Signature pss(String hash, int saltLength) throws GeneralSecurityException {
    Signature s = Signature.getInstance("RSASSA-PSS");
    s.setParameter(new PSSParameterSpec(hash, "MGF1", new MGF1ParameterSpec(hash), saltLength, 1));
    return s;
  }

  /** Whether an independent verifier accepts {@code signature} over the RAW {@code message}. */
  public static boolean verify(String algorithm, byte[] spki, byte[] message, byte[] signature)
      throws GeneralSecurityException {
    Signature s = signature(algorithm, spki);
    s.initVerify(publicKey(spki));
    s.update(message);
    try {
      return s.verify(signature);
    } catch (java.security.SignatureException e) {
      return false;
    }
  }

  /** An independent signature over the RAW {@code message}. */
  public static byte[] sign(String algorithm, byte[] pkcs8, byte[] spki, byte[] message)
      throws GeneralSecurityException {
    Signature s = signature(algorithm, spki);
    s.initSign(privateKey(pkcs8, spki));
    s.update(message);
    return s.sign();
  }

  /**
   * What a caller sends as MessageType DIGEST to sign {@code message}: its hash under the
   * algorithm's hash function; for SM2DSA e = SM3(Z_A || M) with the default distinguishing id.
   */
  public static byte[] digest(String algorithm, byte[] spki, byte[] message) throws GeneralSecurityException {
    if (algorithm.equals("SM2DSA")) {
      byte[] z = sm2Z(spki);
      SM3Digest sm3 = new SM3Digest();
      sm3.update(z, 0, z.length);
      sm3.update(message, 0, message.length);
      byte[] e = new byte[32];
      sm3.doFinal(e, 0);
      return e;
    }
    String hash = algorithm.endsWith("SHA_256") ? "SHA-256" : algorithm.endsWith("SHA_384") ? "SHA-384" : "SHA-512";
    return MessageDigest.getInstance(hash).digest(message);
  }

  /** Z_A of GB/T 32918.2 §5.5: SM3(ENTL || ID || a || b || x_G || y_G || x_A || y_A). */
  static byte[] sm2Z(byte[] spki) {
    X9ECParameters p = CustomNamedCurves.getByName("sm2p256v1");
    ECPoint q = p.getCurve().decodePoint(SubjectPublicKeyInfo.getInstance(spki).getPublicKeyData().getOctets())
        .normalize();
    ECPoint g = p.getG().normalize();
    SM3Digest d = new SM3Digest();
    int bits = SM2_ID.length * 8;
    d.update((byte) (bits >> 8));
    d.update((byte) bits);
    d.update(SM2_ID, 0, SM2_ID.length);
    for (BigInteger v : new BigInteger[] {p.getCurve().getA().toBigInteger(), p.getCurve().getB().toBigInteger(),
        g.getAffineXCoord().toBigInteger(), g.getAffineYCoord().toBigInteger(),
        q.getAffineXCoord().toBigInteger(), q.getAffineYCoord().toBigInteger()}) {
      byte[] b = BigIntegers.asUnsignedByteArray(32, v);
      d.update(b, 0, 32);
    }
    byte[] z = new byte[32];
    d.doFinal(z, 0);
    return z;
  }

  /**
   * ML-DSA's message representative mu for the pure variant with an empty context (FIPS 204
   * Algorithms 2 and 7): SHAKE256(SHAKE256(pk, 64) || 0x00 || 0x00 || M, 64).
   */
  public static byte[] mu(byte[] spki, byte[] message) {
    byte[] pk = SubjectPublicKeyInfo.getInstance(spki).getPublicKeyData().getOctets();
    byte[] tr = new byte[64];
    SHAKEDigest shake = new SHAKEDigest(256);
    shake.update(pk, 0, pk.length);
    shake.doFinal(tr, 0, 64);
    SHAKEDigest m = new SHAKEDigest(256);
    m.update(tr, 0, tr.length);
    m.update((byte) 0);
    m.update((byte) 0);
    m.update(message, 0, message.length);
    byte[] mu = new byte[64];
    m.doFinal(mu, 0, 64);
    return mu;
  }
}
