package io.kmsregions.crypto;

import io.kmsregions.key.KeyMaterial;
import io.kmsregions.key.KeySpec;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.spec.MGF1ParameterSpec;
import javax.crypto.BadPaddingException;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.digests.SM3Digest;
import org.bouncycastle.crypto.engines.SM2Engine;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.util.BigIntegers;

/**
 * Encrypt and Decrypt with asymmetric ENCRYPT_DECRYPT keys (kms-api.md §7).
 *
 * <ul>
 *   <li>RSAES_OAEP_SHA_1 / RSAES_OAEP_SHA_256: RSAES-OAEP (RFC 8017 §7.1) with the same hash for
 *       MGF1 and an empty label, through the JDK. The ciphertext is the bare k-byte OAEP block, as
 *       in AWS, so a ciphertext made offline with the public key from GetPublicKey (for example
 *       {@code RSA/ECB/OAEPWithSHA-256AndMGF1Padding} with an explicit MGF1-SHA-256 parameter
 *       spec, or {@code openssl pkeyutl -pkeyopt rsa_padding_mode:oaep}) decrypts with KMS.
 *   <li>SM2PKE: SM2 public key encryption (GB/T 32918.4-2016) with SM3, through Bouncy Castle's
 *       SM2Engine. Ciphertexts are written in the standard's C1C3C2 order: C1 = the uncompressed
 *       point {@code 04 || x || y} (65 bytes), C3 = the SM3 hash (32 bytes), C2 = the masked
 *       plaintext; 97 bytes of overhead. Decrypt also accepts the DER form of GM/T 0009-2012
 *       ({@code SEQUENCE {x INTEGER, y INTEGER, hash OCTET STRING, ciphertext OCTET STRING}}),
 *       which other SM2 tools emit. AWS offers SM2 only in its China Regions; kms-regions
 *       supports it in every Region.
 * </ul>
 *
 * Plaintext limits ({@link EncryptionAlgorithm#maxPlaintext}) are checked by the caller.
 */
public final class AsymmetricEncryption {
  private static final SecureRandom RANDOM = new SecureRandom();
  /** C1 (uncompressed point on sm2p256v1) and C3 (SM3) of an SM2 ciphertext. */
  static final int SM2_OVERHEAD = 65 + 32;

  private AsymmetricEncryption() {}

  /** Encrypts {@code plaintext} with the public key of {@code material}. */
  public static byte[] encrypt(KeySpec spec, KeyMaterial material, EncryptionAlgorithm algorithm, byte[] plaintext)
      throws GeneralSecurityException {
    return switch (algorithm) {
      case RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256 -> {
        Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding");
        c.init(Cipher.ENCRYPT_MODE, ParsedKeys.publicKey(spec, material), oaep(algorithm), RANDOM);
        yield c.doFinal(plaintext);
      }
      case SM2PKE -> {
        SM2Engine engine = new SM2Engine(new SM3Digest(), SM2Engine.Mode.C1C3C2);
        engine.init(true, new ParametersWithRandom(ParsedKeys.publicParameters(spec, material), RANDOM));
        try {
          yield engine.processBlock(plaintext, 0, plaintext.length);
        } catch (InvalidCipherTextException e) {
          throw new GeneralSecurityException("SM2 encryption failed", e);
        }
      }
      case SYMMETRIC_DEFAULT -> throw new IllegalArgumentException("not an asymmetric algorithm");
    };
  }

  /**
   * Decrypts {@code ciphertext} with the private key of {@code material}.
   *
   * @throws GeneralSecurityException if it is not a ciphertext of this key and algorithm
   */
  public static byte[] decrypt(KeySpec spec, KeyMaterial material, EncryptionAlgorithm algorithm, byte[] ciphertext)
      throws GeneralSecurityException {
    return switch (algorithm) {
      case RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256 -> {
        if (ciphertext.length != spec.size() / 8) throw new BadPaddingException("wrong ciphertext length");
        Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding");
        c.init(Cipher.DECRYPT_MODE, ParsedKeys.privateKey(spec, material), oaep(algorithm));
        yield c.doFinal(ciphertext);
      }
      case SM2PKE -> {
        byte[] c1c3c2 = sm2C1C3C2(ciphertext);
        SM2Engine engine = new SM2Engine(new SM3Digest(), SM2Engine.Mode.C1C3C2);
        try {
          engine.init(false, ParsedKeys.privateParameters(spec, material));
          yield engine.processBlock(c1c3c2, 0, c1c3c2.length);
        } catch (InvalidCipherTextException | RuntimeException e) {
          // RuntimeException: Bouncy Castle rejects a C1 that is not a curve point that way.
          throw new BadPaddingException("not an SM2 ciphertext of this key");
        }
      }
      case SYMMETRIC_DEFAULT -> throw new IllegalArgumentException("not an asymmetric algorithm");
    };
  }

  /** OAEP with {@code hash} for both the label hash and MGF1, empty label (RFC 8017 §7.1). */
  static OAEPParameterSpec oaep(EncryptionAlgorithm algorithm) {
    return new OAEPParameterSpec(algorithm.hash(), "MGF1", new MGF1ParameterSpec(algorithm.hash()),
        PSource.PSpecified.DEFAULT);
  }

  /** An SM2 ciphertext in C1C3C2 order, from itself or from the GM/T 0009-2012 DER form. */
  static byte[] sm2C1C3C2(byte[] ciphertext) throws BadPaddingException {
    if (ciphertext.length > SM2_OVERHEAD && ciphertext[0] == 0x04) return ciphertext;
    if (ciphertext.length == 0 || ciphertext[0] != 0x30) throw new BadPaddingException("not an SM2 ciphertext");
    try {
      ASN1Sequence s = ASN1Sequence.getInstance(ciphertext);
      if (s.size() != 4) throw new BadPaddingException("not an SM2 ciphertext");
      BigInteger x = ASN1Integer.getInstance(s.getObjectAt(0)).getPositiveValue();
      BigInteger y = ASN1Integer.getInstance(s.getObjectAt(1)).getPositiveValue();
      byte[] hash = ASN1OctetString.getInstance(s.getObjectAt(2)).getOctets();
      byte[] c2 = ASN1OctetString.getInstance(s.getObjectAt(3)).getOctets();
      if (hash.length != 32 || x.bitLength() > 256 || y.bitLength() > 256) {
        throw new BadPaddingException("not an SM2 ciphertext");
      }
      byte[] out = new byte[SM2_OVERHEAD + c2.length];
      out[0] = 0x04;
      BigIntegers.asUnsignedByteArray(x, out, 1, 32);
      BigIntegers.asUnsignedByteArray(y, out, 33, 32);
      System.arraycopy(hash, 0, out, 65, 32);
      System.arraycopy(c2, 0, out, SM2_OVERHEAD, c2.length);
      return out;
    } catch (IllegalArgumentException e) {
      throw new BadPaddingException("not an SM2 ciphertext");
    }
  }
}
