package io.kmsregions.keystore.xks;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The proxy's AES-256-GCM and the Ciphertext Data Integrity Value, as the XKS Proxy API
 * specification defines them ("Encrypt", "Decrypt", Appendix C).
 *
 * <p>The AAD given to AES-GCM is not the caller's {@code additionalAuthenticatedData} alone but
 * {@code u16be(len(aad)) || aad || u8(len(ciphertextMetadata)) || ciphertextMetadata}, as the
 * specification asks, so metadata can never be passed off as AAD or the reverse. This proxy emits
 * no ciphertextMetadata (its length byte is then 0); one passed to decrypt is bound all the same.
 */
final class XksCipher {
  static final int KEY_BYTES = 32;
  static final int IV_BYTES = 12;
  static final int TAG_BYTES = 16;
  /** Largest ciphertextMetadata the specification allows, in bytes. */
  static final int MAX_METADATA_BYTES = 20;
  private static final SecureRandom RANDOM = new SecureRandom();

  private XksCipher() {}

  /** An encrypt result: the four binary fields of the specification's Encrypt response. */
  record Sealed(byte[] ciphertext, byte[] iv, byte[] tag, byte[] metadata) {}

  static byte[] randomKey() {
    byte[] k = new byte[KEY_BYTES];
    RANDOM.nextBytes(k);
    return k;
  }

  /** AES-256-GCM with a fresh random 12-byte IV and a 16-byte tag. */
  static Sealed encrypt(byte[] key, byte[] plaintext, byte[] aad) throws GeneralSecurityException {
    byte[] iv = new byte[IV_BYTES];
    RANDOM.nextBytes(iv);
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BYTES * 8, iv));
    c.updateAAD(gcmAad(aad, null));
    byte[] out = c.doFinal(plaintext);
    int n = out.length - TAG_BYTES;
    return new Sealed(Arrays.copyOf(out, n), iv, Arrays.copyOfRange(out, n, out.length), null);
  }

  /**
   * The plaintext, or AEADBadTagException when the ciphertext, IV, tag, AAD or metadata is not
   * what encrypt produced.
   */
  static byte[] decrypt(byte[] key, byte[] ciphertext, byte[] iv, byte[] tag, byte[] aad, byte[] metadata)
      throws GeneralSecurityException {
    Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
    c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(TAG_BYTES * 8, iv));
    c.updateAAD(gcmAad(aad, metadata));
    byte[] in = ByteBuffer.allocate(ciphertext.length + tag.length).put(ciphertext).put(tag).array();
    return c.doFinal(in);
  }

  /** Whether a decrypt failure is a bad tag (the caller's input) rather than a fault of this proxy. */
  static boolean isBadTag(GeneralSecurityException e) {
    return e instanceof AEADBadTagException;
  }

  /** {@code u16be(len(aad)) || aad || u8(len(metadata)) || metadata}; absent fields have length 0. */
  static byte[] gcmAad(byte[] aad, byte[] metadata) {
    byte[] a = aad == null ? new byte[0] : aad;
    byte[] m = metadata == null ? new byte[0] : metadata;
    if (a.length > 0xffff || m.length > 0xff) throw new IllegalArgumentException("AAD or metadata too long");
    return ByteBuffer.allocate(2 + a.length + 1 + m.length)
        .putShort((short) a.length).put(a).put((byte) m.length).put(m).array();
  }

  /**
   * The Ciphertext Data Integrity Value: SHA-256 over
   * {@code aad || ciphertextMetadata || iv || ciphertext || tag}, absent fields empty (Appendix C).
   */
  static byte[] cdiv(byte[] aad, byte[] metadata, byte[] iv, byte[] ciphertext, byte[] tag) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      if (aad != null) d.update(aad);
      if (metadata != null) d.update(metadata);
      d.update(iv);
      d.update(ciphertext);
      d.update(tag);
      return d.digest();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
