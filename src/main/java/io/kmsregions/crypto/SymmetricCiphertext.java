package io.kmsregions.crypto;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The ciphertext format of SYMMETRIC_DEFAULT keys (DESIGN.md, invariant 6): AES-256-GCM (NIST SP
 * 800-38D) under the key material, with a header that names the key and the material, so that
 * Decrypt needs no KeyId and any member of a multi-Region key set decrypts it.
 *
 * <pre>
 *   byte     version = 1
 *   byte     L, the length of the key id
 *   L bytes  key id, ASCII (a UUID or mrk-…; never an ARN, so the Region is not bound)
 *   32 bytes key material id (the 64 hex digits, as bytes)
 *   12 bytes IV, random
 *   n bytes  AES-GCM ciphertext, then the 16-byte tag
 * </pre>
 *
 * The associated data is the header up to the IV followed by the encryption context, encoded
 * unambiguously: the entry count, then per entry in key order the UTF-8 key and value, each
 * preceded by its length (4 bytes, big-endian). So {@code {"ab":"c"}} and {@code {"a":"bc"}} differ.
 *
 * <p>Random 96-bit IVs bound the safe number of encryptions per material version to about 2^32
 * (SP 800-38D §8.3); rotation gives a key new material.
 */
public final class SymmetricCiphertext {
  public static final int VERSION = 1;
  public static final int MATERIAL_ID_BYTES = 32;
  public static final int IV_BYTES = 12;
  public static final int TAG_BITS = 128;

  private static final ThreadLocal<Cipher> CIPHER = ThreadLocal.withInitial(() -> {
    try {
      return Cipher.getInstance("AES/GCM/NoPadding");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES/GCM unavailable", e);
    }
  });
  private static final ThreadLocal<SecureRandom> RANDOM = ThreadLocal.withInitial(SecureRandom::new);
  private static final HexFormat HEX = HexFormat.of();

  private SymmetricCiphertext() {}

  /** The parts of a ciphertext's header, as {@link #parse} reads them. */
  public record Header(String keyId, String keyMaterialId, int headerLength) {}

  /**
   * Encrypts {@code plaintext} under {@code material} (32 bytes).
   *
   * @param keyMaterialId 64 lowercase hex digits
   * @param context the encryption context; may be empty, never null
   */
  public static byte[] encrypt(
      String keyId, String keyMaterialId, byte[] material, byte[] plaintext, Map<String, String> context) {
    byte[] id = keyId.getBytes(StandardCharsets.US_ASCII);
    if (id.length > 255) throw new IllegalArgumentException("key id too long");
    int headerLength = 2 + id.length + MATERIAL_ID_BYTES;
    byte[] out = new byte[headerLength + IV_BYTES + plaintext.length + TAG_BITS / 8];
    out[0] = VERSION;
    out[1] = (byte) id.length;
    System.arraycopy(id, 0, out, 2, id.length);
    System.arraycopy(HEX.parseHex(keyMaterialId), 0, out, 2 + id.length, MATERIAL_ID_BYTES);
    byte[] iv = new byte[IV_BYTES];
    RANDOM.get().nextBytes(iv);
    System.arraycopy(iv, 0, out, headerLength, IV_BYTES);
    try {
      Cipher cipher = CIPHER.get();
      cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(material, "AES"), new GCMParameterSpec(TAG_BITS, iv));
      cipher.updateAAD(out, 0, headerLength);
      cipher.updateAAD(encodeContext(context));
      cipher.doFinal(plaintext, 0, plaintext.length, out, headerLength + IV_BYTES);
      return out;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM encryption failed", e);
    }
  }

  /**
   * Reads the header of {@code blob}.
   *
   * @throws IllegalArgumentException if it is not a ciphertext of this format
   */
  public static Header parse(byte[] blob) {
    if (blob.length < 2 || blob[0] != VERSION) throw new IllegalArgumentException("not a ciphertext");
    int idLength = blob[1] & 0xff;
    int headerLength = 2 + idLength + MATERIAL_ID_BYTES;
    if (idLength == 0 || blob.length < headerLength + IV_BYTES + TAG_BITS / 8) {
      throw new IllegalArgumentException("ciphertext too short");
    }
    String keyId = new String(blob, 2, idLength, StandardCharsets.US_ASCII);
    String materialId = HEX.formatHex(blob, 2 + idLength, headerLength);
    return new Header(keyId, materialId, headerLength);
  }

  /**
   * Decrypts {@code blob}, whose header {@link #parse} read.
   *
   * @throws GeneralSecurityException if the blob was altered or the context differs
   */
  public static byte[] decrypt(Header header, byte[] material, byte[] blob, Map<String, String> context)
      throws GeneralSecurityException {
    int ivAt = header.headerLength();
    Cipher cipher = CIPHER.get();
    cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(material, "AES"),
        new GCMParameterSpec(TAG_BITS, blob, ivAt, IV_BYTES));
    cipher.updateAAD(blob, 0, header.headerLength());
    cipher.updateAAD(encodeContext(context));
    int dataAt = ivAt + IV_BYTES;
    return cipher.doFinal(blob, dataAt, blob.length - dataAt);
  }

  /** The unambiguous encoding of an encryption context described above. */
  public static byte[] encodeContext(Map<String, String> context) {
    if (context == null || context.isEmpty()) return new byte[4];
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writeInt(out, context.size());
    for (Map.Entry<String, String> e : new TreeMap<>(context).entrySet()) {
      writeString(out, e.getKey());
      writeString(out, e.getValue());
    }
    return out.toByteArray();
  }

  private static void writeString(ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    writeInt(out, b.length);
    out.write(b, 0, b.length);
  }

  private static void writeInt(ByteArrayOutputStream out, int v) {
    out.write(ByteBuffer.allocate(4).putInt(v).array(), 0, 4);
  }

  /** A new key material id: 64 lowercase hex digits from 32 random bytes. */
  public static String newKeyMaterialId() {
    byte[] b = new byte[MATERIAL_ID_BYTES];
    RANDOM.get().nextBytes(b);
    return HEX.formatHex(b);
  }
}
