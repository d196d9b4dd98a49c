package io.kmsregions.imports;

import io.kmsregions.crypto.AsymmetricEncryption;
import io.kmsregions.crypto.EncryptionAlgorithm;
import io.kmsregions.crypto.KeyMaterialGenerator;
import io.kmsregions.key.KeyMaterial;
import io.kmsregions.key.KeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.spec.MGF1ParameterSpec;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.InvalidCipherTextException;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.engines.RFC5649WrapEngine;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.RSAKeyParameters;
import org.bouncycastle.crypto.params.RSAPrivateCrtKeyParameters;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.SubjectPublicKeyInfoFactory;

/**
 * The cryptography of importing key material (kms-api.md §7 "Import"): making wrapping key
 * pairs, unwrapping what a client wrapped with them, checking that the material fits the key's
 * spec, and naming it. Pure functions, safe on any thread; RSA key generation takes up to seconds
 * (RSA_4096), so callers run it off actor and HTTP threads.
 */
public final class KeyMaterialImport {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final HexFormat HEX = HexFormat.of();
  /** GetParametersForImport: the public key and import token are valid 24 hours (kms-api.md §2). */
  public static final long VALIDITY_MILLIS = 24L * 60 * 60 * 1000;

  private KeyMaterialImport() {}

  /** Why material cannot be imported: the message of IncorrectKeyMaterialException. */
  public static final class InvalidMaterialException extends Exception {
    public InvalidMaterialException(String message) {
      super(message);
    }
  }

  /**
   * New import parameters with a fresh wrapping key pair, valid 24 hours from the time on
   * {@code clock} once the pair exists (an RSA_4096 pair may take seconds to make).
   */
  public static ImportParameters newParameters(WrappingAlgorithm algorithm, WrappingKeySpec spec,
      java.util.function.LongSupplier clock) {
    KeyMaterialGenerator.GeneratedMaterial pair = KeyMaterialGenerator.generate(spec.keySpec());
    long now = clock.getAsLong();
    byte[] id = new byte[16];
    RANDOM.nextBytes(id);
    return new ImportParameters(HEX.formatHex(id), algorithm.name(), spec.name(), pair.secret(),
        pair.publicKey(), now + VALIDITY_MILLIS);
  }

  /**
   * The import token of {@code parameters} issued by {@code keyId}: a version byte, the token id
   * and the key id. It carries no secret; the issuing key looks the id up.
   */
  public static byte[] token(String keyId, ImportParameters parameters) {
    byte[] id = HEX.parseHex(parameters.tokenId());
    byte[] key = keyId.getBytes(StandardCharsets.US_ASCII);
    byte[] token = new byte[1 + id.length + key.length];
    token[0] = 1;
    System.arraycopy(id, 0, token, 1, id.length);
    System.arraycopy(key, 0, token, 1 + id.length, key.length);
    return token;
  }

  /** The token id and key id of an import token, or null when it is not one of ours. */
  public static String[] parseToken(byte[] token) {
    if (token == null || token.length < 18 || token[0] != 1) return null;
    String keyId = new String(token, 17, token.length - 17, StandardCharsets.US_ASCII);
    return new String[] {HEX.formatHex(token, 1, 17), keyId};
  }

  /**
   * Unwraps {@code encrypted} with the wrapping private key of {@code parameters}.
   *
   * @throws GeneralSecurityException when it was not wrapped with this key and algorithm
   */
  public static byte[] unwrap(ImportParameters parameters, byte[] encrypted) throws GeneralSecurityException {
    WrappingAlgorithm algorithm = WrappingAlgorithm.valueOf(parameters.wrappingAlgorithm());
    KeySpec spec = WrappingKeySpec.valueOf(parameters.wrappingKeySpec()).keySpec();
    KeyMaterial wrapping = new KeyMaterial("wrapping-" + parameters.tokenId(), parameters.privateKey(),
        parameters.publicKey(), 0);
    if (algorithm == WrappingAlgorithm.SM2PKE) {
      return AsymmetricEncryption.decrypt(spec, wrapping, EncryptionAlgorithm.SM2PKE, encrypted);
    }
    int rsaBytes = spec.size() / 8;
    if (!algorithm.aesKeyWrap()) return rsaOaep(spec, wrapping, algorithm, encrypted);
    // RSA_AES_KEY_WRAP_*: the RSA-OAEP ciphertext of an ephemeral AES key, then the material
    // under that key with AES key wrap with padding (RFC 5649).
    if (encrypted.length <= rsaBytes) throw new GeneralSecurityException("no AES-wrapped part");
    byte[] aesKey = rsaOaep(spec, wrapping, algorithm, Arrays.copyOf(encrypted, rsaBytes));
    if (aesKey.length != 16 && aesKey.length != 24 && aesKey.length != 32) {
      throw new GeneralSecurityException("the ephemeral AES key has " + aesKey.length + " bytes");
    }
    RFC5649WrapEngine kwp = new RFC5649WrapEngine(AESEngine.newInstance());
    kwp.init(false, new KeyParameter(aesKey));
    try {
      return kwp.unwrap(encrypted, rsaBytes, encrypted.length - rsaBytes);
    } catch (InvalidCipherTextException | RuntimeException e) {
      throw new GeneralSecurityException("AES key unwrap failed", e);
    }
  }

  private static byte[] rsaOaep(KeySpec spec, KeyMaterial wrapping, WrappingAlgorithm algorithm, byte[] c)
      throws GeneralSecurityException {
    if (c.length != spec.size() / 8) throw new GeneralSecurityException("wrong RSA ciphertext length");
    Cipher cipher = Cipher.getInstance("RSA/ECB/OAEPPadding");
    cipher.init(Cipher.DECRYPT_MODE, KeyMaterialGenerator.privateKey(spec, wrapping.secret()),
        new OAEPParameterSpec(algorithm.hash(), "MGF1", new MGF1ParameterSpec(algorithm.hash()),
            PSource.PSpecified.DEFAULT));
    return cipher.doFinal(c);
  }

  /**
   * Checks that {@code material} is key material of {@code spec} in the reference's format
   * (kms-api.md §7): 32 raw bytes for SYMMETRIC_DEFAULT; raw bytes of 28–64, 32–64, 48–128 or
   * 64–128 for HMAC_224/256/384/512; a DER PKCS#8 private key of exactly the spec (algorithm,
   * curve, modulus) for asymmetric keys.
   *
   * @return the public key (DER SubjectPublicKeyInfo) of asymmetric material; null otherwise
   * @throws InvalidMaterialException when it is not
   */
  public static byte[] check(KeySpec spec, byte[] material) throws InvalidMaterialException {
    switch (spec.family()) {
      case SYMMETRIC -> {
        if (material.length != 32) {
          throw new InvalidMaterialException("Key material for a " + spec + " key must be 32 bytes (256 bits), not "
              + material.length + ".");
        }
        return null;
      }
      case HMAC -> {
        int min = spec.size() / 8;
        int max = spec == KeySpec.HMAC_224 || spec == KeySpec.HMAC_256 ? 64 : 128;
        if (material.length < min || material.length > max) {
          throw new InvalidMaterialException("Key material for a " + spec + " key must be " + min + " to " + max
              + " bytes, not " + material.length + ".");
        }
        return null;
      }
      default -> {
        try {
          KeyMaterialGenerator.privateKey(spec, material); // algorithm, curve and modulus of the spec
          byte[] spki = publicKeyOf(material);
          KeyMaterialGenerator.publicKey(spec, spki);
          return spki;
        } catch (IllegalArgumentException | GeneralSecurityException e) {
          throw new InvalidMaterialException("Key material for a " + spec
              + " key must be a DER-encoded PKCS#8 private key of that key spec: " + e.getMessage());
        }
      }
    }
  }

  /** The public key of a PKCS#8 private key, as DER SubjectPublicKeyInfo. */
  static byte[] publicKeyOf(byte[] pkcs8) throws GeneralSecurityException {
    try {
      AsymmetricKeyParameter priv = PrivateKeyFactory.createKey(pkcs8);
      AsymmetricKeyParameter pub;
      if (priv instanceof RSAPrivateCrtKeyParameters rsa) {
        pub = new RSAKeyParameters(false, rsa.getModulus(), rsa.getPublicExponent());
      } else if (priv instanceof ECPrivateKeyParameters ec) {
        pub = new ECPublicKeyParameters(ec.getParameters().getG().multiply(ec.getD()).normalize(), ec.getParameters());
      } else if (priv instanceof Ed25519PrivateKeyParameters ed) {
        pub = ed.generatePublicKey();
      } else if (priv instanceof org.bouncycastle.pqc.crypto.mldsa.MLDSAPrivateKeyParameters ml) {
        pub = ml.getPublicKeyParameters();
      } else {
        throw new InvalidKeyException("unsupported private key type " + priv.getClass().getSimpleName());
      }
      return SubjectPublicKeyInfoFactory.createSubjectPublicKeyInfo(pub).getEncoded("DER");
    } catch (java.io.IOException | RuntimeException e) {
      throw new InvalidKeyException("not a usable PKCS#8 private key: " + e.getMessage(), e);
    }
  }

  /**
   * The key material id of imported material: 64 lowercase hex characters derived from the key id
   * and the material, as AWS derives it (so every Region of a multi-Region key names the same
   * material alike, and re-importing different material shows as a different id). An HMAC keyed
   * with the material, so the id reveals nothing of it. Asymmetric material is named by its
   * public key, so two encodings of one key pair are the same material.
   */
  public static String keyMaterialId(String keyId, KeySpec spec, byte[] material, byte[] publicKey) {
    byte[] label = ("kms-regions imported key material\0" + keyId).getBytes(StandardCharsets.US_ASCII);
    try {
      if (publicKey != null) {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(label);
        return HEX.formatHex(sha.digest(publicKey));
      }
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(material, "HmacSHA256"));
      return HEX.formatHex(mac.doFinal(label));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 or HmacSHA256 is missing", e);
    }
  }

}
