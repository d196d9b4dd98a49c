package io.kmsregions.imports;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import javax.crypto.Cipher;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.crypto.digests.SM3Digest;
import org.bouncycastle.crypto.engines.SM2Engine;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.crypto.util.PublicKeyFactory;

/**
 * Wraps key material for ImportKeyMaterial the way a client does, independently of the server's
 * code: the JDK's RSA-OAEP and the JDK's AES key wrap with padding ({@code AES/KWP/NoPadding},
 * RFC 5649; the server unwraps with Bouncy Castle's RFC5649WrapEngine), and Bouncy Castle's SM2
 * engine for SM2PKE (C1C3C2).
 */
final class ImportWrapping {
  private static final SecureRandom RANDOM = new SecureRandom();

  private ImportWrapping() {}

  static byte[] wrap(String algorithm, byte[] publicKeySpki, byte[] material) {
    try {
      return wrapChecked(algorithm, publicKeySpki, material);
    } catch (Exception e) {
      throw new IllegalStateException(algorithm + " wrapping failed", e);
    }
  }

  private static byte[] wrapChecked(String algorithm, byte[] publicKeySpki, byte[] material) throws Exception {
    switch (algorithm) {
      case "RSAES_OAEP_SHA_1":
        return oaep("SHA-1", publicKeySpki, material);
      case "RSAES_OAEP_SHA_256":
        return oaep("SHA-256", publicKeySpki, material);
      case "RSA_AES_KEY_WRAP_SHA_1":
      case "RSA_AES_KEY_WRAP_SHA_256": {
        byte[] aes = new byte[32];
        RANDOM.nextBytes(aes);
        byte[] wrappedKey = oaep(algorithm.endsWith("SHA_1") ? "SHA-1" : "SHA-256", publicKeySpki, aes);
        Cipher kwp = Cipher.getInstance("AES/KWP/NoPadding");
        kwp.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(aes, "AES"));
        byte[] wrappedMaterial = kwp.doFinal(material);
        byte[] out = new byte[wrappedKey.length + wrappedMaterial.length];
        System.arraycopy(wrappedKey, 0, out, 0, wrappedKey.length);
        System.arraycopy(wrappedMaterial, 0, out, wrappedKey.length, wrappedMaterial.length);
        return out;
      }
      case "SM2PKE": {
        SM2Engine engine = new SM2Engine(new SM3Digest(), SM2Engine.Mode.C1C3C2);
        engine.init(true, new ParametersWithRandom(
            PublicKeyFactory.createKey(SubjectPublicKeyInfo.getInstance(publicKeySpki)), RANDOM));
        return engine.processBlock(material, 0, material.length);
      }
      default:
        throw new IllegalArgumentException(algorithm);
    }
  }

  private static byte[] oaep(String hash, byte[] spki, byte[] data) throws GeneralSecurityException {
    PublicKey key = KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(spki));
    Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding");
    c.init(Cipher.ENCRYPT_MODE, key,
        new OAEPParameterSpec(hash, "MGF1", new MGF1ParameterSpec(hash), PSource.PSpecified.DEFAULT));
    return c.doFinal(data);
  }
}
