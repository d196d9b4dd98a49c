package io.kmsregions.crypto;

import io.kmsregions.key.KeyMaterial;
import io.kmsregions.key.KeySpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;

/**
 * Parsed forms of asymmetric key material, cached: decoding a PKCS#8 RSA or ML-DSA key costs far
 * more than most of the operations that use it.
 *
 * <p>Entries are keyed by the kind of form and the key material id, and hold the encoding they
 * were parsed from; a hit whose encoding differs (not the same array and not equal bytes) is
 * parsed again, so the cache can never hand out another key's material. The cache is bounded:
 * past {@link #MAX_ENTRIES} it is emptied (cheap, and a steady state of more hot keys than that is
 * not this simulator's use).
 */
public final class ParsedKeys {
  static final int MAX_ENTRIES = 4096;

  private record Entry(byte[] encoding, Object parsed) {}

  private static final Map<String, Entry> CACHE = new ConcurrentHashMap<>();

  private ParsedKeys() {}

  /** The JCA private key of {@code material} (see {@link KeyMaterialGenerator#privateKey}). */
  public static PrivateKey privateKey(KeySpec spec, KeyMaterial material) {
    return get("jca-private", material.keyMaterialId(), material.secret(),
        b -> KeyMaterialGenerator.privateKey(spec, b));
  }

  /** The JCA public key of {@code material} (see {@link KeyMaterialGenerator#publicKey}). */
  public static PublicKey publicKey(KeySpec spec, KeyMaterial material) {
    return get("jca-public", material.keyMaterialId(), material.publicKey(),
        b -> KeyMaterialGenerator.publicKey(spec, b));
  }

  /** The Bouncy Castle lightweight private key parameters of {@code material}. */
  public static AsymmetricKeyParameter privateParameters(KeySpec spec, KeyMaterial material) {
    return get("bc-private", material.keyMaterialId(), material.secret(), b -> {
      try {
        return spec.family() == KeySpec.Family.ML_DSA
            ? org.bouncycastle.pqc.crypto.util.PrivateKeyFactory.createKey(b)
            : org.bouncycastle.crypto.util.PrivateKeyFactory.createKey(b);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  /** The Bouncy Castle lightweight public key parameters of {@code material}. */
  public static AsymmetricKeyParameter publicParameters(KeySpec spec, KeyMaterial material) {
    return get("bc-public", material.keyMaterialId(), material.publicKey(), b -> {
      try {
        return spec.family() == KeySpec.Family.ML_DSA
            ? org.bouncycastle.pqc.crypto.util.PublicKeyFactory.createKey(b)
            : org.bouncycastle.crypto.util.PublicKeyFactory.createKey(b);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  @SuppressWarnings("unchecked")
  private static <T> T get(String kind, String materialId, byte[] encoding, Function<byte[], T> parser) {
    if (encoding == null) throw new IllegalArgumentException(kind + ": key material has no such part");
    String key = kind + ":" + materialId;
    Entry e = CACHE.get(key);
    if (e != null && (e.encoding == encoding || Arrays.equals(e.encoding, encoding))) {
      return (T) e.parsed;
    }
    T parsed = parser.apply(encoding);
    if (CACHE.size() >= MAX_ENTRIES) CACHE.clear();
    CACHE.put(key, new Entry(encoding, parsed));
    return parsed;
  }
}
