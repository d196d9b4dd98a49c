package io.kmsregions.crypto;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.EnumMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * GenerateMac and VerifyMac (kms-api.md §7 "HMAC"): HMAC (RFC 2104) with SHA-224/256/384/512
 * (FIPS 180-4), the full-length tag, from the JDK. Verification compares in constant time.
 */
public final class Macs {
  /** The KMS MAC algorithms (API reference: MacAlgorithmSpec), in the service model's order. */
  public enum MacAlgorithm {
    HMAC_SHA_224("HmacSHA224"),
    HMAC_SHA_256("HmacSHA256"),
    HMAC_SHA_384("HmacSHA384"),
    HMAC_SHA_512("HmacSHA512");

    private final String jcaName;

    MacAlgorithm(String jcaName) {
      this.jcaName = jcaName;
    }

    public String jcaName() {
      return jcaName;
    }
  }

  // Mac.getInstance walks the provider list; one instance per thread and algorithm avoids that.
  private static final ThreadLocal<Map<MacAlgorithm, Mac>> MACS = ThreadLocal.withInitial(
      () -> new EnumMap<>(MacAlgorithm.class));

  private Macs() {}

  /** The HMAC of {@code message} under {@code key}. */
  public static byte[] mac(MacAlgorithm algorithm, byte[] key, byte[] message) {
    try {
      Mac mac = MACS.get().get(algorithm);
      if (mac == null) {
        mac = Mac.getInstance(algorithm.jcaName());
        MACS.get().put(algorithm, mac);
      }
      mac.init(new SecretKeySpec(key, algorithm.jcaName()));
      return mac.doFinal(message);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(algorithm + " unavailable", e);
    }
  }

  /** Whether {@code tag} is the HMAC of {@code message} under {@code key} (constant time). */
  public static boolean verify(MacAlgorithm algorithm, byte[] key, byte[] message, byte[] tag) {
    return MessageDigest.isEqual(mac(algorithm, key, message), tag);
  }
}
