package io.kmsregions.crypto;

import io.kmsregions.key.KeyMaterial;
import io.kmsregions.key.KeySpec;
import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.SignatureException;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.nio.charset.StandardCharsets;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.DigestInfo;
import org.bouncycastle.crypto.CipherParameters;
import org.bouncycastle.crypto.CryptoException;
import org.bouncycastle.crypto.Digest;
import org.bouncycastle.crypto.Signer;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.digests.SHA384Digest;
import org.bouncycastle.crypto.digests.SHA512Digest;
import org.bouncycastle.crypto.engines.RSABlindedEngine;
import org.bouncycastle.crypto.params.ECKeyParameters;
import org.bouncycastle.crypto.params.ParametersWithID;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.signers.Ed25519phSigner;
import org.bouncycastle.crypto.signers.PSSSigner;
import org.bouncycastle.crypto.signers.SM2Signer;
import org.bouncycastle.crypto.signers.StandardDSAEncoding;
import org.bouncycastle.pqc.crypto.mldsa.MLDSASigner;

/**
 * Sign and Verify for every KMS signing algorithm (kms-api.md §7 "Signing"), with the key material
 * of a key. Signatures have the encodings AWS KMS returns, so standard verifiers accept them:
 *
 * <ul>
 *   <li>RSASSA-PSS (RFC 8017 §8.1): MGF1 with the message hash, salt length = hash length,
 *       trailer field 1. RSASSA-PKCS1-v1_5 (RFC 8017 §8.2) over the DER DigestInfo.
 *   <li>ECDSA (FIPS 186-5, X9.62): DER {@code SEQUENCE {r, s}} (RFC 3279 §2.2.3), randomized.
 *   <li>SM2DSA (GB/T 32918.2, GM/T 0009-2012): e = SM3(Z_A || M) with the default distinguishing
 *       id {@code 1234567812345678}; DER {@code SEQUENCE {r, s}}. A DIGEST is e itself, so the
 *       caller computes Z_A (which lets callers use another distinguishing id, as AWS documents).
 *       AWS offers SM2 only in its China Regions; kms-regions supports it in every Region.
 *   <li>ED25519_SHA_512: PureEdDSA Ed25519 (RFC 8032 §5.1) over the RAW message.
 *       ED25519_PH_SHA_512: HashEdDSA Ed25519ph with an empty context, taking the 64-byte DIGEST
 *       as its input message: KMS still applies the SHA-512 prehash of Ed25519ph to the bytes it is
 *       given (kms-api.md §7), so a standard Ed25519ph verifier accepts the signature with the
 *       submitted 64 bytes as the message.
 *   <li>ML_DSA_SHAKE_256: ML-DSA (FIPS 204 §5.2) with an empty context, hedged; EXTERNAL_MU signs
 *       the 64-byte message representative mu (FIPS 204 Algorithm 7, line 6) directly.
 * </ul>
 *
 * Providers, from the JMH figures in BENCHMARKS-crypto.md: the JDK for RSA (as fast as Bouncy
 * Castle, with the JDK's intrinsics); Bouncy Castle's lightweight API for ECDSA on every curve and
 * Ed25519 (several times faster than JDK 17's SunEC), and for what JDK 17 lacks (secp256k1, SM2,
 * Ed25519ph, ML-DSA, RSASSA-PSS over a precomputed digest).
 * Message type and digest length are checked by the caller ({@link
 * SigningAlgorithm#messageProblem}); here they are preconditions. All methods are thread-safe.
 */
public final class Signatures {
  /** GM/T 0009-2012 §10: the default user distinguishing identifier of SM2 signatures. */
  public static final byte[] SM2_DEFAULT_ID = "1234567812345678".getBytes(StandardCharsets.US_ASCII);

  private static final SecureRandom RANDOM = new SecureRandom();

  private Signatures() {}

  /**
   * Signs {@code message} with the private key of {@code material}.
   *
   * @param spec the key's spec; {@code algorithm} must be one of its signing algorithms
   * @param type a type {@code algorithm} accepts; for DIGEST and EXTERNAL_MU, {@code message} has
   *     {@link SigningAlgorithm#digestLength()} bytes
   * @throws GeneralSecurityException if the material cannot sign (a broken key)
   */
  public static byte[] sign(
      KeySpec spec, KeyMaterial material, SigningAlgorithm algorithm, MessageType type, byte[] message)
      throws GeneralSecurityException {
    boolean raw = type == MessageType.RAW;
    return switch (algorithm.scheme()) {
      case RSA_PKCS1 -> raw
          ? jcaSign(jcaName(algorithm, "RSA"), null, spec, material, message)
          : jcaSign("NONEwithRSA", null, spec, material, digestInfo(algorithm, message));
      case RSA_PSS -> raw
          ? jcaSign("RSASSA-PSS", pss(algorithm), spec, material, message)
          : bcSign(rawPss(algorithm), new ParametersWithRandom(ParsedKeys.privateParameters(spec, material), RANDOM),
              message);
      case ECDSA -> {
        ECDSASigner signer = new ECDSASigner();
        signer.init(true, new ParametersWithRandom(ParsedKeys.privateParameters(spec, material), RANDOM));
        BigInteger[] rs = signer.generateSignature(raw ? hash(algorithm, message) : message);
        try {
          yield StandardDSAEncoding.INSTANCE.encode(order(spec, material), rs[0], rs[1]);
        } catch (IOException e) {
          throw new SignatureException("cannot encode the ECDSA signature", e);
        }
      }
      case SM2 -> bcSign(raw ? new SM2Signer() : sm2OverDigest(message),
          new ParametersWithID(new ParametersWithRandom(ParsedKeys.privateParameters(spec, material), RANDOM),
              SM2_DEFAULT_ID),
          raw ? message : new byte[0]);
      case ED25519 -> bcSign(new Ed25519Signer(), ParsedKeys.privateParameters(spec, material), message);
      case ED25519_PH -> bcSign(new Ed25519phSigner(new byte[0]), ParsedKeys.privateParameters(spec, material),
          message);
      case ML_DSA -> {
        MLDSASigner signer = new MLDSASigner();
        signer.init(true, new ParametersWithRandom(ParsedKeys.privateParameters(spec, material), RANDOM));
        try {
          if (raw) {
            signer.update(message, 0, message.length);
            yield signer.generateSignature();
          }
          yield signer.generateMuSignature(message);
        } catch (CryptoException e) {
          throw new SignatureException("ML-DSA signing failed", e);
        }
      }
    };
  }

  /**
   * Whether {@code signature} is a valid signature of {@code message} under the public key of
   * {@code material}. A malformed signature is simply not valid.
   *
   * @param type as for {@link #sign}
   */
  public static boolean verify(
      KeySpec spec, KeyMaterial material, SigningAlgorithm algorithm, MessageType type, byte[] message,
      byte[] signature) {
    boolean raw = type == MessageType.RAW;
    try {
      return switch (algorithm.scheme()) {
        case RSA_PKCS1 -> raw
            ? jcaVerify(jcaName(algorithm, "RSA"), null, spec, material, message, signature)
            : jcaVerify("NONEwithRSA", null, spec, material, digestInfo(algorithm, message), signature);
        case RSA_PSS -> raw
            ? jcaVerify("RSASSA-PSS", pss(algorithm), spec, material, message, signature)
            : bcVerify(rawPss(algorithm), ParsedKeys.publicParameters(spec, material), message, signature);
        case ECDSA -> {
          // Strict DER: the decoding is re-encoded and compared, as the JDK's verifier does.
          BigInteger[] rs = StandardDSAEncoding.INSTANCE.decode(order(spec, material), signature);
          ECDSASigner verifier = new ECDSASigner();
          verifier.init(false, ParsedKeys.publicParameters(spec, material));
          yield verifier.verifySignature(raw ? hash(algorithm, message) : message, rs[0], rs[1]);
        }
        case SM2 -> bcVerify(raw ? new SM2Signer() : sm2OverDigest(message),
            new ParametersWithID(ParsedKeys.publicParameters(spec, material), SM2_DEFAULT_ID),
            raw ? message : new byte[0], signature);
        case ED25519 -> bcVerify(new Ed25519Signer(), ParsedKeys.publicParameters(spec, material), message, signature);
        case ED25519_PH -> bcVerify(new Ed25519phSigner(new byte[0]), ParsedKeys.publicParameters(spec, material),
            message, signature);
        case ML_DSA -> {
          MLDSASigner verifier = new MLDSASigner();
          verifier.init(false, ParsedKeys.publicParameters(spec, material));
          if (raw) {
            verifier.update(message, 0, message.length);
            yield verifier.verifySignature(signature);
          }
          yield verifier.verifyMuSignature(message, signature);
        }
      };
    } catch (GeneralSecurityException | IOException | RuntimeException e) {
      // SignatureException for undecodable DER, IllegalArgumentException / DataLengthException
      // from Bouncy Castle for wrong lengths: all mean "this is not a valid signature".
      return false;
    }
  }

  /** The DER DigestInfo of RFC 8017 §9.2 note 1 that PKCS#1 v1.5 signs. */
  static byte[] digestInfo(SigningAlgorithm algorithm, byte[] digest) throws SignatureException {
    ASN1ObjectIdentifier oid = switch (algorithm.hash()) {
      case "SHA-256" -> NISTObjectIdentifiers.id_sha256;
      case "SHA-384" -> NISTObjectIdentifiers.id_sha384;
      case "SHA-512" -> NISTObjectIdentifiers.id_sha512;
      default -> throw new IllegalArgumentException(algorithm + " has no DigestInfo");
    };
    try {
      return new DigestInfo(new AlgorithmIdentifier(oid, DERNull.INSTANCE), digest).getEncoded("DER");
    } catch (IOException e) {
      throw new SignatureException("cannot encode DigestInfo", e);
    }
  }

  /** The algorithm's hash of a RAW message. */
  private static byte[] hash(SigningAlgorithm algorithm, byte[] message) throws GeneralSecurityException {
    return MessageDigest.getInstance(algorithm.hash()).digest(message);
  }

  /** The group order n of an EC key, for the DER encoding of (r, s). */
  private static BigInteger order(KeySpec spec, KeyMaterial material) {
    return ((ECKeyParameters) ParsedKeys.publicParameters(spec, material)).getParameters().getN();
  }

  /** "SHA-256" and "RSA" give "SHA256withRSA". */
  private static String jcaName(SigningAlgorithm algorithm, String scheme) {
    return algorithm.hash().replace("-", "") + "with" + scheme;
  }

  private static PSSParameterSpec pss(SigningAlgorithm algorithm) {
    return new PSSParameterSpec(algorithm.hash(), "MGF1", new MGF1ParameterSpec(algorithm.hash()),
        algorithm.digestLength(), PSSParameterSpec.TRAILER_FIELD_BC);
  }

  /** RSASSA-PSS over a precomputed digest, MGF1 with the same hash, salt length = hash length. */
  private static PSSSigner rawPss(SigningAlgorithm algorithm) {
    return PSSSigner.createRawSigner(new RSABlindedEngine(), bcDigest(algorithm), bcDigest(algorithm),
        algorithm.digestLength(), PSSSigner.TRAILER_IMPLICIT);
  }

  private static Digest bcDigest(SigningAlgorithm algorithm) {
    return switch (algorithm.hash()) {
      case "SHA-256" -> new SHA256Digest();
      case "SHA-384" -> new SHA384Digest();
      case "SHA-512" -> new SHA512Digest();
      default -> throw new IllegalArgumentException(algorithm + " has no SHA-2 hash");
    };
  }

  /**
   * An SM2 signer whose e is the given digest instead of SM3(Z_A || M). Bouncy Castle's SM2Signer
   * derives e from its digest through {@code calculateE}; overriding that one step keeps the rest
   * of the standard algorithm (k, r = (e + x1) mod n, s, and the verification equation) its own.
   */
  private static SM2Signer sm2OverDigest(byte[] e) {
    byte[] digest = e.clone();
    return new SM2Signer() {
      @Override
      protected BigInteger calculateE(BigInteger n, byte[] ignored) {
        return new BigInteger(1, digest);
      }
    };
  }

  private static byte[] jcaSign(
      String name, PSSParameterSpec params, KeySpec spec, KeyMaterial material, byte[] data)
      throws GeneralSecurityException {
    Signature s = Signature.getInstance(name);
    if (params != null) s.setParameter(params);
    s.initSign(ParsedKeys.privateKey(spec, material), RANDOM);
    s.update(data);
    return s.sign();
  }

  private static boolean jcaVerify(
      String name, PSSParameterSpec params, KeySpec spec, KeyMaterial material, byte[] data, byte[] signature)
      throws GeneralSecurityException {
    Signature s = Signature.getInstance(name);
    if (params != null) s.setParameter(params);
    s.initVerify(ParsedKeys.publicKey(spec, material));
    s.update(data);
    return s.verify(signature);
  }

  private static byte[] bcSign(Signer signer, CipherParameters key, byte[] data) throws SignatureException {
    signer.init(true, key);
    signer.update(data, 0, data.length);
    try {
      return signer.generateSignature();
    } catch (CryptoException e) {
      throw new SignatureException("signing failed", e);
    }
  }

  private static boolean bcVerify(Signer verifier, CipherParameters key, byte[] data, byte[] signature) {
    verifier.init(false, key);
    verifier.update(data, 0, data.length);
    return verifier.verifySignature(signature);
  }
}
